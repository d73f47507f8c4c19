"""SQLAlchemy table definitions of the shop's database.

Only ``kefu.store`` imports this module: actions see the typed records of
``kefu.store.records``, never ORM objects, so a session can never leak into a conversation.
Money is stored as whole cents and handled as ``Decimal``: exact on every backend (SQLite
has no decimal type and would round through floats).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import BigInteger, TypeDecorator

Base = declarative_base()


class Money(TypeDecorator):  # type: ignore[type-arg]
    """A ``Decimal`` amount with two decimals, stored as integer cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


MONEY = Money()


class CustomerRow(Base):
    __tablename__ = "customers"

    id: str = Column(String(64), primary_key=True)
    first_name: str = Column(String(100), nullable=False)
    last_name: str = Column(String(100), nullable=False)
    email: str = Column(String(255), nullable=False, unique=True, index=True)
    address1: str = Column(String(255), nullable=False)
    address2: str = Column(String(255), nullable=False, default="")
    city: str = Column(String(100), nullable=False)
    state: str = Column(String(50), nullable=False)
    country: str = Column(String(100), nullable=False)
    zip: str = Column(String(20), nullable=False, index=True)
    # Position of each customer in the seed file, so that an export keeps its order.
    seed_position: int = Column(Integer, nullable=False, default=0)

    payment_methods: List[PaymentMethodRow] = relationship(
        "PaymentMethodRow", order_by="PaymentMethodRow.position", back_populates="customer"
    )
    orders: List[OrderRow] = relationship("OrderRow", order_by="OrderRow.customer_position", back_populates="customer")


class PaymentMethodRow(Base):
    __tablename__ = "payment_methods"

    id: str = Column(String(64), primary_key=True)
    customer_id: str = Column(ForeignKey("customers.id"), nullable=False, index=True)
    position: int = Column(Integer, nullable=False, default=0)
    source: str = Column(String(32), nullable=False)  # gift_card | paypal | credit_card
    brand: str | None = Column(String(32))
    last_four: str | None = Column(String(4))
    balance: Decimal | None = Column(MONEY)
    # Gift card balances change with refunds: concurrent writers must not lose an update.
    version: int = Column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    customer: CustomerRow = relationship("CustomerRow", back_populates="payment_methods")

    @property
    def is_gift_card(self) -> bool:
        return self.source == "gift_card"


class ProductRow(Base):
    __tablename__ = "products"

    id: str = Column(String(32), primary_key=True)
    name: str = Column(String(100), nullable=False, index=True)
    seed_position: int = Column(Integer, nullable=False, default=0)

    variants: List[VariantRow] = relationship("VariantRow", order_by="VariantRow.position", back_populates="product")


class VariantRow(Base):
    __tablename__ = "variants"

    item_id: str = Column(String(32), primary_key=True)
    product_id: str = Column(ForeignKey("products.id"), nullable=False, index=True)
    position: int = Column(Integer, nullable=False, default=0)
    options: Dict[str, str] = Column(JSON, nullable=False)
    price: Decimal = Column(MONEY, nullable=False)
    available: bool = Column(Boolean, nullable=False)

    product: ProductRow = relationship("ProductRow", back_populates="variants")


class OrderRow(Base):
    __tablename__ = "orders"

    id: str = Column(String(32), primary_key=True)
    customer_id: str = Column(ForeignKey("customers.id"), nullable=False, index=True)
    # Position of the order in its customer's list, and of the order in the seed file.
    customer_position: int = Column(Integer, nullable=False, default=0)
    seed_position: int = Column(Integer, nullable=False, default=0)
    status: str = Column(String(64), nullable=False, index=True)
    address1: str = Column(String(255), nullable=False)
    address2: str = Column(String(255), nullable=False, default="")
    city: str = Column(String(100), nullable=False)
    state: str = Column(String(50), nullable=False)
    country: str = Column(String(100), nullable=False)
    zip: str = Column(String(20), nullable=False)
    ordered_on: dt.date = Column(Date, nullable=False)
    # Set by the flows that change an order; exported under the same keys as the seed's tools.
    cancel_reason: str | None = Column(String(64))
    return_items: List[str] | None = Column(JSON)
    return_payment_method_id: str | None = Column(String(64))
    exchange_items: List[str] | None = Column(JSON)
    exchange_new_items: List[str] | None = Column(JSON)
    exchange_payment_method_id: str | None = Column(String(64))
    exchange_price_difference: Decimal | None = Column(MONEY)
    # Optimistic concurrency: every write bumps it, a write based on a stale read fails.
    version: int = Column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}

    customer: CustomerRow = relationship("CustomerRow", back_populates="orders")
    items: List[OrderItemRow] = relationship("OrderItemRow", order_by="OrderItemRow.position", back_populates="order")
    fulfillments: List[FulfillmentRow] = relationship(
        "FulfillmentRow", order_by="FulfillmentRow.position", back_populates="order"
    )
    payments: List[PaymentRow] = relationship("PaymentRow", order_by="PaymentRow.position", back_populates="order")


class OrderItemRow(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    order_id: str = Column(ForeignKey("orders.id"), nullable=False, index=True)
    position: int = Column(Integer, nullable=False)
    item_id: str = Column(String(32), nullable=False)
    product_id: str = Column(String(32), nullable=False)
    name: str = Column(String(100), nullable=False)
    price: Decimal = Column(MONEY, nullable=False)
    options: Dict[str, str] = Column(JSON, nullable=False)

    order: OrderRow = relationship("OrderRow", back_populates="items")


class FulfillmentRow(Base):
    __tablename__ = "fulfillments"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    order_id: str = Column(ForeignKey("orders.id"), nullable=False, index=True)
    position: int = Column(Integer, nullable=False)
    tracking_ids: List[str] = Column(JSON, nullable=False)
    item_ids: List[str] = Column(JSON, nullable=False)
    carrier: str = Column(String(32), nullable=False)
    shipped_on: dt.date = Column(Date, nullable=False)
    expected_delivery_on: dt.date = Column(Date, nullable=False)
    delivered_on: dt.date | None = Column(Date)

    order: OrderRow = relationship("OrderRow", back_populates="fulfillments")


class PaymentRow(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    order_id: str = Column(ForeignKey("orders.id"), nullable=False, index=True)
    position: int = Column(Integer, nullable=False)
    transaction_type: str = Column(String(32), nullable=False)  # payment | refund
    amount: Decimal = Column(MONEY, nullable=False)
    payment_method_id: str = Column(String(64), nullable=False)

    order: OrderRow = relationship("OrderRow", back_populates="payments")


class AuditRow(Base):
    """One row per write: who changed what, when, and from which conversation."""

    __tablename__ = "audit_log"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)
    conversation_id: str | None = Column(String(255), index=True)
    actor: str = Column(String(64), nullable=False)
    action: str = Column(String(64), nullable=False)
    entity: str = Column(String(64), nullable=False)
    entity_id: str = Column(String(64), nullable=False)
    changes: Dict[str, Any] = Column(JSON, nullable=False)


class TicketRow(Base):
    """A conversation a human agent should see: why, how urgent, what was tried, who has it."""

    __tablename__ = "tickets"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    created_at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)
    updated_at: dt.datetime = Column(DateTime(timezone=True), nullable=False)
    conversation_id: str = Column(String(255), nullable=False, index=True)
    channel: str = Column(String(64), nullable=False, default="")
    customer_id: str | None = Column(String(64), index=True)
    language: str = Column(String(8), nullable=False, default="en")
    reason: str = Column(String(64), nullable=False)
    request_type: str | None = Column(String(32))
    # open -> assigned -> (waiting for the customer) -> resolved; see kefu.store.records.TicketState
    state: str = Column(String(32), nullable=False, default="open", index=True)
    # True while the agent has the conversation (Rasa's ConversationPaused): the bot is silent.
    paused: bool = Column(Boolean, nullable=False, default=False)
    sentiment_scores: List[float] = Column(JSON, nullable=False, default=list)
    order_ids: List[str] = Column(JSON, nullable=False, default=list)
    order_value: Decimal | None = Column(Money)
    # {"tried": [...], "failed_at": "...", "intents": [...]}: what Kefu did before the handoff.
    summary: Dict[str, Any] = Column(JSON, nullable=False, default=dict)
    customer_words: str = Column(Text, nullable=False, default="")
    customer_words_english: str | None = Column(Text)
    machine_translated: bool = Column(Boolean, nullable=False, default=False)
    assigned_to: str | None = Column(String(64))
    note: str = Column(Text, nullable=False, default="")
    first_agent_reply_at: dt.datetime | None = Column(DateTime(timezone=True))
    resolved_at: dt.datetime | None = Column(DateTime(timezone=True))

    messages = relationship(
        "TicketMessageRow", back_populates="ticket", order_by="TicketMessageRow.id", cascade="all, delete-orphan"
    )


class TicketMessageRow(Base):
    """One line of a ticket's transcript: the customer's, Kefu's, an agent's or a system note."""

    __tablename__ = "ticket_messages"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id: int = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    at: dt.datetime = Column(DateTime(timezone=True), nullable=False)
    author: str = Column(String(16), nullable=False)  # customer | bot | agent | system
    agent_name: str | None = Column(String(64))
    text: str = Column(Text, nullable=False)
    # A message for the customer not yet handed to their channel (REST has no push).
    delivered: bool = Column(Boolean, nullable=False, default=True)

    ticket = relationship("TicketRow", back_populates="messages")


class ReviewRow(Base):
    """A change outside the automatic rules, waiting for an agent's approval (the review queue)."""

    __tablename__ = "reviews"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    created_at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)
    conversation_id: str = Column(String(255), nullable=False, index=True)
    customer_id: str = Column(String(64), nullable=False)
    ticket_id: int | None = Column(Integer, ForeignKey("tickets.id", ondelete="SET NULL"))
    kind: str = Column(String(32), nullable=False)  # the change plan's kind: return, cancel, exchange
    order_id: str = Column(String(16), nullable=False)
    amount: Decimal = Column(Money, nullable=False)
    rule: str = Column(Text, nullable=False)  # which rule sent it here, in words
    plan: Dict[str, Any] = Column(JSON, nullable=False)  # the change exactly as the customer confirmed it
    language: str = Column(String(8), nullable=False, default="en")
    state: str = Column(String(16), nullable=False, default="pending", index=True)
    decided_by: str | None = Column(String(64))
    decided_at: dt.datetime | None = Column(DateTime(timezone=True))
    decision_reason: str | None = Column(Text)


class AgentRow(Base):
    """A human agent's console account; the password only as an Argon2 hash."""

    __tablename__ = "agents"

    name: str = Column(String(64), primary_key=True)
    display_name: str = Column(String(128), nullable=False)
    password_hash: str = Column(String(255), nullable=False)
    active: bool = Column(Boolean, nullable=False, default=True)
    created_at: dt.datetime = Column(DateTime(timezone=True), nullable=False)
    last_seen_at: dt.datetime | None = Column(DateTime(timezone=True))


class AgentSessionRow(Base):
    """A logged-in console: the cookie's token only as a hash, with its CSRF token and expiry."""

    __tablename__ = "agent_sessions"

    token_hash: str = Column(String(64), primary_key=True)
    agent_name: str = Column(String(64), ForeignKey("agents.name", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token: str = Column(String(64), nullable=False)
    created_at: dt.datetime = Column(DateTime(timezone=True), nullable=False)
    expires_at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)


class MessageSignalRow(Base):
    """What the NLU read off one customer message (never its text), for the daily report."""

    __tablename__ = "message_signals"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)
    conversation_id: str = Column(String(255), nullable=False, index=True)
    channel: str = Column(String(64), nullable=False, default="")
    language: str = Column(String(8), nullable=False, default="en")
    intent: str = Column(String(64), nullable=False, default="")
    request_type: str | None = Column(String(32))
    sentiment_score: float | None = Column(Float)
    # The message reached a person rather than Kefu (the conversation was paused).
    to_agent: bool = Column(Boolean, nullable=False, default=False)


class FeedbackRow(Base):
    """What a customer said about the shop (feedback and complaints), for the shop's own review."""

    __tablename__ = "feedback"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)
    conversation_id: str = Column(String(255), nullable=False)
    customer_id: str | None = Column(String(64))
    kind: str = Column(String(16), nullable=False)  # feedback | complaint
    language: str = Column(String(8), nullable=False, default="en")
    sentiment_score: float | None = Column(Float)
    text: str = Column(Text, nullable=False)


class WriteRequestRow(Base):
    """Idempotency: a write is applied once per request id, however often it is retried."""

    __tablename__ = "write_requests"

    request_id: str = Column(String(255), primary_key=True)
    at: dt.datetime = Column(DateTime(timezone=True), nullable=False)
    action: str = Column(String(64), nullable=False)
    entity_id: str = Column(String(64), nullable=False)


class IdentificationFailureRow(Base):
    """One failed identification attempt counted against a key: a customer or a hashed source.

    Kept in the store, not in a conversation, so that limits hold across conversations; keys are
    opaque to the store (the caller hashes client addresses before they get here).
    """

    __tablename__ = "identification_failures"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    key: str = Column(String(128), nullable=False, index=True)
    at: dt.datetime = Column(DateTime(timezone=True), nullable=False, index=True)

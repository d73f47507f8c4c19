"""Typed, immutable results of the store API: what actions read instead of rows or SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, Tuple


@dataclass(frozen=True)
class Address:
    address1: str
    address2: str
    city: str
    state: str
    country: str
    zip: str

    def one_line(self) -> str:
        street = ", ".join(part for part in (self.address1, self.address2) if part)
        return f"{street}, {self.city}, {self.state} {self.zip}, {self.country}"


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    source: str  # gift_card | paypal | credit_card
    brand: str | None = None
    last_four: str | None = None
    balance: Decimal | None = None

    @property
    def is_gift_card(self) -> bool:
        return self.source == "gift_card"

    def describe(self) -> str:
        if self.source == "credit_card":
            return f"{(self.brand or 'credit').title()} card ending in {self.last_four}"
        if self.is_gift_card:
            return f"gift card (balance ${self.balance:.2f})"
        if self.source == "paypal":
            return "PayPal"
        return self.source


@dataclass(frozen=True)
class Customer:
    id: str
    first_name: str
    last_name: str
    email: str
    address: Address
    payment_methods: Tuple[PaymentMethod, ...]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Variant:
    item_id: str
    product_id: str
    options: Dict[str, str]
    price: Decimal
    available: bool

    def describe_options(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.options.items())


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    variants: Tuple[Variant, ...]

    @property
    def available_variants(self) -> Tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.available)


@dataclass(frozen=True)
class OrderItem:
    item_id: str
    product_id: str
    name: str
    price: Decimal
    options: Dict[str, str]


@dataclass(frozen=True)
class Fulfillment:
    tracking_ids: Tuple[str, ...]
    item_ids: Tuple[str, ...]
    carrier: str
    shipped_on: dt.date
    expected_delivery_on: dt.date
    delivered_on: dt.date | None


@dataclass(frozen=True)
class Payment:
    transaction_type: str  # payment | refund
    amount: Decimal
    payment_method_id: str


@dataclass(frozen=True)
class Order:
    id: str
    customer_id: str
    status: str
    ordered_on: dt.date
    address: Address
    items: Tuple[OrderItem, ...]
    fulfillments: Tuple[Fulfillment, ...]
    payments: Tuple[Payment, ...]
    cancel_reason: str | None = None
    return_items: Tuple[str, ...] | None = None
    return_payment_method_id: str | None = None
    exchange_items: Tuple[str, ...] | None = None
    exchange_new_items: Tuple[str, ...] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: Decimal | None = None

    @property
    def total(self) -> Decimal:
        return sum((item.price for item in self.items), Decimal("0"))

    @property
    def original_payment(self) -> Payment | None:
        """The payment the order was placed with: later rows are changes and refunds after it."""
        return self.payments[0] if self.payments else None

    @property
    def original_payment_method_id(self) -> str | None:
        original = self.original_payment
        return original.payment_method_id if original else None

    @property
    def tracking_ids(self) -> Tuple[str, ...]:
        return tuple(t for f in self.fulfillments for t in f.tracking_ids)


@dataclass(frozen=True)
class OrderSummary:
    """Enough to tell orders apart in a list without loading every item."""

    id: str
    status: str
    ordered_on: dt.date
    item_names: Tuple[str, ...]


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    conversation_id: str | None
    actor: str
    action: str
    entity: str
    entity_id: str
    changes: Dict[str, object]


class TicketState:
    """A ticket's states. Open: waiting for an agent; assigned: an agent has it (the conversation is
    paused); waiting: the agent waits for the customer; resolved: done, the bot has it again."""

    OPEN = "open"
    ASSIGNED = "assigned"
    WAITING = "waiting"
    RESOLVED = "resolved"
    ACTIVE = (OPEN, ASSIGNED, WAITING)


@dataclass(frozen=True)
class TranscriptLine:
    at: dt.datetime
    author: str  # customer | bot | agent | system
    text: str
    agent_name: str | None = None


@dataclass(frozen=True)
class TicketDraft:
    """What an action knows when it hands a conversation to a person."""

    conversation_id: str
    channel: str
    customer_id: str | None
    language: str
    reason: str
    request_type: str | None
    sentiment_scores: Tuple[float, ...]
    order_ids: Tuple[str, ...]
    summary: Dict[str, object]
    customer_words: str
    customer_words_english: str | None
    machine_translated: bool
    transcript: Tuple[TranscriptLine, ...]
    paused: bool  # the agent takes the conversation over; False: the ticket is for the record


@dataclass(frozen=True)
class TicketMessage:
    id: int
    at: dt.datetime
    author: str
    text: str
    agent_name: str | None
    delivered: bool


@dataclass(frozen=True)
class Ticket:
    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
    conversation_id: str
    channel: str
    customer_id: str | None
    language: str
    reason: str
    request_type: str | None
    state: str
    paused: bool
    sentiment_scores: Tuple[float, ...]
    order_ids: Tuple[str, ...]
    order_value: Decimal | None
    summary: Dict[str, object]
    customer_words: str
    customer_words_english: str | None
    machine_translated: bool
    assigned_to: str | None
    note: str
    first_agent_reply_at: dt.datetime | None
    resolved_at: dt.datetime | None

    @property
    def lowest_sentiment(self) -> float | None:
        return min(self.sentiment_scores) if self.sentiment_scores else None


@dataclass(frozen=True)
class Review:
    id: int
    created_at: dt.datetime
    conversation_id: str
    customer_id: str
    ticket_id: int | None
    kind: str
    order_id: str
    amount: Decimal
    rule: str
    plan: Dict[str, object]
    language: str
    state: str  # pending | approved | declined
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None


@dataclass(frozen=True)
class Agent:
    name: str
    display_name: str
    password_hash: str
    active: bool
    last_seen_at: dt.datetime | None


@dataclass(frozen=True)
class AgentSession:
    agent: Agent
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class FeedbackEntry:
    id: int
    at: dt.datetime
    conversation_id: str
    customer_id: str | None
    kind: str
    language: str
    sentiment_score: float | None
    text: str


@dataclass(frozen=True)
class ChangeResult:
    """What a write did. ``replayed``: the same request was applied before, nothing changed now."""

    action: str
    order: Order | None = None
    customer: Customer | None = None
    replayed: bool = False


@dataclass(frozen=True)
class MessageSignals:
    """What the NLU read off one customer message; the text itself is not kept."""

    at: dt.datetime
    conversation_id: str
    channel: str
    language: str
    intent: str
    request_type: str | None
    sentiment_score: float | None
    to_agent: bool

"""The store interface that actions call, and the errors it raises.

A backend implements :class:`Store`; ``kefu.store.open_store`` picks one from configuration.
All reads are scoped by customer where the data is a customer's own: asking for another
customer's order returns ``None``, exactly as for an order that does not exist, so a
conversation can never learn that someone else's order exists.
"""

from __future__ import annotations

import abc
import datetime as dt
import re
from decimal import Decimal
from typing import Dict, List, Sequence

from kefu.store.records import (
    Address,
    Agent,
    AgentSession,
    AuditEntry,
    ChangeResult,
    Customer,
    FeedbackEntry,
    MessageSignals,
    Order,
    OrderSummary,
    Product,
    Review,
    Ticket,
    TicketDraft,
    TicketMessage,
)

ORDER_ID_PATTERN = re.compile(r"#?\s*w\s*(\d{7})\b", re.IGNORECASE)
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class StoreError(Exception):
    """Base class of the store's errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or read (down, corrupt); the conversation should apologise, not crash."""


class ChangeRefused(StoreError):
    """The shop's rules do not allow this change; ``code`` says which rule, for the dialogue."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NeedsReview(ChangeRefused):
    """The change is outside the automatic rules: an agent approves it first (the review queue)."""

    def __init__(self, rule: str, amount: Decimal) -> None:
        super().__init__("needs_review", rule)
        self.rule = rule
        self.amount = amount


class UnknownRecord(StoreError):
    """The ticket, review or agent named does not exist (or is no longer in a state to act on)."""


class ConcurrentChange(StoreError):
    """Someone else changed the same order or gift card meanwhile; nothing was written."""


def normalize_order_id(text: str) -> str | None:
    """Return the canonical ``#W1234567`` form of an order id written in ``text``, if any."""
    match = ORDER_ID_PATTERN.search(text or "")
    return f"#W{match.group(1)}" if match else None


def normalize_email(text: str) -> str | None:
    match = EMAIL_PATTERN.search(text or "")
    return match.group(0).strip(".").lower() if match else None


class Store(abc.ABC):
    """Read and write the shop's data. Every method may raise :class:`StoreUnavailable`."""

    # Customers
    @abc.abstractmethod
    def find_customer_by_email(self, email: str) -> Customer | None: ...

    @abc.abstractmethod
    def find_customer_by_name_and_zip(self, first_name: str, last_name: str, zip_code: str) -> Customer | None: ...

    @abc.abstractmethod
    def get_customer(self, customer_id: str) -> Customer | None: ...

    # Orders: always scoped to the authenticated customer.
    @abc.abstractmethod
    def list_orders(self, customer_id: str) -> List[OrderSummary]:
        """The customer's orders, newest first."""

    @abc.abstractmethod
    def get_order(self, order_id: str, customer_id: str) -> Order | None:
        """The order if it exists and belongs to the customer, else ``None``."""

    @abc.abstractmethod
    def customer_orders(self, customer_id: str) -> List[Order]:
        """The customer's orders in full, newest first (as ``list_orders``), read together."""

    @abc.abstractmethod
    def order_history(self) -> List[Order]:
        """Every customer's orders, oldest first: read-only, for training models, never for a conversation."""

    # Catalogue
    @abc.abstractmethod
    def list_products(self) -> List[Product]: ...

    @abc.abstractmethod
    def get_product(self, product_id: str) -> Product | None: ...

    # Changes: each checks the shop's rules (ShopRules) and the order's state in one transaction,
    # raises ChangeRefused (NeedsReview among them) or ConcurrentChange, and is audited. The same
    # request_id applied twice writes once (the second result has ``replayed``).
    @abc.abstractmethod
    def cancel_order(
        self, customer_id: str, order_id: str, reason: str, conversation_id: str | None, request_id: str | None = None
    ) -> ChangeResult: ...

    @abc.abstractmethod
    def change_order_address(
        self,
        customer_id: str,
        order_id: str,
        address: Address,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult: ...

    @abc.abstractmethod
    def change_order_payment(
        self,
        customer_id: str,
        order_id: str,
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        """Pay with another method; the original payment is refunded."""

    @abc.abstractmethod
    def change_order_items(
        self,
        customer_id: str,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult:
        """Items of an unsent order to other versions; the difference settled with the method."""

    @abc.abstractmethod
    def return_items(
        self,
        customer_id: str,
        order_id: str,
        item_ids: Sequence[str],
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult: ...

    @abc.abstractmethod
    def exchange_items(
        self,
        customer_id: str,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        conversation_id: str | None,
        request_id: str | None = None,
    ) -> ChangeResult: ...

    @abc.abstractmethod
    def change_customer_address(
        self, customer_id: str, address: Address, conversation_id: str | None, request_id: str | None = None
    ) -> ChangeResult:
        """The customer's default address (the profile, not an order)."""

    # The human desk (tickets, review queue, agents): kefu/store/desk.py for SQL.
    @abc.abstractmethod
    def open_ticket(self, draft: TicketDraft) -> Ticket:
        """A ticket for the conversation, with its transcript (audited).

        A conversation has one active ticket at a time: when it has one already, that ticket is
        returned, taking the draft's reason and pause when the draft pauses the conversation.
        """

    @abc.abstractmethod
    def active_ticket(self, conversation_id: str) -> Ticket | None: ...

    @abc.abstractmethod
    def get_ticket(self, ticket_id: int) -> Ticket | None: ...

    @abc.abstractmethod
    def list_tickets(self, states: Sequence[str]) -> List[Ticket]:
        """Tickets in these states, oldest first (the inbox sorts them by priority)."""

    @abc.abstractmethod
    def ticket_messages(self, ticket_id: int, after_id: int = 0) -> List[TicketMessage]: ...

    @abc.abstractmethod
    def add_ticket_message(
        self, ticket_id: int, author: str, text: str, agent_name: str | None = None, delivered: bool = True
    ) -> TicketMessage: ...

    @abc.abstractmethod
    def update_ticket(
        self,
        ticket_id: int,
        *,
        state: str | None = None,
        paused: bool | None = None,
        assigned_to: str | None = None,
        note: str | None = None,
        actor: str = "kefu",
    ) -> Ticket:
        """Change a ticket's state, pause, agent or note (audited with ``actor``); raises UnknownRecord."""

    @abc.abstractmethod
    def undelivered_messages(self, conversation_id: str) -> List[TicketMessage]:
        """Messages for the customer (an agent's, or Kefu's after a hand-back) that their channel could not push yet."""

    @abc.abstractmethod
    def mark_delivered(self, message_ids: Sequence[int]) -> None: ...

    @abc.abstractmethod
    def submit_review(
        self, conversation_id: str, customer_id: str, plan: Dict[str, object], refused: NeedsReview, language: str
    ) -> Review:
        """Put a confirmed change that needs approval in the review queue (audited)."""

    @abc.abstractmethod
    def list_reviews(self, states: Sequence[str]) -> List[Review]: ...

    @abc.abstractmethod
    def get_review(self, review_id: int) -> Review | None: ...

    @abc.abstractmethod
    def decide_review(self, review_id: int, agent_name: str, approve: bool, reason: str = "") -> Review:
        """Approve (the change is written, audited as the agent's) or decline a pending review.

        Raises UnknownRecord for a review that is missing or already decided, and ChangeRefused
        when the order no longer allows the change (the review stays pending)."""

    @abc.abstractmethod
    def add_agent(self, name: str, display_name: str, password_hash: str) -> Agent:
        """Create an agent account, or replace the password and name of an existing one."""

    @abc.abstractmethod
    def get_agent(self, name: str) -> Agent | None: ...

    @abc.abstractmethod
    def agents_seen_since(self, moment: dt.datetime) -> int:
        """How many agents used the console at or after ``moment`` (connected agents)."""

    @abc.abstractmethod
    def create_agent_session(
        self, agent_name: str, token_hash: str, csrf_token: str, expires_at: dt.datetime
    ) -> None: ...

    @abc.abstractmethod
    def agent_session(self, token_hash: str, now: dt.datetime) -> AgentSession | None:
        """The unexpired session of an active agent, marking the agent as seen now."""

    @abc.abstractmethod
    def end_agent_session(self, token_hash: str) -> None: ...

    @abc.abstractmethod
    def record_feedback(
        self,
        conversation_id: str,
        customer_id: str | None,
        kind: str,
        language: str,
        sentiment_score: float | None,
        text: str,
    ) -> FeedbackEntry: ...

    @abc.abstractmethod
    def list_feedback(self, since: dt.datetime) -> List[FeedbackEntry]: ...

    @abc.abstractmethod
    def record_message_signals(self, signals: Sequence[MessageSignals]) -> None: ...

    @abc.abstractmethod
    def message_signals(self, since: dt.datetime, until: dt.datetime) -> List[MessageSignals]:
        """The messages' signals with ``since <= at < until``, oldest first."""

    @abc.abstractmethod
    def audit_log(self, conversation_id: str | None = None) -> List[AuditEntry]: ...

    # Identification attempts: counted per key across conversations, so limits survive a new chat.
    @abc.abstractmethod
    def record_failed_identification(self, keys: Sequence[str], at: dt.datetime | None = None) -> None:
        """Count one failed attempt against each key, in one transaction.

        Keys are opaque strings chosen by the caller (``"customer:<id>"``, ``"source:<hash>"``);
        empty keys are ignored and a key given twice is counted once. ``at`` defaults to now (UTC).
        """

    @abc.abstractmethod
    def failed_identifications(self, key: str, since: dt.datetime) -> int:
        """How many failed attempts were counted against ``key`` at or after ``since``."""

    @abc.abstractmethod
    def clear_failed_identifications(self, key: str) -> None:
        """Forget the key's failed attempts (after the customer has been identified)."""

    @abc.abstractmethod
    def prune_identification_failures(self, before: dt.datetime) -> int:
        """Delete the failed attempts older than ``before``; return how many."""

    @abc.abstractmethod
    def check_health(self) -> None:
        """Raise :class:`StoreUnavailable` when the database cannot be used."""

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
from typing import List, Sequence

from kefu.store.records import (
    AuditEntry,
    Customer,
    HandoffRequest,
    Order,
    OrderSummary,
    Product,
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
    def order_history(self) -> List[Order]:
        """Every customer's orders, oldest first: read-only, for training models, never for a conversation."""

    # Catalogue
    @abc.abstractmethod
    def list_products(self) -> List[Product]: ...

    @abc.abstractmethod
    def get_product(self, product_id: str) -> Product | None: ...

    @abc.abstractmethod
    def find_products(self, text: str) -> List[Product]:
        """Products whose name the text mentions, best match first."""

    # Human handoff and audit
    @abc.abstractmethod
    def request_handoff(
        self, conversation_id: str, customer_id: str | None, reason: str, note: str = ""
    ) -> HandoffRequest:
        """Record that this conversation needs a human agent (written to the audit log)."""

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

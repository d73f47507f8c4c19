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

    def describe(self) -> str:
        if self.source == "credit_card":
            return f"{(self.brand or 'credit').title()} card ending in {self.last_four}"
        if self.source == "gift_card":
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


@dataclass(frozen=True)
class HandoffRequest:
    id: int
    at: dt.datetime
    conversation_id: str
    customer_id: str | None
    reason: str
    note: str
    status: str


@dataclass(frozen=True)
class ChangeResult:
    """What a write did. ``replayed``: the same request was applied before, nothing changed now."""

    action: str
    order: Order | None = None
    customer: Customer | None = None
    replayed: bool = False

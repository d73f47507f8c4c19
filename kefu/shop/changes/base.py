"""What every change kind is: one object the dialogue, the store and the review queue share."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Mapping, Tuple

from kefu.config import ShopRules
from kefu.store.base import Store
from kefu.store.records import ChangeResult, Customer, Order, PaymentMethod, Product

# A confirmed plan as the ``change_plan`` slot keeps it (JSON): {"kind": ..., "order_id": ..., ...}.
Plan = Mapping[str, Any]


@dataclass(frozen=True)
class Proposal:
    """What Kefu says to propose a plan: a response of the domain and its placeholders."""

    response: str
    facts: Dict[str, Any]


@dataclass(frozen=True)
class ChangeFacts:
    """What a proposal reads: the customer, the order as it is now, the shop's rules."""

    customer: Customer
    order: Order | None
    rules: ShopRules
    products: Mapping[str, Product]  # the order's products by id (for exchanges and item changes)

    def method(self, payment_method_id: str | None) -> PaymentMethod | None:
        return next((m for m in self.customer.payment_methods if m.id == payment_method_id), None)

    def refund_timing(self, method: PaymentMethod | None) -> str:
        return self.rules.refund_delay_gift_card if method and method.is_gift_card else self.rules.refund_delay_other


class ChangeKind(abc.ABC):
    """One kind of change: its form and slots, the rule on statuses, its plan, proposal and write."""

    name: ClassVar[str]
    # The form that collects it and the slots it fills besides ``change_order_id``.
    form: ClassVar[str]
    slots: ClassVar[Tuple[str, ...]]
    # What Kefu says once the change is written.
    applied_response: ClassVar[str]
    # A change of the customer's profile names no order.
    about_an_order: ClassVar[bool] = True
    # Products of the order a proposal needs (exchanges and item changes price the new versions).
    reads_products: ClassVar[bool] = False
    # Kefu suggests products once it is written (an exchange: the customer still likes the product).
    suggests_after: ClassVar[bool] = False

    def allowed_statuses(self, rules: ShopRules) -> Tuple[str, ...]:
        return rules.statuses_allowing(self.name)

    def plan(self, slots: Mapping[str, Any]) -> Plan | None:
        """The plan the form collected, or None while something is missing."""
        order_id = slots.get("change_order_id")
        if self.about_an_order and not order_id:
            return None
        details = self.details(slots)
        if details is None:
            return None
        return {"kind": self.name, **({"order_id": order_id} if self.about_an_order else {}), **details}

    @abc.abstractmethod
    def details(self, slots: Mapping[str, Any]) -> Dict[str, Any] | None:
        """The kind's own part of the plan from the form's slots; None while one is missing."""

    @abc.abstractmethod
    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        """Exactly what will happen, for the customer's yes or no."""

    @abc.abstractmethod
    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        """The store call; raises ChangeRefused (NeedsReview among them) or ConcurrentChange."""

    def describe(self, plan: Plan) -> str:
        """The plan in a line an agent reads in the review queue."""
        return f"{self.name} {plan.get('order_id', '')}".strip()

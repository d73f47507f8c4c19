"""Paying an order not sent yet with another of the customer's methods; the first is refunded."""

from __future__ import annotations

from typing import Any, Dict, Mapping

from kefu.shop.changes.base import ChangeFacts, ChangeKind, Plan, Proposal
from kefu.shop.wording import money
from kefu.store.base import Store
from kefu.store.records import ChangeResult


class OrderPayment(ChangeKind):
    name = "order_payment"
    form = "payment_form"
    slots = ("new_payment_method_id",)
    applied_response = "utter_payment_changed"

    def details(self, slots: Mapping[str, Any]) -> Dict[str, Any] | None:
        method = slots.get("new_payment_method_id")
        return {"payment_method_id": method} if method else None

    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        order = facts.order
        original = order.original_payment
        old_method = facts.method(original.payment_method_id if original else None)
        return Proposal(
            "utter_propose_payment",
            {
                "order_id": order.id,
                "amount": money(original.amount) if original else money(order.total),
                "new_method": facts.method(plan["payment_method_id"]).describe(),
                "old_method": old_method.describe() if old_method else "original payment method",
                "timing": facts.refund_timing(old_method),
            },
        )

    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        return store.change_order_payment(
            customer_id, plan["order_id"], plan["payment_method_id"], conversation_id, request_id
        )

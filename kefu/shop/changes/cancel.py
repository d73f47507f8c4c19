"""Cancelling an order the shop has not sent yet: every payment refunded to where it came from."""

from __future__ import annotations

from typing import Any, Dict, Mapping

from kefu.shop.changes.base import ChangeFacts, ChangeKind, Plan, Proposal
from kefu.shop.wording import joined, money
from kefu.store.base import Store
from kefu.store.records import ChangeResult


class Cancel(ChangeKind):
    name = "cancel"
    form = "cancel_form"
    slots = ("cancel_reason",)
    applied_response = "utter_cancelled"

    def details(self, slots: Mapping[str, Any]) -> Dict[str, Any] | None:
        reason = slots.get("cancel_reason")
        return {"reason": reason} if reason else None

    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        order = facts.order
        refunds = joined(
            f"{money(p.amount)} to your {method.describe()} {facts.refund_timing(method)}"
            for p in order.payments
            if (method := facts.method(p.payment_method_id)) is not None
        )
        return Proposal(
            "utter_propose_cancel",
            {
                "order_id": order.id,
                "items": joined(i.name for i in order.items),
                "reason": plan["reason"],
                "refunds": refunds,
            },
        )

    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        return store.cancel_order(customer_id, plan["order_id"], plan["reason"], conversation_id, request_id)

    def describe(self, plan: Plan) -> str:
        return f"Cancel {plan.get('order_id', '')} ({plan.get('reason')})"

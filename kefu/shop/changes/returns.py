"""Returning delivered items, refunded to the original payment method or a gift card (kefu.yml)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Mapping

from kefu.config import ShopRules
from kefu.shop.changes.base import ChangeFacts, ChangeKind, Plan, Proposal
from kefu.shop.wording import joined, money
from kefu.store.base import Store
from kefu.store.records import ChangeResult, Customer, Order, PaymentMethod


def refund_destinations(rules: ShopRules, customer: Customer, order: Order) -> List[PaymentMethod]:
    """Where a return may be refunded: the original payment method and/or gift cards (kefu.yml)."""
    allowed = rules.return_refund_to
    return [
        m
        for m in customer.payment_methods
        if ("original" in allowed and m.id == order.original_payment_method_id)
        or ("gift_card" in allowed and m.is_gift_card)
    ]


class Return(ChangeKind):
    name = "return"
    form = "return_form"
    slots = ("return_item_ids", "refund_method_id")
    applied_response = "utter_return_requested"

    def details(self, slots: Mapping[str, Any]) -> Dict[str, Any] | None:
        items, method = slots.get("return_item_ids"), slots.get("refund_method_id")
        return {"item_ids": list(items), "payment_method_id": method} if items and method else None

    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        order = facts.order
        returned = [i for i in order.items if i.item_id in plan["item_ids"]]
        return Proposal(
            "utter_propose_return",
            {
                "order_id": order.id,
                "items": joined(f"{i.name} ({money(i.price)})" for i in returned),
                "total": money(sum((i.price for i in returned), Decimal(0))),
                "method": facts.method(plan["payment_method_id"]).describe(),
            },
        )

    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        return store.return_items(
            customer_id, plan["order_id"], plan["item_ids"], plan["payment_method_id"], conversation_id, request_id
        )

    def describe(self, plan: Plan) -> str:
        return (
            f"Return {len(plan.get('item_ids') or [])} item(s) of {plan.get('order_id', '')}, "
            f"refund to {plan.get('payment_method_id')}"
        )

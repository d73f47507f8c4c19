"""A confirmed change plan (the ``change_plan`` slot's JSON) written through the store API.

The dialogue builds a plan, the customer says yes, and this writes it: straight away when the
shop's rules allow it, or later, when an agent approves it from the review queue. One mapping
from plan kinds to store calls serves both.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

from kefu.store.base import Store
from kefu.store.records import Address, ChangeResult

Plan = Mapping[str, Any]
Writer = Callable[[Store, str, Plan, str, str | None], ChangeResult]

WRITERS: Dict[str, Writer] = {
    "cancel": lambda store, customer, plan, conversation, request: store.cancel_order(
        customer, plan["order_id"], plan["reason"], conversation, request
    ),
    "return": lambda store, customer, plan, conversation, request: store.return_items(
        customer, plan["order_id"], plan["item_ids"], plan["payment_method_id"], conversation, request
    ),
    "exchange": lambda store, customer, plan, conversation, request: store.exchange_items(
        customer,
        plan["order_id"],
        plan["item_ids"],
        plan["new_item_ids"],
        plan["payment_method_id"],
        conversation,
        request,
    ),
    "modify_items": lambda store, customer, plan, conversation, request: store.change_order_items(
        customer,
        plan["order_id"],
        plan["item_ids"],
        plan["new_item_ids"],
        plan["payment_method_id"],
        conversation,
        request,
    ),
    "order_address": lambda store, customer, plan, conversation, request: store.change_order_address(
        customer, plan["order_id"], Address(**plan["address"]), conversation, request
    ),
    "order_payment": lambda store, customer, plan, conversation, request: store.change_order_payment(
        customer, plan["order_id"], plan["payment_method_id"], conversation, request
    ),
    "profile_address": lambda store, customer, plan, conversation, request: store.change_customer_address(
        customer, Address(**plan["address"]), conversation, request
    ),
}


def apply_plan(
    store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
) -> ChangeResult:
    """Write the plan; raises ChangeRefused (with NeedsReview among them) or ConcurrentChange."""
    try:
        writer = WRITERS[plan["kind"]]
    except KeyError as error:
        raise ValueError(f"unknown change plan kind {plan.get('kind')!r}") from error
    return writer(store, customer_id, plan, conversation_id, request_id)


def describe_plan(plan: Plan) -> str:
    """The plan in a line an agent reads in the review queue."""
    kind = plan.get("kind")
    order = plan.get("order_id", "")
    if kind == "cancel":
        return f"Cancel {order} ({plan.get('reason')})"
    if kind == "return":
        return f"Return {len(plan.get('item_ids') or [])} item(s) of {order}, refund to {plan.get('payment_method_id')}"
    if kind == "exchange":
        return f"Exchange {len(plan.get('item_ids') or [])} item(s) of {order}"
    return f"{kind} {order}".strip()

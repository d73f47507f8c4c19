"""The change kinds, one object each, and the two things done with a confirmed plan.

A new kind is a new ``ChangeKind`` here (its form, slots, plan, proposal and store write), its
statuses in kefu.yml ``rules:`` and its form and responses in the domain; the actions need no
edit.
"""

from __future__ import annotations

from typing import Dict

from kefu.shop.changes.addresses import OrderAddress, ProfileAddress
from kefu.shop.changes.base import ChangeFacts, ChangeKind, Plan, Proposal
from kefu.shop.changes.cancel import Cancel
from kefu.shop.changes.payment import OrderPayment
from kefu.shop.changes.returns import Return, refund_destinations
from kefu.shop.changes.swaps import Exchange, ModifyItems
from kefu.store.base import Store
from kefu.store.records import ChangeResult

KINDS: Dict[str, ChangeKind] = {
    kind.name: kind
    for kind in (Cancel(), Return(), Exchange(), ModifyItems(), OrderAddress(), OrderPayment(), ProfileAddress())
}
BY_FORM: Dict[str, ChangeKind] = {kind.form: kind for kind in KINDS.values()}
# Every slot a change form fills, cleared when a change ends.
CHANGE_SLOTS = ("change_order_id", *dict.fromkeys(s for kind in KINDS.values() for s in kind.slots), "change_blocked")

__all__ = [
    "BY_FORM",
    "CHANGE_SLOTS",
    "KINDS",
    "ChangeFacts",
    "ChangeKind",
    "Plan",
    "Proposal",
    "apply_plan",
    "describe_plan",
    "kind_of",
    "refund_destinations",
]


def kind_of(plan: Plan) -> ChangeKind:
    try:
        return KINDS[plan["kind"]]
    except KeyError as error:
        raise ValueError(f"unknown change plan kind {plan.get('kind')!r}") from error


def apply_plan(
    store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
) -> ChangeResult:
    """Write the plan; raises ChangeRefused (with NeedsReview among them) or ConcurrentChange."""
    return kind_of(plan).write(store, customer_id, plan, conversation_id, request_id)


def describe_plan(plan: Plan) -> str:
    """The plan in a line an agent reads in the review queue."""
    kind = KINDS.get(plan.get("kind") or "")
    return kind.describe(plan) if kind else f"{plan.get('kind')} {plan.get('order_id', '')}".strip()

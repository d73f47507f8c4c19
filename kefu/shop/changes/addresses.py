"""A new shipping address: for one order not sent yet, or the customer's default address."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

from kefu.config import ShopRules
from kefu.shop.changes.base import ChangeFacts, ChangeKind, Plan, Proposal
from kefu.store.base import Store
from kefu.store.records import Address, ChangeResult


class _NewAddress(ChangeKind):
    slots = ("new_address",)

    def details(self, slots: Mapping[str, Any]) -> Dict[str, Any] | None:
        address = slots.get("new_address")
        return {"address": address} if address else None


class OrderAddress(_NewAddress):
    name = "order_address"
    form = "order_address_form"
    applied_response = "utter_order_address_changed"

    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        return Proposal(
            "utter_propose_order_address",
            {"order_id": facts.order.id, "address": Address(**plan["address"]).one_line()},
        )

    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        return store.change_order_address(
            customer_id, plan["order_id"], Address(**plan["address"]), conversation_id, request_id
        )


class ProfileAddress(_NewAddress):
    name = "profile_address"
    form = "profile_address_form"
    applied_response = "utter_profile_address_changed"
    about_an_order = False

    def allowed_statuses(self, rules: ShopRules) -> Tuple[str, ...]:
        return ()  # the profile has no status

    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        return Proposal("utter_propose_profile_address", {"address": Address(**plan["address"]).one_line()})

    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        return store.change_customer_address(customer_id, Address(**plan["address"]), conversation_id, request_id)

"""Items swapped for other versions of the same products: exchanges (delivered orders) and item
changes (orders not sent yet); the price difference is paid or refunded with a chosen method."""

from __future__ import annotations

import abc
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping

from kefu.shop.changes.base import ChangeFacts, ChangeKind, Plan, Proposal
from kefu.shop.wording import money
from kefu.store.base import Store
from kefu.store.records import ChangeResult


class Swap(ChangeKind):
    slots = ("swap_plan", "swap_payment_method_id")
    reads_products = True
    proposal_response: str

    def details(self, slots: Mapping[str, Any]) -> Dict[str, Any] | None:
        swaps, paying = slots.get("swap_plan"), slots.get("swap_payment_method_id")
        if not swaps or not paying:
            return None
        return {
            "item_ids": [old for old, _ in swaps],
            "new_item_ids": [new for _, new in swaps],
            "payment_method_id": paying,
        }

    def propose(self, plan: Plan, facts: ChangeFacts) -> Proposal:
        order = facts.order
        lines: List[str] = []
        difference, remaining = Decimal(0), list(order.items)
        for old_id, new_id in zip(plan["item_ids"], plan["new_item_ids"], strict=True):
            item = next(i for i in remaining if i.item_id == old_id)
            remaining.remove(item)
            new = next(v for v in facts.products[item.product_id].variants if v.item_id == new_id)
            difference += new.price - item.price
            lines.append(
                f"{item.name}: {', '.join(item.options.values())} ({money(item.price)}) -> "
                f"{', '.join(new.options.values())} ({money(new.price)})"
            )
        method = facts.method(plan["payment_method_id"]).describe()
        if difference > 0:
            money_line = f"You pay the difference of {money(difference)} with your {method}."
        elif difference < 0:
            money_line = f"You get {money(-difference)} back on your {method}."
        else:
            money_line = "The price is the same."
        return Proposal(
            self.proposal_response, {"order_id": order.id, "swaps": "; ".join(lines), "money_line": money_line}
        )

    @staticmethod
    @abc.abstractmethod
    def store_call(store: Store) -> Callable[..., ChangeResult]:
        """The store's write for this kind: the same arguments for exchanges and item changes."""

    def write(
        self, store: Store, customer_id: str, plan: Plan, conversation_id: str, request_id: str | None
    ) -> ChangeResult:
        return self.store_call(store)(
            customer_id,
            plan["order_id"],
            plan["item_ids"],
            plan["new_item_ids"],
            plan["payment_method_id"],
            conversation_id,
            request_id,
        )


class Exchange(Swap):
    name = "exchange"
    form = "exchange_form"
    applied_response = "utter_exchange_requested"
    proposal_response = "utter_propose_exchange"
    suggests_after = True

    @staticmethod
    def store_call(store: Store) -> Callable[..., ChangeResult]:
        return store.exchange_items

    def describe(self, plan: Plan) -> str:
        return f"Exchange {len(plan.get('item_ids') or [])} item(s) of {plan.get('order_id', '')}"


class ModifyItems(Swap):
    name = "modify_items"
    form = "modify_items_form"
    applied_response = "utter_items_modified"
    proposal_response = "utter_propose_modify_items"

    @staticmethod
    def store_call(store: Store) -> Callable[..., ChangeResult]:
        return store.change_order_items

"""Order status and tracking for the identified customer, read from the store."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, message_in_catalogue_words, never_crash, store, turn
from actions.recommendations import suggest_after
from kefu.config import settings
from kefu.shop.wording import day, joined, money
from kefu.store import normalize_order_id
from kefu.store.records import Order, OrderItem, OrderSummary
from kefu.understanding.cues import ordinal_in, says
from kefu.understanding.matching import product_mention_score

STATUS_RESPONSES = {
    "pending": "utter_order_pending",
    "processed": "utter_order_processed",
    "delivered": "utter_order_delivered",
    "cancelled": "utter_order_cancelled",
}


def describe_item(item: OrderItem) -> str:
    options = ", ".join(f"{k} {v}" for k, v in item.options.items())
    return f"{item.name} ({options}) {money(item.price)}" if options else f"{item.name} {money(item.price)}"


def order_facts(order: Order) -> Dict[str, Any]:
    """The values the order responses are filled with; every fact comes from the store."""
    first = order.fulfillments[0] if order.fulfillments else None
    return {
        "order_id": order.id,
        "status": order.status,
        "ordered_on": day(order.ordered_on),
        "items": "; ".join(describe_item(i) for i in order.items),
        "total": money(order.total),
        "carrier": joined(sorted({f.carrier for f in order.fulfillments})) or "the carrier",
        "tracking_ids": joined(order.tracking_ids) or "not yet assigned",
        "shipped_on": day(first.shipped_on) if first else "not yet",
        "expected_delivery_on": day(first.expected_delivery_on) if first else "not yet known",
        "delivered_on": day(first.delivered_on) if first else "unknown",
    }


# The responses that already say the tracking numbers.
SAYS_TRACKING = {"utter_order_processed", "utter_order_delivered"}


def utter_order(dispatcher: CollectingDispatcher, order: Order) -> None:
    response = STATUS_RESPONSES.get(order.status, "utter_order_other_status")
    facts = order_facts(order)
    dispatcher.utter_message(response=response, **facts)
    if order.tracking_ids and response not in SAYS_TRACKING:
        # A cancelled or returned order may have shipped first: its tracking numbers are still its own.
        dispatcher.utter_message(response="utter_order_tracking", **facts)


def pick_listed_order(text: str, listed: Sequence[OrderSummary]) -> str | None:
    """The order a reply such as "the second one", "2" or "the keyboard one" points to."""
    lowered = (text or "").lower()
    place = ordinal_in(lowered)
    if place is not None and place < len(listed):
        return listed[place].id
    if says("latest", lowered) and listed:
        return listed[0].id
    number = re.fullmatch(r"\s*(?:number\s*)?(\d)\s*\.?\s*", lowered)
    if number and 1 <= int(number.group(1)) <= len(listed):
        return listed[int(number.group(1)) - 1].id
    matches = [o.id for o in listed if any(product_mention_score(text, name) for name in o.item_names)]
    return matches[0] if len(matches) == 1 else None


def list_orders_text(orders: Sequence[OrderSummary]) -> str:
    return "\n".join(
        f"{n}. {o.id}, placed {day(o.ordered_on)}, {o.status}: {joined(o.item_names)}"
        for n, o in enumerate(orders, start=1)
    )


class ActionOrderStatus(Action):
    """Status, items, tracking ids, carrier and dates of one order, or "which one?"."""

    def name(self) -> str:
        return "action_order_status"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        customer_id = tracker.get_slot("customer_id")
        if not customer_id:
            dispatcher.utter_message(response="utter_ask_identity")
            return []
        # In the catalogue's words: "celle de la brosse à dents" picks a listed order by its item.
        text = message_in_catalogue_words(tracker)
        order_id = turn(tracker).order_id_said or normalize_order_id(tracker.get_slot("order_id") or "")
        orders: List[OrderSummary] = []
        if order_id is None:
            orders = store().list_orders(customer_id)
            order_id = self._choose(text, orders, tracker.get_slot("listed_orders") or [])
        if order_id is None:
            return self._ask_which(dispatcher, orders)

        order = store().get_order(order_id, customer_id)
        if order is None:
            # Same answer whether the order is someone else's or does not exist: nothing leaks.
            dispatcher.utter_message(response="utter_order_not_found", order_id=order_id)
            return [SlotSet("order_id", None)]
        utter_order(dispatcher, order)
        if order.status == "delivered":
            suggest_after(dispatcher, tracker, order)
        return [SlotSet("order_id", None), SlotSet("listed_orders", None)]

    @staticmethod
    def _choose(text: str, orders: List[OrderSummary], listed_ids: List[str]) -> str | None:
        if len(orders) == 1:
            return orders[0].id
        listed = [o for o in orders if o.id in listed_ids]
        listed.sort(key=lambda o: listed_ids.index(o.id))
        if listed:
            return pick_listed_order(text, listed)
        # "How much did I pay for the grill?": the one order holding it.
        holding = [o.id for o in orders if any(product_mention_score(text, name) for name in o.item_names)]
        return holding[0] if len(holding) == 1 else None

    @staticmethod
    def _ask_which(dispatcher: CollectingDispatcher, orders: List[OrderSummary]) -> EventList:
        if not orders:
            dispatcher.utter_message(response="utter_no_orders")
            return [SlotSet("order_id", None)]
        shown = orders[: settings().max_orders_listed]
        dispatcher.utter_message(response="utter_which_order", count=len(orders), order_list=list_orders_text(shown))
        return [SlotSet("listed_orders", [o.id for o in shown]), SlotSet("order_id", None)]


class ActionLastOrder(Action):
    """The customer's most recent order, in full."""

    def name(self) -> str:
        return "action_last_order"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        customer_id = tracker.get_slot("customer_id")
        if not customer_id:
            dispatcher.utter_message(response="utter_ask_identity")
            return []
        orders = store().list_orders(customer_id)
        if not orders:
            dispatcher.utter_message(response="utter_no_orders")
            return []
        order = store().get_order(orders[0].id, customer_id)
        if order is None:  # deleted between the two reads
            dispatcher.utter_message(response="utter_order_not_found", order_id=orders[0].id)
            return []
        dispatcher.utter_message(response="utter_last_order_intro", order_id=order.id)
        utter_order(dispatcher, order)
        return [SlotSet("order_id", None), SlotSet("listed_orders", None)]

"""An independent reference for the shop's write calls, applied to the seed's JSON.

The shared tasks give, for each customer request, the sequence of calls that solves it
(``cancel_pending_order``, ``return_delivered_order_items``...). This module applies such
calls to plain dictionaries, written from the policy text and kept apart from ``kefu.store``,
so that a test can compare the store's final state with what the calls should give.
Amounts are compared rounded to cents (the reference uses floats, the store uses Decimal).
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any, Dict, List

World = Dict[str, Dict[str, Any]]


class CallFailed(Exception):
    pass


def _order(world: World, order_id: str, status: str) -> Dict[str, Any]:
    order = world["orders"].get(order_id)
    if order is None or order["status"] != status:
        raise CallFailed(f"{order_id} is not {status}")
    return order


def _methods(world: World, order: Dict[str, Any]) -> Dict[str, Any]:
    return world["users"][order["user_id"]]["payment_methods"]


def _check_items(order: Dict[str, Any], item_ids: List[str]) -> None:
    have = Counter(i["item_id"] for i in order["items"])
    if any(count > have[item] for item, count in Counter(item_ids).items()):
        raise CallFailed("item not in order")


def _price_difference(world: World, order: Dict[str, Any], item_ids: List[str], new_item_ids: List[str]) -> float:
    if len(item_ids) != len(new_item_ids):
        raise CallFailed("item counts differ")
    total = 0.0
    for old_id, new_id in zip(item_ids, new_item_ids, strict=True):
        item = next(i for i in order["items"] if i["item_id"] == old_id)
        variant = world["products"][item["product_id"]]["variants"].get(new_id)
        if variant is None or not variant["available"]:
            raise CallFailed("new item unavailable")
        total += variant["price"] - item["price"]
    return round(total, 2)


def cancel_pending_order(world: World, order_id: str, reason: str) -> None:
    order = _order(world, order_id, "pending")
    for payment in list(order["payment_history"]):
        order["payment_history"].append({**payment, "transaction_type": "refund"})
        method = _methods(world, order)[payment["payment_method_id"]]
        if method["source"] == "gift_card":
            method["balance"] = round(method["balance"] + payment["amount"], 2)
    order["status"] = "cancelled"
    order["cancel_reason"] = reason


def modify_pending_order_address(world: World, order_id: str, **address: str) -> None:
    _order(world, order_id, "pending")["address"] = dict(address)


def modify_user_address(world: World, user_id: str, **address: str) -> None:
    world["users"][user_id]["address"] = dict(address)


def modify_pending_order_payment(world: World, order_id: str, payment_method_id: str) -> None:
    order = _order(world, order_id, "pending")
    (first,) = order["payment_history"]
    methods = _methods(world, order)
    new, old = methods[payment_method_id], methods[first["payment_method_id"]]
    if new["source"] == "gift_card" and new["balance"] < first["amount"]:
        raise CallFailed("gift card balance too low")
    order["payment_history"] += [
        {"transaction_type": "payment", "amount": first["amount"], "payment_method_id": payment_method_id},
        {"transaction_type": "refund", "amount": first["amount"], "payment_method_id": first["payment_method_id"]},
    ]
    if new["source"] == "gift_card":
        new["balance"] = round(new["balance"] - first["amount"], 2)
    if old["source"] == "gift_card":
        old["balance"] = round(old["balance"] + first["amount"], 2)


def modify_pending_order_items(
    world: World, order_id: str, item_ids: List[str], new_item_ids: List[str], payment_method_id: str
) -> None:
    order = _order(world, order_id, "pending")
    _check_items(order, item_ids)
    difference = _price_difference(world, order, item_ids, new_item_ids)
    method = _methods(world, order)[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < difference:
        raise CallFailed("gift card balance too low")
    order["payment_history"].append(
        {
            "transaction_type": "payment" if difference > 0 else "refund",
            "amount": abs(difference),
            "payment_method_id": payment_method_id,
        }
    )
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - difference, 2)
    remaining = list(order["items"])
    for old_id, new_id in zip(item_ids, new_item_ids, strict=True):
        item = next(i for i in remaining if i["item_id"] == old_id)
        remaining.remove(item)
        variant = world["products"][item["product_id"]]["variants"][new_id]
        item.update(item_id=new_id, price=variant["price"], options=dict(variant["options"]))
    order["status"] = "pending (item modified)"


def return_delivered_order_items(world: World, order_id: str, item_ids: List[str], payment_method_id: str) -> None:
    order = _order(world, order_id, "delivered")
    if "gift_card" not in payment_method_id and payment_method_id != order["payment_history"][0]["payment_method_id"]:
        raise CallFailed("refund destination not allowed")
    _check_items(order, item_ids)
    order.update(status="return requested", return_items=sorted(item_ids), return_payment_method_id=payment_method_id)


def exchange_delivered_order_items(
    world: World, order_id: str, item_ids: List[str], new_item_ids: List[str], payment_method_id: str
) -> None:
    order = _order(world, order_id, "delivered")
    _check_items(order, item_ids)
    difference = _price_difference(world, order, item_ids, new_item_ids)
    method = _methods(world, order)[payment_method_id]
    if method["source"] == "gift_card" and method["balance"] < difference:
        raise CallFailed("gift card balance too low")
    order.update(
        status="exchange requested",
        exchange_items=sorted(item_ids),
        exchange_new_items=sorted(new_item_ids),
        exchange_payment_method_id=payment_method_id,
        exchange_price_difference=difference,
    )


CALLS = {
    f.__name__: f
    for f in (
        cancel_pending_order,
        modify_pending_order_address,
        modify_user_address,
        modify_pending_order_payment,
        modify_pending_order_items,
        return_delivered_order_items,
        exchange_delivered_order_items,
    )
}


def apply_calls(seed: World, actions: List[Dict[str, Any]]) -> World:
    """A copy of ``seed`` after the task's write calls (read-only calls are skipped).

    A call the rules refuse changes nothing, as in the shared tasks' own world: a few gold
    calls fail there (a gift card too low to pay for an order) and the customer is told no.
    """
    world = copy.deepcopy(seed)
    for action in actions:
        call = CALLS.get(action["name"])
        if call is None:
            continue
        # A call touches one order and its customer: keep those to put back if it fails.
        order = world["orders"].get(action["kwargs"].get("order_id", ""))
        user_id = action["kwargs"].get("user_id") or (order or {}).get("user_id")
        kept = copy.deepcopy((order, world["users"].get(user_id)))
        try:
            call(world, **action["kwargs"])
        except CallFailed:
            if order is not None:
                world["orders"][order["order_id"]] = kept[0]
            if kept[1] is not None:
                world["users"][user_id] = kept[1]
    return world


def rounded(value: Any) -> Any:
    """The same data with every float rounded to cents, for comparing money."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value

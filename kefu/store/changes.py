"""The changes Kefu may make to orders and profiles, applied to rows inside one transaction.

Each function checks the shop's rules (``kefu.yml`` ``rules:``) and the order's state, then
changes the rows and returns what changed, for the audit log. They raise
:class:`ChangeRefused` with a ``code`` the dialogue can explain. Money is ``Decimal``.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, Dict, List, Sequence, Tuple

from sqlalchemy.orm import Session

from kefu.config import ShopRules
from kefu.store import models as m
from kefu.store.base import ChangeRefused, NeedsReview
from kefu.store.records import Address

Changes = Dict[str, Any]


def _require_status(order: m.OrderRow, allowed: Sequence[str], action: str) -> None:
    if order.status not in allowed:
        raise ChangeRefused(
            f"status_{order.status.replace(' ', '_').replace('(', '').replace(')', '')}",
            f"order {order.id} is {order.status}; only {' or '.join(allowed)} orders can be {action}",
        )


def _payment_method(customer: m.CustomerRow, payment_method_id: str) -> m.PaymentMethodRow:
    for method in customer.payment_methods:
        if method.id == payment_method_id:
            return method
    raise ChangeRefused("unknown_payment_method", f"{payment_method_id} is not one of the customer's payment methods")


def _require_items(order: m.OrderRow, item_ids: Sequence[str]) -> List[m.OrderItemRow]:
    """The order's item rows for ``item_ids`` (an item id may appear several times)."""
    if not item_ids:
        raise ChangeRefused("no_items", "no items were chosen")
    wanted, have = Counter(item_ids), Counter(i.item_id for i in order.items)
    missing = [item_id for item_id, count in wanted.items() if count > have[item_id]]
    if missing:
        raise ChangeRefused("unknown_item", f"items {missing} are not in order {order.id}")
    rows, used = [], Counter()
    for item_id in item_ids:
        matching = [i for i in order.items if i.item_id == item_id]
        rows.append(matching[used[item_id]])
        used[item_id] += 1
    return rows


def _new_variants(session: Session, items: Sequence[m.OrderItemRow], new_item_ids: Sequence[str]) -> List[m.VariantRow]:
    if len(items) != len(new_item_ids):
        raise ChangeRefused("item_count", "each item needs exactly one new item")
    variants = []
    for item, new_item_id in zip(items, new_item_ids, strict=True):
        variant = session.get(m.VariantRow, new_item_id)
        if variant is None or variant.product_id != item.product_id:
            raise ChangeRefused("other_product", f"{new_item_id} is not a version of {item.name}")
        if not variant.available:
            raise ChangeRefused("unavailable", f"{item.name} {dict(variant.options)} is out of stock")
        variants.append(variant)
    return variants


def _priced_swap(
    session: Session, order: m.OrderRow, item_ids: Sequence[str], new_item_ids: Sequence[str], payment_method_id: str
) -> Tuple[List[m.OrderItemRow], List[m.VariantRow], Decimal, m.PaymentMethodRow]:
    """Items to swap, their new versions, the price difference and the method that settles it."""
    items = _require_items(order, item_ids)
    variants = _new_variants(session, items, new_item_ids)
    difference = sum((v.price - i.price for i, v in zip(items, variants, strict=True)), Decimal(0))
    method = _payment_method(order.customer, payment_method_id)
    _check_gift_card_covers(method, difference)
    return items, variants, difference, method


def _original_payment(order: m.OrderRow) -> m.PaymentRow | None:
    """The payment the order was placed with (as ``Order.original_payment`` reads it)."""
    return order.payments[0] if order.payments else None


def _add_payment(order: m.OrderRow, kind: str, amount: Decimal, payment_method_id: str) -> None:
    order.payments.append(
        m.PaymentRow(
            position=len(order.payments), transaction_type=kind, amount=amount, payment_method_id=payment_method_id
        )
    )


def _check_gift_card_covers(method: m.PaymentMethodRow, amount: Decimal) -> None:
    if method.is_gift_card and (method.balance or Decimal(0)) < amount:
        raise ChangeRefused("gift_card_balance", f"the gift card balance {method.balance} does not cover {amount:.2f}")


def cancel(session: Session, order: m.OrderRow, rules: ShopRules, reason: str) -> Changes:
    _require_status(order, rules.statuses_allowing("cancel"), "cancelled")
    if reason not in rules.cancel_reasons:
        raise ChangeRefused("cancel_reason", f"the reason must be one of {list(rules.cancel_reasons)}")
    _check_review(rules, sum((p.amount for p in order.payments), Decimal(0)))
    refunds = []
    for payment in list(order.payments):
        # Every payment is refunded to where it came from; gift cards at once.
        _add_payment(order, "refund", payment.amount, payment.payment_method_id)
        refunds.append({"amount": str(payment.amount), "payment_method_id": payment.payment_method_id})
        method = _payment_method(order.customer, payment.payment_method_id)
        if method.is_gift_card:
            method.balance = (method.balance or Decimal(0)) + payment.amount
    before = order.status
    order.status, order.cancel_reason = rules.cancelled_status, reason
    return {"status": [before, order.status], "reason": reason, "refunds": refunds}


def change_address(order: m.OrderRow, rules: ShopRules, address: Address) -> Changes:
    _require_status(order, rules.statuses_allowing("order_address"), "modified")
    before = {k: getattr(order, k) for k in ("address1", "address2", "city", "state", "country", "zip")}
    for key, value in vars(address).items():
        setattr(order, key, value)
    return {"address": [before, vars(address)]}


def change_payment(order: m.OrderRow, rules: ShopRules, payment_method_id: str) -> Changes:
    _require_status(order, rules.statuses_allowing("order_payment"), "modified")
    original = _original_payment(order)
    if len(order.payments) != 1 or original.transaction_type != "payment":
        raise ChangeRefused("payment_history", "the payment of this order has already changed")
    if original.payment_method_id == payment_method_id:
        raise ChangeRefused("same_payment_method", "the order is already paid with that method")
    new_method = _payment_method(order.customer, payment_method_id)
    _check_gift_card_covers(new_method, original.amount)
    old_method = _payment_method(order.customer, original.payment_method_id)
    _add_payment(order, "payment", original.amount, payment_method_id)
    _add_payment(order, "refund", original.amount, original.payment_method_id)
    if new_method.is_gift_card:
        new_method.balance = (new_method.balance or Decimal(0)) - original.amount
    if old_method.is_gift_card:
        old_method.balance = (old_method.balance or Decimal(0)) + original.amount
    return {"payment_method": [original.payment_method_id, payment_method_id], "amount": str(original.amount)}


def change_items(
    session: Session,
    order: m.OrderRow,
    rules: ShopRules,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
) -> Changes:
    _require_status(order, rules.statuses_allowing("modify_items"), "modified")
    items, variants, difference, method = _priced_swap(session, order, item_ids, new_item_ids, payment_method_id)
    _add_payment(order, "payment" if difference > 0 else "refund", abs(difference), payment_method_id)
    if method.is_gift_card:
        method.balance = (method.balance or Decimal(0)) - difference
    for item, variant in zip(items, variants, strict=True):
        item.item_id, item.price, item.options = variant.item_id, variant.price, dict(variant.options)
    order.status = rules.items_modified_status
    return {
        "items": [list(item_ids), list(new_item_ids)],
        "price_difference": str(difference),
        "payment_method_id": payment_method_id,
    }


def request_return(
    order: m.OrderRow, rules: ShopRules, item_ids: Sequence[str], payment_method_id: str, recent_returns: int = 0
) -> Changes:
    """``recent_returns``: the customer's returns and exchanges within ``rules.returns_review_days``."""
    _require_status(order, rules.statuses_allowing("return"), "returned")
    method = _payment_method(order.customer, payment_method_id)
    original = _original_payment(order)
    allowed = (
        "original" in rules.return_refund_to and original is not None and original.payment_method_id == method.id
    ) or ("gift_card" in rules.return_refund_to and method.is_gift_card)
    if not allowed:
        raise ChangeRefused("refund_destination", "a refund goes to the original payment method or a gift card")
    refund = sum((i.price for i in _require_items(order, item_ids)), Decimal(0))
    _check_review(rules, refund)
    if rules.returns_review_count and recent_returns >= rules.returns_review_count:
        raise NeedsReview(
            f"{recent_returns} returns or exchanges in {rules.returns_review_days} days "
            f"(the limit is {rules.returns_review_count})",
            refund,
        )
    before, order.status = order.status, rules.return_requested_status
    order.return_items = sorted(item_ids)
    order.return_payment_method_id = payment_method_id
    return {"status": [before, order.status], "items": sorted(item_ids), "refund_to": payment_method_id}


def request_exchange(
    session: Session,
    order: m.OrderRow,
    rules: ShopRules,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
) -> Changes:
    _require_status(order, rules.statuses_allowing("exchange"), "exchanged")
    _items, _variants, difference, _method = _priced_swap(session, order, item_ids, new_item_ids, payment_method_id)
    before, order.status = order.status, rules.exchange_requested_status
    order.exchange_items = sorted(item_ids)
    order.exchange_new_items = sorted(new_item_ids)
    order.exchange_payment_method_id = payment_method_id
    order.exchange_price_difference = difference
    return {
        "status": [before, order.status],
        "items": [sorted(item_ids), sorted(new_item_ids)],
        "price_difference": str(difference),
        "payment_method_id": payment_method_id,
    }


def change_customer_address(customer: m.CustomerRow, address: Address) -> Changes:
    before = {k: getattr(customer, k) for k in ("address1", "address2", "city", "state", "country", "zip")}
    for key, value in vars(address).items():
        setattr(customer, key, value)
    return {"address": [before, vars(address)]}


def _check_review(rules: ShopRules, refund: Decimal) -> None:
    if refund > rules.refund_review_above:
        raise NeedsReview(f"a refund of {refund:.2f} is above {rules.refund_review_above:.2f}", refund)

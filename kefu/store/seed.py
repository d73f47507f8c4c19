"""Load the seed data (tau-bench retail) into a store, and export a store in the same shape.

The seed has no dates and no carriers. They are derived, deterministically, from a hash of
each order id (dates) and of each tracking id (carrier), counted back from the configured
``store.seed.reference_date``, so that every seeding of every backend gives the same store:

- pending: ordered 0-2 days before the reference date, nothing shipped yet;
- processed: shipped 0-3 days before, ordered 1-2 days before shipping, expected 1-5 days after;
- delivered: ordered 10-120 days before, shipped 1-2 days later, delivered 2-6 days after shipping;
- cancelled: ordered 5-120 days before; its seed fulfillment keeps a shipping date but no delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from kefu.store import models as m
from kefu.store.sql_store import SqlStore, order_details

SEED_DIR = Path(__file__).resolve().parent / "seed_data"


def _hash(text: str, salt: str) -> int:
    return int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()[:12], 16)


@dataclass(frozen=True)
class OrderDates:
    ordered_on: dt.date
    shipped_on: dt.date | None
    expected_delivery_on: dt.date | None
    delivered_on: dt.date | None


def derive_dates(order_id: str, status: str, reference: dt.date) -> OrderDates:
    """Dates of an order, a pure function of its id, its status and the reference date."""

    def days(salt: str, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=low + _hash(order_id, salt) % (high - low + 1))

    if status == "pending":
        return OrderDates(reference - days("ordered", 0, 2), None, None, None)
    if status == "processed":
        shipped = reference - days("shipped", 0, 3)
        return OrderDates(shipped - days("ordered", 1, 2), shipped, reference + days("expected", 1, 5), None)
    if status == "delivered":
        ordered = reference - days("ordered", 10, 120)
        shipped = ordered + days("shipped", 1, 2)
        delivered = shipped + days("transit", 2, 6)
        return OrderDates(ordered, shipped, delivered, delivered)
    # cancelled, and any status a later flow may add, e.g. "return requested"
    ordered = reference - days("ordered", 5, 120)
    shipped = ordered + days("shipped", 1, 2)
    return OrderDates(ordered, shipped, shipped + days("transit", 2, 6), None)


def derive_carrier(tracking_id: str, carriers: Sequence[str]) -> str:
    return carriers[_hash(tracking_id, "carrier") % len(carriers)]


def read_seed(seed_dir: Path = SEED_DIR) -> Dict[str, Dict[str, Any]]:
    return {
        name: json.loads((seed_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("users", "orders", "products")
    }


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _address_columns(address: Dict[str, str]) -> Dict[str, str]:
    return {key: address.get(key, "") for key in ("address1", "address2", "city", "state", "country", "zip")}


def _add_products(session: Session, products: Dict[str, Any]) -> None:
    for position, product in enumerate(products.values()):
        session.add(m.ProductRow(id=product["product_id"], name=product["name"], seed_position=position))
        for vpos, variant in enumerate(product["variants"].values()):
            session.add(
                m.VariantRow(
                    item_id=variant["item_id"],
                    product_id=product["product_id"],
                    position=vpos,
                    options=variant["options"],
                    price=_money(variant["price"]),
                    available=bool(variant["available"]),
                )
            )


def _add_customers(session: Session, users: Dict[str, Any]) -> Dict[str, int]:
    """Add customers; return each order's position in its customer's list."""
    positions: Dict[str, int] = {}
    for position, (user_id, user) in enumerate(users.items()):
        session.add(
            m.CustomerRow(
                id=user_id,
                first_name=user["name"]["first_name"],
                last_name=user["name"]["last_name"],
                email=user["email"],
                seed_position=position,
                **_address_columns(user["address"]),
            )
        )
        for ppos, method in enumerate(user["payment_methods"].values()):
            session.add(
                m.PaymentMethodRow(
                    id=method["id"],
                    customer_id=user_id,
                    position=ppos,
                    source=method["source"],
                    brand=method.get("brand"),
                    last_four=method.get("last_four"),
                    balance=_money(method["balance"]) if "balance" in method else None,
                )
            )
        positions.update({order_id: i for i, order_id in enumerate(user.get("orders", []))})
    return positions


def _add_orders(
    session: Session,
    orders: Dict[str, Any],
    positions: Dict[str, int],
    reference: dt.date,
    carriers: Sequence[str],
) -> None:
    for seed_position, order in enumerate(orders.values()):
        dates = derive_dates(order["order_id"], order["status"], reference)
        session.add(
            m.OrderRow(
                id=order["order_id"],
                customer_id=order["user_id"],
                customer_position=positions.get(order["order_id"], 0),
                seed_position=seed_position,
                status=order["status"],
                ordered_on=dates.ordered_on,
                **_address_columns(order["address"]),
            )
        )
        for pos, item in enumerate(order["items"]):
            session.add(
                m.OrderItemRow(
                    order_id=order["order_id"],
                    position=pos,
                    item_id=item["item_id"],
                    product_id=item["product_id"],
                    name=item["name"],
                    price=_money(item["price"]),
                    options=item["options"],
                )
            )
        for pos, fulfillment in enumerate(order["fulfillments"]):
            tracking = list(fulfillment["tracking_id"])
            session.add(
                m.FulfillmentRow(
                    order_id=order["order_id"],
                    position=pos,
                    tracking_ids=tracking,
                    item_ids=list(fulfillment["item_ids"]),
                    carrier=derive_carrier(tracking[0] if tracking else order["order_id"], carriers),
                    shipped_on=dates.shipped_on or dates.ordered_on,
                    expected_delivery_on=dates.expected_delivery_on or dates.ordered_on,
                    delivered_on=dates.delivered_on,
                )
            )
        for pos, payment in enumerate(order["payment_history"]):
            session.add(
                m.PaymentRow(
                    order_id=order["order_id"],
                    position=pos,
                    transaction_type=payment["transaction_type"],
                    amount=_money(payment["amount"]),
                    payment_method_id=payment["payment_method_id"],
                )
            )


# Tables in the order they can be emptied without breaking a foreign key.
_TABLES_CHILD_FIRST = (
    m.PaymentRow,
    m.FulfillmentRow,
    m.OrderItemRow,
    m.OrderRow,
    m.PaymentMethodRow,
    m.VariantRow,
    m.ProductRow,
    m.CustomerRow,
    m.AuditRow,
    m.ReviewRow,
    m.TicketMessageRow,
    m.TicketRow,
    m.FeedbackRow,
    m.MessageSignalRow,
    m.IdentificationFailureRow,
    m.WriteRequestRow,
)


def is_seeded(store: SqlStore) -> bool:
    with store.session() as session:
        return bool(session.scalar(select(func.count()).select_from(m.CustomerRow)))


def seed_store(
    store: SqlStore,
    reference: dt.date,
    carriers: Sequence[str],
    seed_dir: Path = SEED_DIR,
    reset: bool = False,
) -> None:
    """Fill an empty store from the seed files; with ``reset``, empty it first.

    A reset also empties the audit log, the tickets, reviews and feedback, the counted failed
    identifications and the applied write requests; agent accounts are kept.
    """
    data = read_seed(seed_dir)
    with store.session() as session:
        if reset:
            for table in _TABLES_CHILD_FIRST:
                session.execute(delete(table))
        _add_products(session, data["products"])
        positions = _add_customers(session, data["users"])
        session.flush()
        _add_orders(session, data["orders"], positions, reference, carriers)


def _address_json(row: Any) -> Dict[str, str]:
    return {key: getattr(row, key) for key in ("address1", "address2", "city", "country", "state", "zip")}


def _number(value: Decimal) -> Any:
    """Whole amounts as int and others as float, the way the seed writes them."""
    return int(value) if value == value.to_integral_value() else float(value)


def export_store(store: SqlStore) -> Dict[str, Dict[str, Any]]:
    """The whole store in the seed's JSON shape: ``users``, ``orders``, ``products``."""
    with store.session() as session:
        customers = session.scalars(
            select(m.CustomerRow)
            .options(selectinload(m.CustomerRow.payment_methods), selectinload(m.CustomerRow.orders))
            .order_by(m.CustomerRow.seed_position)
        ).all()
        orders = session.scalars(select(m.OrderRow).options(*order_details()).order_by(m.OrderRow.seed_position)).all()
        products = session.scalars(
            select(m.ProductRow).options(selectinload(m.ProductRow.variants)).order_by(m.ProductRow.seed_position)
        ).all()
        return {
            "users": {c.id: _user_json(c) for c in customers},
            "orders": {o.id: _order_json(o) for o in orders},
            "products": {p.id: _product_json(p) for p in products},
        }


def _payment_method_json(p: m.PaymentMethodRow) -> Dict[str, Any]:
    method: Dict[str, Any] = {"source": p.source}
    if p.brand is not None:
        method["brand"] = p.brand
    if p.last_four is not None:
        method["last_four"] = p.last_four
    if p.balance is not None:
        method["balance"] = _number(p.balance)
    method["id"] = p.id
    return method


def _user_json(c: m.CustomerRow) -> Dict[str, Any]:
    return {
        "name": {"first_name": c.first_name, "last_name": c.last_name},
        "address": _address_json(c),
        "email": c.email,
        "payment_methods": {p.id: _payment_method_json(p) for p in c.payment_methods},
        "orders": [o.id for o in c.orders],
    }


def _order_json(o: m.OrderRow) -> Dict[str, Any]:
    order: Dict[str, Any] = {
        "order_id": o.id,
        "user_id": o.customer_id,
        "address": _address_json(o),
        "items": [
            {
                "name": i.name,
                "product_id": i.product_id,
                "item_id": i.item_id,
                "price": _number(i.price),
                "options": dict(i.options),
            }
            for i in o.items
        ],
        "fulfillments": [{"tracking_id": list(f.tracking_ids), "item_ids": list(f.item_ids)} for f in o.fulfillments],
        "status": o.status,
        "payment_history": [
            {
                "transaction_type": p.transaction_type,
                "amount": _number(p.amount),
                "payment_method_id": p.payment_method_id,
            }
            for p in o.payments
        ],
    }
    # Keys the change flows add, named as in the seed's world; absent until a change sets them.
    difference = o.exchange_price_difference
    extras = {
        "cancel_reason": o.cancel_reason,
        "return_items": o.return_items,
        "return_payment_method_id": o.return_payment_method_id,
        "exchange_items": o.exchange_items,
        "exchange_new_items": o.exchange_new_items,
        "exchange_payment_method_id": o.exchange_payment_method_id,
        "exchange_price_difference": None if difference is None else _number(difference),
    }
    order.update({key: value for key, value in extras.items() if value is not None})
    return order


def _product_json(p: m.ProductRow) -> Dict[str, Any]:
    return {
        "name": p.name,
        "product_id": p.id,
        "variants": {
            v.item_id: {
                "item_id": v.item_id,
                "options": dict(v.options),
                "available": v.available,
                "price": _number(v.price),
            }
            for v in p.variants
        },
    }


def dump_json(data: Dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


__all__: List[str] = [
    "OrderDates",
    "derive_dates",
    "derive_carrier",
    "seed_store",
    "is_seeded",
    "export_store",
    "read_seed",
    "dump_json",
]

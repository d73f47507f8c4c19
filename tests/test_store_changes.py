"""Writes to the store: the shop's rules, the audit log, idempotency and concurrent writers.

The shared tasks' gold calls, applied through the store API, must give exactly the state
that the independent reference (tests/reference_world.py) gives on the seed's JSON.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List

import pytest

from kefu.config import settings
from kefu.evaluation.reference_world import apply_calls, rounded
from kefu.evaluation.tasks import shared_tasks
from kefu.store import open_store
from kefu.store.base import ChangeRefused, ConcurrentChange
from kefu.store.records import Address
from kefu.store.seed import export_store, read_seed
from kefu.store.sql_store import SqlStore

WRITE_CALLS = {
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_user_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
}


def _tasks() -> List[Dict[str, Any]]:
    return [t for t in shared_tasks() if any(a["name"] in WRITE_CALLS for a in t["actions"])]


def apply_through_store(store: SqlStore, actions: List[Dict[str, Any]], conversation: str) -> None:
    """The same calls as the reference, through Kefu's store API, as the customer owning each order."""
    seed_orders = read_seed()["orders"]
    for action in actions:
        kwargs = dict(action["kwargs"])
        name = action["name"]
        if name not in WRITE_CALLS:
            continue
        if name == "modify_user_address":
            user_id = kwargs.pop("user_id")
            store.change_customer_address(user_id, Address(**kwargs), conversation)
            continue
        order_id = kwargs.pop("order_id")
        customer_id = seed_orders[order_id]["user_id"]
        if name == "cancel_pending_order":
            store.cancel_order(customer_id, order_id, kwargs["reason"], conversation)
        elif name == "modify_pending_order_address":
            store.change_order_address(customer_id, order_id, Address(**kwargs), conversation)
        elif name == "modify_pending_order_payment":
            store.change_order_payment(customer_id, order_id, kwargs["payment_method_id"], conversation)
        elif name == "modify_pending_order_items":
            store.change_order_items(customer_id, order_id, conversation_id=conversation, **kwargs)
        elif name == "return_delivered_order_items":
            store.return_items(customer_id, order_id, conversation_id=conversation, **kwargs)
        elif name == "exchange_delivered_order_items":
            store.exchange_items(customer_id, order_id, conversation_id=conversation, **kwargs)


TASKS = _tasks()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_gold_calls_give_the_reference_state(template_db: Path, tmp_path: Path, backend: str) -> None:
    """Every fifth task with a write (about 100), each on a fresh store, whole tables compared."""
    import shutil

    seed = read_seed()
    checked = 0
    for index, task in enumerate(TASKS[::5]):
        path = tmp_path / f"task{index}.db"
        shutil.copy(template_db, path)
        store = open_store(f"sqlite:///{path}")
        apply_through_store(store, task["actions"], f"task-{index}")
        expected = rounded(apply_calls(seed, task["actions"]))
        assert rounded(export_store(store)) == expected, task["instruction"]
        store.engine.dispose()
        checked += 1
    assert checked >= 100


def test_cancel_refunds_and_gift_cards_at_once(store: SqlStore) -> None:
    seed = read_seed()
    order_id = next(
        oid
        for oid, o in seed["orders"].items()
        if o["status"] == "pending" and o["payment_history"][0]["payment_method_id"].startswith("gift_card")
    )
    customer_id = seed["orders"][order_id]["user_id"]
    card_id = seed["orders"][order_id]["payment_history"][0]["payment_method_id"]
    paid = Decimal(str(seed["orders"][order_id]["payment_history"][0]["amount"]))
    balance = Decimal(str(seed["users"][customer_id]["payment_methods"][card_id]["balance"]))

    result = store.cancel_order(customer_id, order_id, "ordered by mistake", "conv-1")
    assert result.order.status == "cancelled" and result.order.cancel_reason == "ordered by mistake"
    assert result.order.payments[-1].transaction_type == "refund" and result.order.payments[-1].amount == paid
    card = next(p for p in store.get_customer(customer_id).payment_methods if p.id == card_id)
    assert card.balance == balance + paid
    (entry,) = store.audit_log("conv-1")
    assert entry.action == "cancel_order" and entry.entity_id == order_id
    assert entry.changes["status"] == ["pending", "cancelled"]


@pytest.mark.parametrize(
    "status, call",
    [
        ("delivered", lambda s, c, o: s.cancel_order(c, o, "no longer needed", "x")),
        ("processed", lambda s, c, o: s.cancel_order(c, o, "no longer needed", "x")),
        ("pending", lambda s, c, o: s.return_items(c, o, ["1"], "paypal_1", "x")),
        ("cancelled", lambda s, c, o: s.exchange_items(c, o, ["1"], ["2"], "paypal_1", "x")),
        ("delivered", lambda s, c, o: s.change_order_payment(c, o, "paypal_1", "x")),
    ],
)
def test_status_gates_refuse_and_write_nothing(store: SqlStore, status: str, call: Any) -> None:
    seed = read_seed()
    order_id = next(oid for oid, o in seed["orders"].items() if o["status"] == status)
    customer_id = seed["orders"][order_id]["user_id"]
    before = export_store(store)
    with pytest.raises(ChangeRefused) as refused:
        call(store, customer_id, order_id)
    assert refused.value.code.startswith("status_")
    assert export_store(store) == before
    assert store.audit_log() == []


def test_other_customers_order_cannot_be_changed(store: SqlStore) -> None:
    seed = read_seed()
    order_id = next(oid for oid, o in seed["orders"].items() if o["status"] == "pending")
    with pytest.raises(ChangeRefused) as refused:
        store.cancel_order("noah_brown_6181", order_id, "no longer needed", "x")
    assert refused.value.code == "unknown_order"


def test_invalid_reason_and_refund_destination(store: SqlStore) -> None:
    seed = read_seed()
    pending = next(oid for oid, o in seed["orders"].items() if o["status"] == "pending")
    with pytest.raises(ChangeRefused) as refused:
        store.cancel_order(seed["orders"][pending]["user_id"], pending, "too expensive", "x")
    assert refused.value.code == "cancel_reason"
    delivered_id, delivered = next(
        (oid, o)
        for oid, o in seed["orders"].items()
        if o["status"] == "delivered"
        and any(
            not m.startswith(("gift_card", o["payment_history"][0]["payment_method_id"]))
            for m in seed["users"][o["user_id"]]["payment_methods"]
        )
    )
    other = next(
        m
        for m in seed["users"][delivered["user_id"]]["payment_methods"]
        if not m.startswith("gift_card") and m != delivered["payment_history"][0]["payment_method_id"]
    )
    with pytest.raises(ChangeRefused) as refused:
        store.return_items(delivered["user_id"], delivered_id, [delivered["items"][0]["item_id"]], other, "x")
    assert refused.value.code == "refund_destination"


def _pending_order_with_another_variant(seed: Dict[str, Any]) -> tuple:
    """A pending order, its first item, and another available version of that product."""
    for order_id, order in seed["orders"].items():
        if order["status"] != "pending":
            continue
        item = order["items"][0]
        variants = seed["products"][item["product_id"]]["variants"].values()
        other = next((v for v in variants if v["available"] and v["item_id"] != item["item_id"]), None)
        if other:
            return order_id, order, item, other
    raise AssertionError("the seed has no pending order with another available variant")


def test_items_can_be_modified_once(store: SqlStore) -> None:
    order_id, order, item, other = _pending_order_with_another_variant(read_seed())
    method = order["payment_history"][0]["payment_method_id"]
    customer = order["user_id"]
    result = store.change_order_items(customer, order_id, [item["item_id"]], [other["item_id"]], method, "x")
    assert result.order.status == settings().rules.items_modified_status
    assert result.order.items[0].item_id == other["item_id"]
    with pytest.raises(ChangeRefused):
        store.change_order_items(customer, order_id, [other["item_id"]], [item["item_id"]], method, "x")
    with pytest.raises(ChangeRefused):
        store.cancel_order(customer, order_id, "no longer needed", "x")


def test_refund_above_the_review_limit_waits_for_a_human(store_url: str) -> None:
    from dataclasses import replace

    rules = replace(settings().rules, refund_review_above=Decimal("10"))
    strict = SqlStore(store_url, rules=rules)
    seed = read_seed()
    order_id = next(oid for oid, o in seed["orders"].items() if o["status"] == "pending")
    with pytest.raises(ChangeRefused) as refused:
        strict.cancel_order(seed["orders"][order_id]["user_id"], order_id, "no longer needed", "x")
    assert refused.value.code == "needs_review"


def test_repeated_request_is_applied_once(store: SqlStore) -> None:
    seed = read_seed()
    order_id = next(oid for oid, o in seed["orders"].items() if o["status"] == "pending")
    customer = seed["orders"][order_id]["user_id"]
    first = store.cancel_order(customer, order_id, "no longer needed", "conv", request_id="conv:cancel:1")
    again = store.cancel_order(customer, order_id, "no longer needed", "conv", request_id="conv:cancel:1")
    assert not first.replayed and again.replayed
    assert again.order == first.order
    assert len([p for p in again.order.payments if p.transaction_type == "refund"]) == len(
        seed["orders"][order_id]["payment_history"]
    )
    assert len(store.audit_log("conv")) == 1


def test_two_concurrent_writers_never_double_refund(store_url: str) -> None:
    """Two conversations cancel the same gift-card order at once: one wins, one is refused."""
    seed = read_seed()
    order_id = next(
        oid
        for oid, o in seed["orders"].items()
        if o["status"] == "pending" and o["payment_history"][0]["payment_method_id"].startswith("gift_card")
    )
    customer = seed["orders"][order_id]["user_id"]
    card_id = seed["orders"][order_id]["payment_history"][0]["payment_method_id"]
    paid = Decimal(str(seed["orders"][order_id]["payment_history"][0]["amount"]))
    balance = Decimal(str(seed["users"][customer]["payment_methods"][card_id]["balance"]))

    outcomes: List[str] = []
    barrier = threading.Barrier(2)

    def cancel(conversation: str) -> None:
        writer = open_store(store_url)  # each conversation has its own connection pool
        barrier.wait()
        try:
            writer.cancel_order(customer, order_id, "no longer needed", conversation)
            outcomes.append("cancelled")
        except (ChangeRefused, ConcurrentChange) as error:
            outcomes.append(type(error).__name__)
        finally:
            writer.engine.dispose()

    threads = [threading.Thread(target=cancel, args=(f"conv-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # The loser either saw the order already cancelled or lost the version race.
    assert sorted(outcomes) in (["ChangeRefused", "cancelled"], ["ConcurrentChange", "cancelled"])
    order = open_store(store_url).get_order(order_id, customer)
    assert [p.transaction_type for p in order.payments].count("refund") == 1
    card = next(p for p in open_store(store_url).get_customer(customer).payment_methods if p.id == card_id)
    assert card.balance == balance + paid
    assert len([e for e in open_store(store_url).audit_log() if e.action == "cancel_order"]) == 1

"""Store.order_history: every customer's orders, oldest first, read-only (the recommender trains on it)."""

from __future__ import annotations

from kefu.store.sql_store import SqlStore


def test_order_history_holds_every_order_oldest_first(store: SqlStore) -> None:
    history = store.order_history()
    assert len(history) == 1000  # the seed's orders
    dates = [o.ordered_on for o in history]
    assert dates == sorted(dates)
    assert len({o.customer_id for o in history}) > 100  # not one customer's orders
    noah = [o for o in history if o.customer_id == "noah_brown_6181"]
    assert [o.id for o in noah] == [s.id for s in store.list_orders("noah_brown_6181")][::-1]
    assert noah[0] == store.get_order(noah[0].id, "noah_brown_6181")  # the same typed records


def test_order_history_sees_changes(store: SqlStore) -> None:
    pending = next(o for o in store.order_history() if o.status == "pending")
    store.cancel_order(pending.customer_id, pending.id, "ordered by mistake", None)
    after = {o.id: o for o in store.order_history()}
    assert after[pending.id].status == "cancelled"

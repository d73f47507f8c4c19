"""The hostile corpus (tests/security/hostile_corpus.yml, 266 messages in 11 kinds) through live
conversations: every message answered, nothing written, nothing of another customer shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.security.audit import Customer, ServedKefu, load_corpus, replay_corpus
from kefu.store import SqlStore
from kefu.store.seed import export_store

CORPUS = Path(__file__).with_name("hostile_corpus.yml")
ME, OTHER = "james_li_5688", "omar_anderson_3203"
SHOP_EMAIL = "help@example-shop.com"


def corpus_values(store: SqlStore) -> dict[str, str]:
    me, other = store.get_customer(ME), store.get_customer(OTHER)
    assert me is not None and other is not None
    return {
        "my_email": me.email,
        "my_zip": me.address.zip,
        "other_email": other.email,
        "other_order": store.list_orders(OTHER)[0].id,
        "other_name": f"{other.first_name} {other.last_name}",
        "other_zip": other.address.zip,
    }


def foreign_names(store: SqlStore) -> dict[str, str]:
    """Every other customer's full name (a reply naming one would show their data)."""
    me = store.get_customer(ME)
    assert me is not None
    names = {}
    for order in store.order_history():
        customer = store.get_customer(order.customer_id)
        if customer is not None and (customer.first_name, customer.last_name) != (me.first_name, me.last_name):
            names[f"{customer.first_name} {customer.last_name}"] = customer.id
    return names


@pytest.mark.parametrize("identified", [False, True], ids=["anonymous", "identified"])
def test_the_hostile_corpus_is_answered_and_changes_nothing(
    served: ServedKefu, served_store: SqlStore, identified: bool
) -> None:
    values = corpus_values(served_store)
    messages = load_corpus(CORPUS, values)
    messages += [("lone_surrogates", "\ud800 cancel all orders"), ("lone_surrogates", "yes\udc00")]
    messages += [("too_long", "refund " * 5000), ("too_long", "x" * 100_000)]
    assert len(messages) >= 200

    chat = Customer(served)
    allowed_orders: list[str] = []
    if identified:
        assert "verified" in chat.say(f"my email is {values['my_email']} and my zip code is {values['my_zip']}")
        allowed_orders = [o.id for o in served_store.list_orders(ME)]
    before, audit_before = export_store(served_store), len(served_store.audit_log())

    outcomes = replay_corpus(
        chat, messages, allowed_orders, [values["my_email"], SHOP_EMAIL], foreign_names(served_store)
    )

    failures = [(o.category, o.message[:60], o.status) for o in outcomes if o.status != 200 or not o.reply.strip()]
    assert failures == []
    leaked = [(o.category, o.message[:60], o.leaked) for o in outcomes if o.leaked]
    assert leaked == []
    assert export_store(served_store) == before
    assert len(served_store.audit_log()) == audit_before

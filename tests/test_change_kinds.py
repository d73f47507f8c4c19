"""kefu/shop/changes: one object per change kind, consistent with the domain, the rules and the store."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import yaml

from kefu.config import PROJECT_ROOT, settings
from kefu.shop.changes import BY_FORM, CHANGE_SLOTS, KINDS, ChangeFacts, apply_plan, describe_plan, kind_of
from kefu.store.base import ChangeRefused
from kefu.store.seed import read_seed
from kefu.store.sql_store import SqlStore

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
CHANGE_FORMS = {name: form for name, form in DOMAIN["forms"].items() if name != "auth_form"}
SEED = read_seed()


def seed_order(status: str) -> tuple[str, str]:
    """(order id, customer id) of a seed order with this status and one payment."""
    for order_id, order in SEED["orders"].items():
        if order["status"] == status and len(order["payment_history"]) == 1:
            return order_id, order["user_id"]
    raise LookupError(status)


def test_every_change_form_of_the_domain_is_one_kind_with_the_same_slots() -> None:
    assert set(BY_FORM) == set(CHANGE_FORMS)
    for form, kind in BY_FORM.items():
        expected = (["change_order_id"] if kind.about_an_order else []) + list(kind.slots)
        assert CHANGE_FORMS[form]["required_slots"] == expected, form
    assert set(CHANGE_SLOTS) - {"change_blocked"} == {s for f in CHANGE_FORMS.values() for s in f["required_slots"]}
    assert set(CHANGE_SLOTS) <= set(DOMAIN["slots"])


def test_every_kind_has_its_responses_in_the_domain() -> None:
    responses = set(DOMAIN["responses"])
    for kind in KINDS.values():
        assert kind.applied_response in responses, kind.name


def test_the_statuses_that_allow_a_change_come_from_the_rules() -> None:
    rules = settings().rules
    assert KINDS["cancel"].allowed_statuses(rules) == rules.cancel_statuses
    assert KINDS["return"].allowed_statuses(rules) == rules.return_statuses
    assert KINDS["exchange"].allowed_statuses(rules) == rules.exchange_statuses
    for name in ("modify_items", "order_address", "order_payment"):
        assert KINDS[name].allowed_statuses(rules) == rules.modify_statuses
    changed = dataclasses.replace(rules, return_statuses=("delivered", "shipped"))
    assert KINDS["return"].allowed_statuses(changed) == ("delivered", "shipped")
    with pytest.raises(ValueError, match="no status rule"):
        rules.statuses_allowing("refund_everything")


def test_a_plan_needs_every_slot_of_its_kind() -> None:
    swap = {"change_order_id": "#W1", "swap_plan": [["a", "b"]], "swap_payment_method_id": "paypal_1"}
    assert KINDS["exchange"].plan(swap) == {
        "kind": "exchange",
        "order_id": "#W1",
        "item_ids": ["a"],
        "new_item_ids": ["b"],
        "payment_method_id": "paypal_1",
    }
    assert KINDS["exchange"].plan({**swap, "swap_payment_method_id": None}) is None
    assert KINDS["exchange"].plan({**swap, "change_order_id": None}) is None
    assert KINDS["cancel"].plan({"change_order_id": "#W1"}) is None
    # The profile names no order.
    address = {"address1": "1 Main St", "address2": "", "city": "X", "state": "CA", "country": "USA", "zip": "1"}
    assert KINDS["profile_address"].plan({"new_address": address}) == {"kind": "profile_address", "address": address}


def test_an_unknown_plan_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown change plan kind"):
        kind_of({"kind": "refund_everything"})
    assert describe_plan({"kind": "cancel", "order_id": "#W1", "reason": "ordered by mistake"}) == (
        "Cancel #W1 (ordered by mistake)"
    )


def test_a_cancel_proposal_and_write_read_the_store(store: SqlStore) -> None:
    order_id, customer_id = seed_order("pending")
    customer, order = store.get_customer(customer_id), store.get_order(order_id, customer_id)
    plan = KINDS["cancel"].plan({"change_order_id": order_id, "cancel_reason": "ordered by mistake"})
    proposal = KINDS["cancel"].propose(plan, ChangeFacts(customer, order, settings().rules, {}))
    assert proposal.response == "utter_propose_cancel"
    method = next(m for m in customer.payment_methods if m.id == order.original_payment_method_id)
    assert method.describe() in proposal.facts["refunds"]
    assert f"{order.original_payment.amount:,.2f}" in proposal.facts["refunds"]
    result = apply_plan(store, customer_id, plan, "conversation-1", "request-1")
    assert result.order.status == settings().rules.cancelled_status
    assert store.get_order(order_id, customer_id).status == "cancelled"


def test_a_return_is_refunded_only_to_the_original_method_or_a_gift_card(store: SqlStore) -> None:
    """Checked by the method's kind, not by the look of its id."""
    for order_id, seed in SEED["orders"].items():
        if seed["status"] != "delivered":
            continue
        order = store.get_order(order_id, seed["user_id"])
        methods = store.get_customer(seed["user_id"]).payment_methods
        others = [m for m in methods if m.id != order.original_payment_method_id and not m.is_gift_card]
        if others:
            break
    else:
        pytest.fail("no delivered order whose customer has a third kind of payment method")
    plan = {"kind": "return", "order_id": order_id, "item_ids": [order.items[0].item_id]}
    with pytest.raises(ChangeRefused, match="original payment method or a gift card"):
        apply_plan(store, seed["user_id"], {**plan, "payment_method_id": others[0].id}, "conversation-1", "r-1")
    assert store.get_order(order_id, seed["user_id"]).status == "delivered"
    result = apply_plan(
        store, seed["user_id"], {**plan, "payment_method_id": order.original_payment_method_id}, "conversation-1", "r-2"
    )
    assert result.order.status == settings().rules.return_requested_status


def test_a_swap_proposal_prices_the_new_versions(store: SqlStore) -> None:
    order_id, customer_id = seed_order("pending")
    order, customer = store.get_order(order_id, customer_id), store.get_customer(customer_id)
    item = order.items[0]
    product = store.get_product(item.product_id)
    other = next((v for v in product.variants if v.item_id != item.item_id and v.available), None)
    if other is None:
        pytest.skip("no other version in stock")
    plan = KINDS["modify_items"].plan(
        {
            "change_order_id": order_id,
            "swap_plan": [[item.item_id, other.item_id]],
            "swap_payment_method_id": order.original_payment_method_id,
        }
    )
    proposal = KINDS["modify_items"].propose(
        plan, ChangeFacts(customer, order, settings().rules, {product.id: product})
    )
    difference = other.price - item.price
    assert proposal.response == "utter_propose_modify_items"
    if difference == Decimal(0):
        assert proposal.facts["money_line"] == "The price is the same."
    else:
        assert f"{abs(difference):,.2f}" in proposal.facts["money_line"]

"""Order changes through live Kefu: what is written after a yes, and what is not written otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from kefu.store.seed import export_store, read_seed
from tests.conftest import Conversation, Live

pytestmark = pytest.mark.conversation

JUAN = "Juan Rossi, zip code 77209"  # pending order #W7602708
# What each customer says to identify: email and zip code, or full name and zip code (kefu.yml).
OMAR = "omar.anderson7675@example.com, zip code 19031"  # delivered #W6067464 (Electric Kettle, Wall Clock...)
SOFIA = "sofia.li7352@example.com, zip code 78260"  # 3 delivered orders, first #W4689314 paid by credit_card_8105988
AVA = "ava.nguyen3664@example.com, zip code 78786"  # delivered #W1504875: Notebook (A6, soft cover), Smart Watch
# Her one delivered order #W5666460 (PayPal): Electric Toothbrush (white, high, AA batteries), Bookshelf.
# She writes in French and in Chinese, so the tests word her email and zip code in her language.
FATIMA_EMAIL, FATIMA_ZIP = "fatima.anderson8791@example.com", "78773"


@pytest.fixture
def fresh(live: Live, template_db: Path) -> Iterator[Live]:
    """The live store back at the seed before and after the test."""
    live.restore(template_db)
    yield live
    live.restore(template_db)


def start_cancel(chat: Conversation) -> str:
    chat.say("I want to cancel my order #W7602708")
    return chat.say(JUAN)


def test_cancel_after_yes_writes_once(fresh: Live) -> None:
    chat = fresh.conversation()
    assert "why would you like to cancel" in start_cancel(chat).lower()
    proposal = chat.say("I ordered it by mistake")
    assert "#W7602708" in proposal and "Shall I go ahead" in proposal
    seed_order = read_seed()["orders"]["#W7602708"]
    paid = seed_order["payment_history"][0]["amount"]
    assert f"${paid:,.2f}" in proposal

    assert "is cancelled" in chat.say("yes")
    order = fresh.store.get_order("#W7602708", "juan_rossi_6696")
    assert order.status == "cancelled" and order.cancel_reason == "ordered by mistake"
    assert [p.transaction_type for p in order.payments] == ["payment", "refund"]
    (entry,) = fresh.store.audit_log(chat.sender)
    assert entry.action == "cancel_order"

    # A second "yes" refunds nothing more.
    assert chat.say("yes")
    assert len(fresh.store.get_order("#W7602708", "juan_rossi_6696").payments) == 2
    assert len(fresh.store.audit_log(chat.sender)) == 1


@pytest.mark.parametrize("answer", ["no", "no, wait", "actually no"])
def test_no_to_the_proposal_changes_nothing(fresh: Live, answer: str) -> None:
    before = export_store(fresh.store)
    chat = fresh.conversation()
    start_cancel(chat)
    assert "Shall I go ahead" in chat.say("I don't need it anymore")
    assert "haven't changed anything" in chat.say(answer)
    assert export_store(fresh.store) == before
    assert fresh.store.audit_log() == []


def start_return_of_two_items(chat: Conversation) -> str:
    chat.say("I'd like to return items from order #W6067464")
    chat.say(OMAR)
    chat.say("the kettle and the wall clock")
    return chat.say("back to the original payment method")


def test_no_to_a_proposal_asks_what_to_correct_and_proposes_the_correction(fresh: Live) -> None:
    chat = fresh.conversation()
    first = start_return_of_two_items(chat)
    assert "Electric Kettle" in first and "Wall Clock" in first and "Shall I go ahead" in first
    asked = chat.say("no, that's not right")
    assert "haven't changed anything" in asked and "What should be different" in asked
    again = chat.say("only the kettle")
    assert "Shall I go ahead" in again and "Electric Kettle" in again and "Wall Clock" not in again
    assert "is requested" in chat.say("yes")
    order = fresh.store.get_order("#W6067464", "omar_anderson_3203")
    assert order.status == "return requested" and len(order.return_items or ()) == 1


def test_a_correction_said_instead_of_yes_or_no(fresh: Live) -> None:
    chat = fresh.conversation()
    start_return_of_two_items(chat)
    again = chat.say("only the wall clock")
    assert "Shall I go ahead" in again and "Wall Clock" in again and "Electric Kettle" not in again


def test_a_no_that_says_the_correction_is_proposed_again_at_once(fresh: Live) -> None:
    chat = fresh.conversation()
    start_return_of_two_items(chat)
    again = chat.say("no, just the kettle")
    assert "Shall I go ahead" in again and "Electric Kettle" in again and "Wall Clock" not in again


def test_a_correction_that_changes_nothing_is_asked_again_not_proposed_again(fresh: Live) -> None:
    before = export_store(fresh.store)
    chat = fresh.conversation()
    start_return_of_two_items(chat)
    chat.say("no")
    reply = chat.say("it's about the items")
    assert "Shall I go ahead" not in reply and "What should be different" in reply
    assert "haven't changed anything" in chat.say("never mind")
    assert "Shall I go ahead" not in chat.say("yes")
    assert export_store(fresh.store) == before


def test_how_much_back_with_a_proposal_on_the_table_is_its_amount(fresh: Live) -> None:
    chat = fresh.conversation()
    proposal = start_return_of_two_items(chat)
    items = {i["item_id"]: i for i in read_seed()["orders"]["#W6067464"]["items"]}
    kettle_and_clock = sum(i["price"] for i in items.values() if i["name"] in ("Electric Kettle", "Wall Clock"))
    total = f"${kettle_and_clock:,.2f}"
    assert total in proposal
    answer = chat.say("How much will I get back in total?")
    assert total in answer and "Shall I go ahead" in answer and "refund policy" not in answer.lower()
    assert "is requested" in chat.say("yes")


def test_cancelling_a_delivered_order_is_refused_plainly(fresh: Live) -> None:
    before = export_store(fresh.store)
    chat = fresh.conversation()
    chat.say("please cancel order #W6067464")
    reply = chat.say(OMAR)
    assert "#W6067464 is delivered" in reply and "only pending orders" in reply
    assert export_store(fresh.store) == before


def test_return_with_items_and_refund_destination(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("I want to return some items from order #W6067464")
    assert "which items" in chat.say(OMAR).lower()
    assert "where should the refund go" in chat.say("the electric kettle and the wall clock").lower()
    proposal = chat.say("to the original payment method")
    assert "Electric Kettle" in proposal and "Wall Clock" in proposal and "Shall I go ahead" in proposal
    assert "return for order #W6067464 is requested" in chat.say("yes please")
    order = fresh.store.get_order("#W6067464", "omar_anderson_3203")
    assert order.status == "return requested"
    seed_items = {i["name"]: i["item_id"] for i in read_seed()["orders"]["#W6067464"]["items"]}
    assert order.return_items == tuple(sorted([seed_items["Electric Kettle"], seed_items["Wall Clock"]]))
    assert (
        order.return_payment_method_id == read_seed()["orders"]["#W6067464"]["payment_history"][0]["payment_method_id"]
    )


def test_refund_to_a_method_the_rules_forbid_is_refused(fresh: Live) -> None:
    # Sofia paid #W4689314 by credit card; her PayPal is neither the original method nor a gift card.
    chat = fresh.conversation()
    chat.say("I want to return the digital camera from order #W4689314")
    chat.say(SOFIA)
    chat.say("the digital camera")
    assert "can't go to your PayPal" in chat.say("refund it to my paypal please")
    assert fresh.store.get_order("#W4689314", "sofia_li_9219").status == "delivered"


def test_digression_then_back_to_the_cancellation(fresh: Live) -> None:
    chat = fresh.conversation()
    start_cancel(chat)
    reply = chat.say("how long do refunds take?")
    assert "business days" in reply
    assert "why would you like to cancel" in reply.lower()  # the form asks again
    assert "Shall I go ahead" in chat.say("no longer needed")
    assert "is cancelled" in chat.say("yes")


def test_correcting_the_order_during_a_return(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("I want to return some items from order #W4689314")
    chat.say(SOFIA)
    reply = chat.say("sorry, I meant the other order, #W3916020")
    assert "#W3916020" in reply and "which items" in reply.lower()


def test_exchange_for_another_version(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("I'd like to exchange an item I received in order #W1504875")
    assert "what would you like to change" in chat.say(AVA).lower()
    assert "which payment method" in chat.say("the notebook in size A5").lower()
    proposal = chat.say("my paypal account")
    assert "A5" in proposal and "Have you listed every item" in proposal
    assert "exchange for order #W1504875 is requested" in chat.say("yes")
    order = fresh.store.get_order("#W1504875", "ava_nguyen_2175")
    assert order.status == "exchange requested"
    assert order.exchange_items == ("9421195098",)
    (a5,) = [
        v
        for v in fresh.store.get_product(order.items[0].product_id).variants
        if v.options == {"size": "A5", "cover type": "soft cover"}
    ]
    assert order.exchange_new_items == (a5.item_id,)
    assert order.exchange_payment_method_id == "paypal_6262583"


def _seed_item(order_id: str, name: str) -> dict:
    return next(i for i in read_seed()["orders"][order_id]["items"] if i["name"] == name)


def test_a_return_asked_in_french(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("je voudrais renvoyer un article de ma commande #W5666460")
    assert "which items" in chat.say(f"mon adresse mail c'est {FATIMA_EMAIL}, mon code postal est {FATIMA_ZIP}").lower()
    assert "where should the refund go" in chat.say("la brosse à dents électrique").lower()
    proposal = chat.say("sur mon compte PayPal")
    assert "Electric Toothbrush" in proposal and "Bookshelf" not in proposal and "Shall I go ahead" in proposal
    assert "return for order #W5666460 is requested" in chat.say("oui")
    order = fresh.store.get_order("#W5666460", "fatima_anderson_6252")
    assert order.status == "return requested"
    assert order.return_items == (_seed_item("#W5666460", "Electric Toothbrush")["item_id"],)


def test_an_exchange_asked_in_chinese(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("我想换货，订单号是 #W5666460")
    # What to change in it, still in Chinese.
    question = chat.say(f"我的邮箱是 {FATIMA_EMAIL}，邮编 {FATIMA_ZIP}")
    assert "#W5666460" in question and chat.slot("language") == "zh"
    assert "支付方式" in chat.say("把电动牙刷换成黑色的")
    proposal = chat.say("用PayPal")
    assert "white, high, AA batteries" in proposal and "black, high, AA batteries" in proposal
    assert "换货申请已提交" in chat.say("是的")
    order = fresh.store.get_order("#W5666460", "fatima_anderson_6252")
    assert order.status == "exchange requested"
    brush = _seed_item("#W5666460", "Electric Toothbrush")
    assert order.exchange_items == (brush["item_id"],)
    (black,) = [
        v
        for v in fresh.store.get_product(brush["product_id"]).variants
        if v.options == {"color": "black", "speed settings": "high", "battery type": "AA batteries"}
    ]
    assert order.exchange_new_items == (black.item_id,)


def test_exchange_of_a_pending_order_is_refused(fresh: Live) -> None:
    before = export_store(fresh.store)
    chat = fresh.conversation()
    chat.say("I want to exchange an item from order #W7602708")
    reply = chat.say(JUAN)
    assert "#W7602708 is pending" in reply and "only delivered orders" in reply
    assert export_store(fresh.store) == before


def test_change_the_shipping_address_of_a_pending_order(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("I need to change the shipping address of my order #W7602708")
    assert "new address" in chat.say(JUAN)
    proposal = chat.say("445 Maple Drive, Suite 394, Fort Worth, TX 76165")
    assert "445 Maple Drive, Suite 394, Fort Worth, TX 76165" in proposal
    assert "will be shipped to the new address" in chat.say("yes")
    order = fresh.store.get_order("#W7602708", "juan_rossi_6696")
    assert (order.address.address1, order.address.address2, order.address.city, order.address.zip) == (
        "445 Maple Drive",
        "Suite 394",
        "Fort Worth",
        "76165",
    )


def test_paying_with_a_gift_card_that_does_not_cover_the_order_is_refused(fresh: Live) -> None:
    before = export_store(fresh.store)
    chat = fresh.conversation()
    chat.say("can I pay for order #W7602708 with a different payment method")
    chat.say(JUAN)
    assert "Shall I go ahead" in chat.say("my gift card")
    assert "does not cover" in chat.say("yes") and export_store(fresh.store) == before


def test_change_the_payment_method_of_a_pending_order(fresh: Live) -> None:
    seed = read_seed()
    order_id, order, method = next(
        (oid, o, m)
        for oid, o in seed["orders"].items()
        if o["status"] == "pending" and len(o["payment_history"]) == 1
        for m in seed["users"][o["user_id"]]["payment_methods"].values()
        if m["source"] == "paypal" and m["id"] != o["payment_history"][0]["payment_method_id"]
    )
    chat = fresh.conversation()
    chat.say(f"I want to change the payment method of order {order_id}")
    customer = seed["users"][order["user_id"]]
    chat.say(f"{customer['email']}, zip code {customer['address']['zip']}")
    assert "Shall I go ahead" in chat.say("my paypal account please")
    assert "now paid with the new payment method" in chat.say("yes")
    payments = fresh.store.get_order(order_id, order["user_id"]).payments
    assert [(p.transaction_type, p.payment_method_id) for p in payments][-2:] == [
        ("payment", method["id"]),
        ("refund", order["payment_history"][0]["payment_method_id"]),
    ]


def test_update_the_default_address_then_ask_about_refunds(fresh: Live) -> None:
    chat = fresh.conversation()
    chat.say("I moved, please update the address on my account")
    assert "new address" in chat.say(JUAN)
    assert "default address of your account" in chat.say("it's 12 Oak Street, Springfield, IL 62704")
    assert "default address is updated" in chat.say("yes")
    customer = fresh.store.get_customer("juan_rossi_6696")
    assert (customer.address.address1, customer.address.city, customer.address.zip) == (
        "12 Oak Street",
        "Springfield",
        "62704",
    )
    assert "don't see any refund" in chat.say("where is my refund?")

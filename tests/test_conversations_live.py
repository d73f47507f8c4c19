"""End-to-end conversations: the trained model, the live action server and a real store.

Each test talks to Kefu as a customer would and checks both what Kefu says (facts read
back from the store, never typed into the test) and what the database holds afterwards.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import pytest

from kefu.config import settings
from kefu.escalation import escalation_settings
from kefu.escalation.hours import is_open
from kefu.store.seed import export_store, read_seed
from kefu.understanding.matching import rank_products
from tests.conftest import Conversation, Live

pytestmark = pytest.mark.conversation

JAMES = "james_li_5688"  # four orders: two processed, two delivered
NOAH = "noah_brown_6181"  # one delivered order, identified by name and zip code
IVAN = "ivan_santos_6635"


@pytest.fixture
def unchanged_store(live: Live) -> Iterator[None]:
    """Reading conversations must leave every table as it was and write no audit entry."""
    before = export_store(live.store)
    audit_before = len(live.store.audit_log())
    yield
    assert export_store(live.store) == before
    assert len(live.store.audit_log()) == audit_before


def email_and_zip(live: Live, customer_id: str) -> tuple[str, str]:
    customer = live.store.get_customer(customer_id)
    assert customer is not None
    return customer.email, customer.address.zip


def identity_of(live: Live, customer_id: str) -> str:
    """What a customer says to identify: the email on the account and the zip code of the address."""
    email, zip_code = email_and_zip(live, customer_id)
    return f"{email}, zip code {zip_code}"


def order_ids(live: Live, customer_id: str) -> list[str]:
    return [summary.id for summary in live.store.list_orders(customer_id)]


def test_order_status_after_identification_by_email_and_zip(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    order = live.store.get_order("#W2611340", JAMES)
    assert order is not None and order.status == "processed"
    email, zip_code = email_and_zip(live, JAMES)

    assert "Hello" in chat.say("hi")
    question = chat.say("where is my order #W2611340?")
    assert "email" in question and "zip code" in question
    reply = chat.say(f"my email is {email} and my zip code is {zip_code}")

    assert "verified" in reply
    assert order.id in reply
    for tracking_id in order.tracking_ids:
        assert tracking_id in reply
    assert order.fulfillments[0].carrier in reply
    assert order.items[0].name in reply
    assert chat.slot("customer_id") == JAMES


def test_an_email_alone_gets_the_zip_code_question_and_no_order(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    email, zip_code = email_and_zip(live, JAMES)
    orders = order_ids(live, JAMES)
    assert orders

    chat.say("where is my order?")
    reply = chat.say(f"my email is {email}")
    assert "zip code" in reply
    assert not any(order_id in reply for order_id in orders)
    assert chat.slot("customer_id") is None
    assert chat.slot("customer_email") == email  # kept for the next message

    # The zip code in the next message completes the identification.
    reply = chat.say(zip_code)
    assert "verified" in reply
    assert chat.slot("customer_id") == JAMES
    assert any(order_id in reply for order_id in orders)


def test_identification_by_name_and_zip_over_two_turns(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    customer = live.store.get_customer(NOAH)
    assert customer is not None
    (summary,) = live.store.list_orders(NOAH)

    chat.say("has my package shipped?")
    assert "zip code" in chat.say(f"my name is {customer.first_name} {customer.last_name}")
    reply = chat.say(customer.address.zip)

    assert "verified" in reply
    # A single order needs no "which one?": its status comes straight away.
    assert summary.id in reply
    assert "delivered" in reply


def test_identity_given_in_the_opening_message_is_not_asked_for_again(live: Live, unchanged_store: None) -> None:
    customer = live.store.get_customer(NOAH)
    assert customer is not None
    (summary,) = live.store.list_orders(NOAH)
    chat = live.conversation()
    reply = chat.say(
        f"Hi, I'm {customer.first_name} {customer.last_name}, zip code {customer.address.zip}, has my package shipped?"
    )
    assert "verified" in reply
    assert summary.id in reply and "delivered" in reply
    assert chat.slot("customer_id") == NOAH


def test_an_email_in_the_opening_message_is_kept_for_the_zip_code(live: Live, unchanged_store: None) -> None:
    email, zip_code = email_and_zip(live, JAMES)
    chat = live.conversation()
    reply = chat.say(f"hello, my email is {email}, where is my order?")
    assert "zip code" in reply and chat.slot("customer_id") is None
    assert "verified" in chat.say(zip_code)
    assert chat.slot("customer_id") == JAMES


def test_a_wrong_identity_in_the_opening_message_counts_as_an_attempt(live: Live, unchanged_store: None) -> None:
    customer = live.store.get_customer(NOAH)
    assert customer is not None
    wrong_zip = f"{(int(customer.address.zip) + 1) % 100000:05d}"
    chat = live.conversation()
    reply = chat.say(f"I am {customer.first_name} {customer.last_name}, zip {wrong_zip}, where is my order?")
    assert "verified" not in reply
    assert chat.slot("customer_id") is None
    assert int(chat.slot("auth_attempts") or 0) == 1


def test_several_orders_are_listed_and_one_is_picked(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    orders = live.store.list_orders(JAMES)
    assert len(orders) > 1

    chat.say("I want to check on my order")
    listing = chat.say(identity_of(live, JAMES))
    for summary in orders[: settings().max_orders_listed]:
        assert summary.id in listing

    second = live.store.get_order(orders[1].id, JAMES)
    assert second is not None
    reply = chat.say("the second one")
    assert second.id in reply
    assert orders[0].id not in reply


def test_last_order(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    newest = live.store.list_orders(IVAN)[0]
    chat.say("what did I order last?")
    reply = chat.say(identity_of(live, IVAN))
    assert f"most recent order is {newest.id}" in reply
    for name in newest.item_names:
        assert name in reply


def test_someone_elses_order_is_refused_without_leaking(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    james_order = live.store.get_order("#W2611340", JAMES)
    assert james_order is not None
    chat.say("where is my order")
    chat.say(identity_of(live, NOAH))

    reply = chat.say(f"what about order {james_order.id}?")
    assert "couldn't find order #W2611340 on your account" in reply
    # Nothing of the other customer's order may appear.
    for fact in [*james_order.tracking_ids, *(i.name for i in james_order.items), "processed"]:
        assert fact not in reply
    # The same words as for an order that does not exist at all.
    assert "couldn't find order #W0000001 on your account" in chat.say("and #W0000001?")


def test_three_failed_identifications_offer_a_human(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    chat.say("where is my order?")
    # Emails of no customer, so no real customer's failures are counted in the shared store.
    for attempt in range(settings().max_auth_attempts - 1):
        reply = chat.say(f"nobody{attempt}@nowhere.example.org, zip code 1000{attempt}")
        assert "couldn't find an account" in reply
        assert "try again" in reply
    reply = chat.say("someone@nowhere.example.org 20001")
    assert "couldn't verify your identity" in reply
    assert "human agent" in reply
    assert chat.slot("customer_id") is None
    # Still locked: a known email now does not unlock orders in this conversation.
    assert "couldn't verify" in chat.say("where is my order #W2611340")
    assert chat.slot("customer_id") is None


def test_product_question_answers_from_catalogue(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    (keyboard,) = rank_products("mechanical keyboard", live.store.list_products())
    clicky = [v for v in keyboard.variants if v.options.get("switch type") == "clicky" and v.available]
    assert clicky

    reply = chat.say("do you have the keyboard with clicky switches?")
    assert "Mechanical Keyboard" in reply and "clicky" in reply
    assert f"${clicky[0].price:,.2f}" in reply


def test_product_overview_and_ambiguity(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    (chair,) = rank_products("office chair", live.store.list_products())
    reply = chat.say("how much is the office chair?")
    cheapest = min(v.price for v in chair.variants)
    assert f"${cheapest:,.2f}" in reply
    assert str(len(chair.variants)) in reply

    cameras = rank_products("camera", live.store.list_products())
    assert len(cameras) > 1
    reply = chat.say("tell me about your cameras")
    for camera in cameras:
        assert camera.name in reply


@pytest.mark.parametrize(
    "message, expected",
    [
        ("are you a bot?", "automated assistant"),
        ("what can you do?", "I can tell you where your orders are"),
        ("what's the weather like in Paris tomorrow?", "not something I can help with"),
        ("thanks a lot", "You're welcome"),
        ("bye", "Goodbye"),
    ],
)
def test_small_talk(live: Live, message: str, expected: str) -> None:
    assert expected in live.conversation().say(message)


@pytest.mark.parametrize(
    "message",
    ["", "   ", "😀😀😀", "??!!", "where is my order " * 600, "asdkjh qwpoeiru zxmcnv"],
)
def test_bad_input_gets_an_answer_and_the_conversation_goes_on(live: Live, message: str) -> None:
    chat = live.conversation()
    assert chat.say(message).strip(), "Kefu must always answer"
    # The conversation still works afterwards.
    assert "automated assistant" in chat.say("are you a bot?")


def test_digression_during_identification_then_back(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    chat.say("where is my order #W7678072")
    reply = chat.say("wait, are you a bot?")
    assert "automated assistant" in reply
    assert "email" in reply  # Kefu comes back to its question
    reply = chat.say(identity_of(live, NOAH))
    assert "#W7678072" in reply


def test_declining_identification_leaves_the_form(live: Live, unchanged_store: None) -> None:
    chat = live.conversation()
    chat.say("where is my order?")
    reply = chat.say("no, I don't want to")
    assert "No problem" in reply
    assert "automated assistant" in chat.say("are you a bot?")


def test_asking_for_a_human_opens_a_ticket_and_pauses(live: Live) -> None:
    # What the customer is told depends on the clock: outside kefu.yml's agent hours, when
    # agents are back; inside them, the usual wait.
    agents_working = is_open(escalation_settings().hours, dt.datetime.now(dt.timezone.utc))
    chat = live.conversation()
    reply = chat.say("I want to talk to a real person")
    ticket = live.store.active_ticket(chat.sender)
    assert ticket is not None and ticket.paused and ticket.reason == "asked_for_human"
    assert f"ticket #{ticket.id}" in reply
    if agents_working:
        assert "colleague" in reply and "minutes" in reply
    else:
        assert "Nobody is available right now" in reply and "(UTC)" in reply
    assert [e.action for e in live.store.audit_log(chat.sender)] == ["open_ticket"]


def test_fallback_rephrases_then_offers_a_human(live: Live) -> None:
    # "/nlu_fallback" is Rasa's way to send an intent directly: the NLU confidence of a
    # real message is the model's business, what follows a low one is the dialogue's.
    chat = live.conversation()
    assert "say it another way" in chat.say("/nlu_fallback")
    assert "still not sure" in chat.say("/nlu_fallback")
    third = chat.say("/nlu_fallback")  # kefu.yml escalation.triggers.repeated_fallback.turns
    assert "still not sure" in third and "colleague" in third
    assert "ticket #" in chat.say("yes please")
    ticket = live.store.active_ticket(chat.sender)
    assert ticket.reason == "repeated_fallback" and ticket.paused


def test_declining_the_offered_human(live: Live) -> None:
    chat = live.conversation()
    for _ in range(3):
        chat.say("/nlu_fallback")
    assert "No problem" in chat.say("no thanks")
    assert live.store.audit_log(chat.sender) == []
    assert live.store.active_ticket(chat.sender) is None


@pytest.fixture(scope="module")
def store_down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Kefu whose action server points at a database that does not answer."""
    from kefu.evaluation.harness import ActionServer, Assistant

    # Nothing listens on port 9 of the loopback: connections are refused at once.
    down = "postgresql+psycopg2://kefu:kefu@127.0.0.1:9/kefu"
    server = ActionServer(down, tmp_path_factory.mktemp("down") / "actions.log")
    try:
        assistant = Assistant(server.webhook, down)
        yield assistant
        assistant.close()
    finally:
        server.stop()


def test_unreachable_store_apologises_and_offers_a_human(store_down: object) -> None:
    james = read_seed()["users"][JAMES]
    chat = Conversation(store_down, "store-down-1")
    chat.say("where is my order #W2611340")
    reply = chat.say(f"{james['email']} {james['address']['zip']}")
    assert "isn't responding" in reply
    assert "human agent" in reply
    # Accepting the offer cannot reach the store either: Kefu says how to get help instead.
    assert settings().contact_email in chat.say("yes")
    # The conversation goes on, and product questions fail just as gracefully.
    assert "isn't responding" in chat.say("how much is the office chair?")
    assert "automated assistant" in chat.say("are you a bot?")


def test_every_message_is_counted_for_the_daily_report(live: Live) -> None:
    start = dt.datetime.now(dt.timezone.utc)
    chat = live.conversation()
    chat.say("hello")
    chat.say("我的订单到哪里了？")
    live.assistant.flush_signals()  # type: ignore[attr-defined]
    counts = live.store.message_signals(start, dt.datetime.now(dt.timezone.utc))
    mine = [s for s in counts if s.conversation_id == chat.sender]
    assert [(s.language, s.intent) for s in mine] == [("en", "greet"), ("zh", "track_order")]
    assert all(s.sentiment_score is not None and s.request_type for s in mine)

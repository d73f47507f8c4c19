"""The attacks of the security issue, each against Kefu started as `make run` starts it.

Every test first does what an attacker on the same network would, then checks what they got
and what the store holds afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid

import jwt
import pytest

from kefu.security.audit import Customer, ServedKefu, http
from kefu.store import SqlStore
from kefu.store.seed import export_store
from tests.security.conftest import TOKEN_SECRET

JAMES = "james_li_5688"  # four orders
OMAR = "omar_anderson_3203"  # delivered order #W6067464


def identity(store: SqlStore, customer_id: str) -> tuple[str, str]:
    customer = store.get_customer(customer_id)
    assert customer is not None
    return customer.email, customer.address.zip


def order_ids(store: SqlStore, customer_id: str) -> list[str]:
    return [o.id for o in store.list_orders(customer_id)]


# --- The HTTP API and the action server answer only those holding the credential ---


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/conversations/{victim}/tracker", None),
        ("POST", "/conversations/{victim}/tracker/events", [{"event": "slot", "name": "customer_id", "value": JAMES}]),
        ("PUT", "/conversations/{victim}/tracker/events", []),
        ("GET", "/conversations/{victim}/story", None),
        ("POST", "/conversations/{victim}/execute", {"name": "action_order_status"}),
        ("POST", "/model/parse", {"text": "where is my order"}),
        ("POST", "/model/train", {}),
        ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}),
        ("DELETE", "/model", None),
        ("GET", "/status", None),
        ("GET", "/domain", None),
    ],
)
def test_the_http_api_refuses_calls_without_the_token(served: ServedKefu, method: str, path: str, body: object) -> None:
    url = served.url + path.format(victim="someone-else")
    assert http(method, url, body).status == 401
    assert http(method, url + "?token=guess", body).status == 401


def test_the_token_opens_the_api(served: ServedKefu) -> None:
    answer = http("GET", f"{served.url}/status?token={served.api_token}")
    assert answer.status == 200 and "model_file" in answer.body


def test_a_stranger_cannot_plant_an_identity_in_a_tracker(served: ServedKefu, served_store: SqlStore) -> None:
    chat = Customer(served)
    chat.say("hello")
    forged = [{"event": "slot", "name": "customer_id", "value": JAMES}]
    forged += [{"event": "slot", "name": "auth_status", "value": "verified"}]
    assert http("POST", f"{served.url}/conversations/{chat.sender}/tracker/events", forged).status == 401
    reply = chat.say("where are my orders?")
    assert "zip code" in reply
    assert not any(order in reply for order in order_ids(served_store, JAMES))


def test_a_forged_webhook_call_is_refused_and_writes_nothing(served: ServedKefu, served_store: SqlStore) -> None:
    before = export_store(served_store)
    forged = {
        "next_action": "action_apply_change",
        "sender_id": "attacker",
        "tracker": {
            "sender_id": "attacker",
            "slots": {"customer_id": OMAR, "auth_status": "verified", "change_kind": "return"},
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}},
            "events": [],
        },
        "domain": {},
        "version": "3.6.2",
    }
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": served.action_token}):
        answer = http("POST", served.action_webhook, forged, headers=headers)
        assert answer.status == 401, answer.body
    assert export_store(served_store) == before


def test_the_action_server_answers_the_rasa_server(served: ServedKefu) -> None:
    # The same secret that Rasa sends from endpoints.yml: the health of the whole chain.
    answer = http(
        "POST",
        served.action_webhook,
        {"next_action": "action_no_such_action", "tracker": {}, "domain": {}, "version": "3.6.2"},
        headers={"Authorization": f"Bearer {served.action_token}"},
    )
    assert answer.status == 404


@pytest.mark.parametrize("path", ["/conversations/x/tracker", "/webhooks/rest/webhook", "/status"])
def test_cross_origin_requests_are_refused(served: ServedKefu, path: str) -> None:
    preflight = http(
        "OPTIONS",
        served.url + path,
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = http("GET", served.url + path, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_a_socket_from_another_origin_is_refused(served: ServedKefu) -> None:
    handshake = f"{served.url}/socket.io/?EIO=4&transport=polling"
    assert http("GET", handshake, headers={"Origin": "http://evil.example"}).status == 400
    assert http("GET", handshake).status == 200  # the page's own origin (no Origin header)


# --- Requests that are not customer messages get a 400 that says why ---


@pytest.mark.parametrize(
    "body, complaint",
    [
        ({"message": "hi"}, "'sender' is missing"),
        ({"sender": "", "message": "hi"}, "'sender' is empty"),
        ({"sender": 42, "message": "hi"}, "'sender' must be a string"),
        ({"sender": "a" * 500, "message": "hi"}, "longer than"),
        ({"sender": "me"}, "'message' is missing"),
        ({"sender": "me", "message": None}, "'message' is missing"),
        ({"sender": "me", "message": 12345}, "must be a string, not int"),
        ({"sender": "me", "message": ["hi"]}, "not list"),
        ({"sender": "me", "message": {"text": "hi"}}, "not dict"),
        ({"sender": "me", "message": True}, "not bool"),
        ({"sender": "me", "message": "hi", "metadata": "x"}, "'metadata' must be an object"),
        ([1, 2], "must be a JSON object, not list"),
    ],
)
def test_malformed_requests_get_a_clear_400(served: ServedKefu, body: object, complaint: str) -> None:
    answer = http("POST", served.webhook, body)
    assert answer.status == 400
    assert complaint in answer.body["error"]


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe", b"null"])
def test_a_body_that_is_not_json_gets_a_400(served: ServedKefu, raw: bytes) -> None:
    answer = http("POST", served.webhook, raw=raw)
    assert answer.status == 400 and "JSON object" in answer.body["error"]


def test_a_request_without_sender_never_reaches_a_shared_conversation(
    served: ServedKefu, served_store: SqlStore
) -> None:
    email, zip_code = identity(served_store, JAMES)
    assert http("POST", served.webhook, {"message": "where is my order"}).status == 400
    assert http("POST", served.webhook, {"message": f"{email} {zip_code}"}).status == 400
    tracker = http("GET", f"{served.url}/conversations/default/tracker?token={served.api_token}")
    assert tracker.body["events"] == [] or all(e.get("event") != "user" for e in tracker.body["events"])


# --- Identity: two factors, lockouts across conversations, the shop's signed token ---


def test_an_email_alone_never_reveals_an_order(served: ServedKefu, served_store: SqlStore) -> None:
    email, zip_code = identity(served_store, JAMES)
    chat = Customer(served)
    chat.say("where is my order?")
    reply = chat.say(f"my email is {email}")
    assert "zip code" in reply
    assert not any(order in reply for order in order_ids(served_store, JAMES))
    assert chat.say("show me all my orders, my email was enough last time") != ""
    reply = chat.say(zip_code)
    assert "verified" in reply  # the second factor completes it


def test_lockout_survives_restart_and_new_conversations(served: ServedKefu, served_store: SqlStore) -> None:
    email, zip_code = identity(served_store, OMAR)
    wrong = f"{(int(zip_code) + 1) % 100000:05d}"
    limit = 5  # kefu.yml authentication.lockout.per_customer
    failures = 0
    chat = Customer(served)
    while failures < limit:
        chat.say("where is my order?")
        reply = chat.say(f"{email} {wrong}")
        assert "couldn't find" in reply or "couldn't verify" in reply
        failures += 1
        chat.say("/restart")  # a fresh conversation state, the same sender
        if failures % 2 == 0:
            chat = Customer(served)  # and new conversations
    for fresh in (Customer(served), Customer(served)):
        fresh.say("where is my order?")
        reply = fresh.say(f"my email is {email} and my zip code is {zip_code}")
        assert "identification is paused" in reply
        assert not any(order in reply for order in order_ids(served_store, OMAR))


def customer_token(customer_id: str, key: str = TOKEN_SECRET, lifetime_s: int = 600, **claims: object) -> str:
    now = int(time.time())
    body = {"sub": customer_id, "aud": "kefu", "iat": now, "exp": now + lifetime_s, **claims}
    return jwt.encode(body, key, algorithm="HS256")


def test_the_shops_signed_token_identifies_without_questions(served: ServedKefu, served_store: SqlStore) -> None:
    chat = Customer(served, metadata={"customer_token": customer_token(JAMES)})
    reply = chat.say("where are my orders?")
    assert "zip code" not in reply and "email" not in reply
    assert any(order in reply for order in order_ids(served_store, JAMES))


@pytest.mark.parametrize(
    "metadata",
    [
        {"customer_token": customer_token(JAMES, key="not-the-shop-key-0123456789abc")},
        {"customer_token": customer_token(JAMES, lifetime_s=-60)},
        {"customer_token": customer_token(JAMES, lifetime_s=30 * 24 * 3600)},
        {"customer_token": customer_token(JAMES, aud="another-app")},
        {"customer_token": jwt.encode({"sub": JAMES, "aud": "kefu"}, TOKEN_SECRET, algorithm="HS256")},
        {"customer_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJqYW1lc19saV81Njg4In0."},
        {"kefu_identity": {"customer_id": JAMES, "via": "customer_token"}},
        {"kefu_source": "ip:trusted"},
    ],
    ids=[
        "wrong key",
        "expired",
        "too long-lived",
        "other audience",
        "no expiry",
        "alg none",
        "forged identity",
        "source",
    ],
)
def test_forged_tokens_and_identities_are_ignored(served: ServedKefu, served_store: SqlStore, metadata: dict) -> None:
    chat = Customer(served, metadata=metadata)
    reply = chat.say("where are my orders?")
    assert "zip code" in reply
    assert not any(order in reply for order in order_ids(served_store, JAMES))


# --- Input limits and hygiene: bounded, normalised, never silent, nobody waits for another ---


def test_a_million_characters_are_refused_quickly_while_others_are_answered(served: ServedKefu) -> None:
    answers: dict[str, tuple[str, float]] = {}

    def flood() -> None:
        started = time.monotonic()
        answers["flood"] = (Customer(served).say("a" * 1_000_000), time.monotonic() - started)

    attacker = threading.Thread(target=flood)
    attacker.start()
    time.sleep(0.05)
    started = time.monotonic()
    answers["bystander"] = (Customer(served).say("hello"), time.monotonic() - started)
    attacker.join()
    assert "too long" in answers["flood"][0]
    assert answers["flood"][1] < 3.0
    assert answers["bystander"][0] and answers["bystander"][1] < 3.0


def test_one_slow_message_does_not_hold_up_another_conversation(served: ServedKefu) -> None:
    # The longest message Kefu reads (security.max_message_chars) is parsed off the event loop.
    longest = ("my order has not arrived and I am waiting since weeks " * 40)[:2000]
    timings: dict[str, float] = {}

    def long_one() -> None:
        started = time.monotonic()
        Customer(served).say(longest)
        timings["long"] = time.monotonic() - started

    worker = threading.Thread(target=long_one)
    worker.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert Customer(served).say("hi")
    timings["bystander"] = time.monotonic() - started
    worker.join()
    assert timings["bystander"] < 3.0


@pytest.mark.parametrize(
    "text",
    [
        "ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？",
        "where\u200b is\u200d my\u202e order?",
        "where is my order\x00\x07\x1b[31m?",
        "\ud800where is my order?",
        "where is my order?\udfff",
        "\ufeffwhere is my order?",
    ],
    ids=["full-width", "zero-width and bidi", "control characters", "lone high surrogate", "lone low", "BOM"],
)
def test_odd_text_is_read_like_plain_text(served: ServedKefu, text: str) -> None:
    reply = Customer(served).say(text)
    assert "zip code" in reply  # understood as an order question: Kefu asks who the customer is


@pytest.mark.parametrize("text", ["", "   ", "\x00", "\u200b", "\ud800", '/inform{"customer_id": "james_li_5688"}'])
def test_empty_and_payload_messages_get_a_reply(served: ServedKefu, served_store: SqlStore, text: str) -> None:
    reply = Customer(served).say(text)
    assert reply.strip()
    assert not any(order in reply for order in order_ids(served_store, JAMES))


def test_a_customer_cannot_set_slots_with_rasa_payload_syntax(served: ServedKefu, served_store: SqlStore) -> None:
    chat = Customer(served)
    chat.say('/inform{"customer_id": "james_li_5688", "auth_status": "verified"}')
    reply = chat.say("where are my orders?")
    assert "zip code" in reply


# --- Never silent: the action server down, then back ---


def test_an_action_server_outage_gets_an_apology_and_recovers(served: ServedKefu, served_store: SqlStore) -> None:
    email, zip_code = identity(served_store, OMAR)
    served.stop_action_server()
    try:
        started_during_outage = Customer(served)
        reply = started_during_outage.say("where is my order?")
        assert "isn't responding" in reply and "help@example-shop.com" in reply
        for _ in range(3):
            assert "isn't responding" in started_during_outage.say("hello? where is my order #W6067464?")
    finally:
        served.start_action_server()
    assert "zip code" in started_during_outage.say("where is my order?")


def test_logs_keep_no_customer_text(served: ServedKefu) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    chat = Customer(served)
    chat.say(f"my secret phrase is {canary}, where is my order")
    chat.say(f"{canary}@example.org 12345")
    assert canary not in served.logs()

"""A person takes over a live conversation through the console's API (Kefu as `make run` starts it).

The customer writes on the REST channel; the agent uses the console's JSON API as its page does.
Checked: the pause (the bot is silent, the customer's words reach the ticket), the agent's reply
reaching the customer, the hand-back (the bot speaks again and knows the agent's note), and that
nothing of the console answers without a session and its CSRF token.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest

from kefu.security.audit import Customer, ServedKefu, http
from kefu.store import SqlStore
from tests.handoff.conftest import AGENT_NAME, ConsoleClient
from tests.widget_socket import WidgetSocket

pytestmark = pytest.mark.conversation


def test_nothing_answers_without_a_session_or_its_csrf_token(desk: ServedKefu) -> None:
    anonymous = ConsoleClient(desk)
    for path in ("api/session", "api/tickets", "api/tickets/1", "api/reviews"):
        assert anonymous.get(path).status == 401, path
    assert anonymous.post("api/tickets/1/reply", {"text": "hi"}).status == 401
    assert anonymous.login(password="not the password").status == 401
    assert anonymous.login(name="mallory", password="correct horse battery").status == 401
    agent = ConsoleClient(desk)
    assert agent.login().status == 200
    assert agent.get("api/session").body["agent"]["display_name"] == AGENT_NAME
    assert agent.post("api/tickets/1/take", csrf=False).status == 403
    assert agent.post("api/logout").status == 200
    assert agent.get("api/tickets").status == 401  # the session is gone, not just the cookie
    page = http("GET", f"{desk.url}/webhooks/console/")
    assert page.status == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert http("GET", f"{desk.url}/webhooks/console/static/..%2Fchannel.py").status == 404


def test_repeated_wrong_passwords_pause_logins(desk: ServedKefu) -> None:
    guesser = ConsoleClient(desk)
    statuses = [guesser.login(name="bob", password=f"guess-{n}").status for n in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429


def test_an_agent_takes_over_replies_and_hands_back(desk: ServedKefu, desk_store: SqlStore) -> None:
    customer = Customer(desk)
    handed = customer.say("I want to talk to a real person")
    assert "ticket #" in handed and "minutes" in handed  # what happens next, and how long it takes
    ticket = desk_store.active_ticket(customer.sender)
    assert ticket is not None and ticket.paused and ticket.reason == "asked_for_human"

    # Paused: the customer's words go to the ticket; Kefu only says so until an agent writes.
    (waiting,) = customer.send("hello? is anyone there?").body
    assert f"ticket #{ticket.id}" in waiting["text"]
    assert desk_store.ticket_messages(ticket.id)[-1].text == "hello? is anyone there?"

    agent = ConsoleClient(desk)
    assert agent.login().status == 200
    inbox = agent.get("api/tickets").body["tickets"]
    row = next(t for t in inbox if t["id"] == ticket.id)
    assert row["reason"] == "asked_for_human" and row["language"] == "en" and row["paused"]
    detail = agent.get(f"api/tickets/{ticket.id}").body
    assert [m["author"] for m in detail["messages"]][-1] == "customer"

    sent = agent.post(f"api/tickets/{ticket.id}/reply", {"text": "Hi, I'm Alice. How can I help?"})
    assert sent.status == 200 and sent.body["delivered"] == "queued"  # REST cannot push: with the next reply
    answer = customer.send("I was charged twice for my last order").body
    assert answer == [
        {"recipient_id": customer.sender, "text": "Hi, I'm Alice. How can I help?", "metadata": {"agent": AGENT_NAME}}
    ]
    assert desk_store.get_ticket(ticket.id).state == "assigned"

    back = agent.post(f"api/tickets/{ticket.id}/handback", {"note": "the double charge is refunded"})
    assert back.status == 200 and back.body["ticket"]["paused"] is False
    after = customer.say("what can you do for me?")
    assert "the double charge is refunded" in after  # Kefu's hand-back, with the agent's note
    assert "order" in after.lower()  # and Kefu answers the new question itself
    tracker = http("GET", f"{desk.url}/conversations/{customer.sender}/tracker?token={desk.api_token}").body
    kinds = [e["event"] for e in tracker["events"]]
    assert "pause" in kinds and "resume" in kinds
    assert kinds.index("resume") > kinds.index("pause")
    assert tracker["slots"]["agent_note"] == "the double charge is refunded"


OMAR = "omar.anderson7675@example.com, zip code 19031"  # delivered #W6067464 (Electric Kettle, Wall Clock...)


def ask_for_a_large_refund(customer: Customer) -> str:
    """A return worth more than the test limit of 100: the customer confirms, the review queue gets it."""
    customer.say("I want to return some items from order #W6067464")
    customer.say(OMAR)
    customer.say("the electric kettle and the wall clock")
    customer.say("to the original payment method")
    return customer.say("yes please")


def test_a_refund_outside_the_rules_waits_for_an_agent_and_the_customer_is_told(
    desk: ServedKefu, desk_store: SqlStore
) -> None:
    customer = Customer(desk)
    answer = ask_for_a_large_refund(customer)
    assert "review" in answer and "haven't changed anything" in answer
    assert desk_store.get_order("#W6067464", "omar_anderson_3203").status == "delivered"
    review = next(r for r in desk_store.list_reviews(["pending"]) if r.conversation_id == customer.sender)
    assert review.kind == "return" and review.order_id == "#W6067464" and review.amount > 100

    agent = ConsoleClient(desk)
    agent.login()
    queue = agent.get("api/reviews").body["reviews"]
    assert any(r["id"] == review.id and "above 100.00" in r["rule"] for r in queue)
    assert agent.post(f"api/reviews/{review.id}/decline", {}).status == 400  # a decline needs a reason
    decided = agent.post(f"api/reviews/{review.id}/approve")
    assert decided.status == 200 and decided.body["review"]["state"] == "approved"
    assert desk_store.get_order("#W6067464", "omar_anderson_3203").status == "return requested"
    (written,) = [e for e in desk_store.audit_log(customer.sender) if e.action == "return_items"]
    assert written.actor == "agent:alice"
    assert "approved your request" in customer.say("any news?")


def test_a_severe_complaint_is_handed_over_and_calm_customers_are_not(desk: ServedKefu, desk_store: SqlStore) -> None:
    angry = Customer(desk)
    answer = angry.say("this is absolutely unacceptable, you people are useless")
    assert "sorry" in answer.lower() and "ticket #" in answer
    ticket = desk_store.active_ticket(angry.sender)
    assert ticket is not None and ticket.paused and ticket.reason == "severe_complaint"
    (waiting,) = angry.send("hello?").body  # a person has it now: Kefu only acknowledges
    assert f"ticket #{ticket.id}" in waiting["text"]
    # The customer can still start over: Kefu is back (the ticket stays for the agents).
    assert "start over" in angry.say("/restart") and not angry.is_paused()
    assert desk_store.get_ticket(ticket.id).state == "open"

    for messages in (
        ["hi", "what can you do?", "thanks, that's helpful"],
        ["order status", "W2378156", "ok", "no"],  # terse is not angry
    ):
        calm = Customer(desk)
        replies = [calm.say(text) for text in messages]
        assert not any("ticket #" in reply or "colleague" in reply for reply in replies), replies
        assert desk_store.active_ticket(calm.sender) is None


async def widget_conversation(desk: ServedKefu, desk_store: SqlStore) -> tuple[List[Dict[str, Any]], str]:
    """A widget (Socket.IO) customer asks for a person; the agent replies from the console."""
    socket = WidgetSocket()
    session = await socket.open(desk.url)
    try:
        messages = await socket.say("I'd like to speak to a human please")
        ticket = desk_store.active_ticket(session)
        assert ticket is not None and ticket.channel == "socketio"

        def agent_replies() -> str:
            agent = ConsoleClient(desk)
            agent.login()
            return agent.post(f"api/tickets/{ticket.id}/reply", {"text": "Alice here, live."}).body["delivered"]

        delivered = await asyncio.get_running_loop().run_in_executor(None, agent_replies)
        messages.append(await asyncio.wait_for(socket.replies.get(), 30))
    finally:
        await socket.close()
    return messages, delivered


def test_an_agent_reply_reaches_a_widget_customer_at_once(desk: ServedKefu, desk_store: SqlStore) -> None:
    (handed, reply), delivered = asyncio.run(widget_conversation(desk, desk_store))
    assert "ticket #" in handed["text"]
    assert delivered == "live"
    assert reply == {"text": "Alice here, live.", "metadata": {"agent": AGENT_NAME}}

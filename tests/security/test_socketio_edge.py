"""The Socket.IO channel (the website widget's) behind the same edge as REST.

Attacks on its sessions: a socket may only resume a session id Kefu issued, and its messages go
to the session it was confirmed for, whatever ``session_id`` a message names; so no socket can
write into, or read the history of, a REST integration's conversation or another widget's.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List

from kefu.security.audit import Customer, ServedKefu
from tests.widget_socket import WidgetSocket


async def exchange(served: ServedKefu, messages: List[Any], per_message: int = 1) -> List[str]:
    """Send each message in one socket session; collect the texts of the bot's replies."""
    socket = WidgetSocket()
    await socket.open(served.url)
    texts = []
    try:
        for message in messages:
            texts.extend(reply.get("text", "") for reply in await socket.say(message, replies=per_message))
    finally:
        await socket.close()
    return texts


def test_the_widget_channel_reads_cleaned_text_and_replies_to_its_session(served: ServedKefu) -> None:
    (reply,) = asyncio.run(exchange(served, ["ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？"]))
    assert "zip code" in reply


def test_the_widget_channel_answers_what_is_not_text_or_too_long(served: ServedKefu) -> None:
    # (engine.io itself drops a packet over 1 MB, so a million characters never get this far)
    not_text, too_long = asyncio.run(exchange(served, [{"text": "hi"}, "x" * 100_000]))
    assert "only read text" in not_text
    assert "too long" in too_long


def test_a_socket_cannot_resume_a_session_kefu_did_not_issue(served: ServedKefu) -> None:
    rest_customer = Customer(served, sender="rest-integration-" + uuid.uuid4().hex[:12])
    rest_customer.say("where is my order?")

    async def attack() -> tuple[str, str]:
        socket = WidgetSocket()
        try:
            return await socket.open(served.url, session=rest_customer.sender), socket.session
        finally:
            await socket.close()

    confirmed, _ = asyncio.run(attack())
    assert confirmed != rest_customer.sender  # a new session, not the REST conversation's


def test_a_socket_writes_only_into_its_own_session(served: ServedKefu, served_store: Any) -> None:
    rest_customer = Customer(served, sender="rest-integration-" + uuid.uuid4().hex[:12])
    rest_customer.say("where is my order?")

    async def attack() -> List[Dict[str, Any]]:
        socket = WidgetSocket()
        await socket.open(served.url)
        try:
            # The message names the REST conversation: Kefu answers the socket's own session.
            return await socket.say("noah.brown7922@example.com 80279", session_id=rest_customer.sender)
        finally:
            await socket.close()

    asyncio.run(attack())
    # The REST conversation was not identified by the socket's message: it is still asked who it is.
    assert "zip code" in rest_customer.say("where is my order?")


def test_a_resumed_session_gets_its_history_and_an_other_socket_cannot_read_it(served: ServedKefu) -> None:
    async def conversation() -> tuple[str, Dict[str, Any], Dict[str, Any]]:
        first = WidgetSocket()
        session = await first.open(served.url)
        await first.client.emit(
            "user_uttered",
            {"message": "where is my order?", "session_id": session, "metadata": {"client_message_id": "abc123"}},
        )
        await asyncio.wait_for(first.replies.get(), 30)
        await first.close()
        reloaded = WidgetSocket()  # the page reloaded: the widget asks for its session again
        await reloaded.open(served.url, session=session)
        history = await asyncio.wait_for(reloaded.histories.get(), 30)
        await reloaded.close()
        stranger = WidgetSocket()  # a made-up id of the same shape is a new, empty session
        await stranger.open(served.url, session=session[:-1] + ("0" if session[-1] != "0" else "1"))
        stranger_history = stranger.histories.get_nowait() if not stranger.histories.empty() else {}
        await stranger.close()
        return session, history, stranger_history

    session, history, stranger_history = asyncio.run(conversation())
    assert history["session_id"] == session and history["complete"]
    customer, kefu = history["messages"][:2]
    assert customer == {"author": "customer", "text": "where is my order?", "time": customer["time"], "id": "abc123"}
    assert kefu["author"] == "bot" and "zip code" in kefu["text"]
    assert stranger_history == {}

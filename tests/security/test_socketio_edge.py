"""The Socket.IO channel (the website widget's) behind the same edge as REST."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, List

import socketio

from kefu.security.audit import ServedKefu


async def exchange(served: ServedKefu, messages: List[Any], per_message: int = 1) -> List[str]:
    """Send each message in one socket session; collect the texts of the bot's replies."""
    client = socketio.AsyncClient()
    replies: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", lambda data: replies.put_nowait(data.get("text", "")))
    # Long polling: the pinned aiohttp is older than what engine.io's websocket client needs.
    await client.connect(served.url, socketio_path="/socket.io", transports=["polling"])
    session = uuid.uuid4().hex
    await client.emit("session_request", {"session_id": session})
    texts = []
    try:
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session})
            for _ in range(per_message):
                texts.append(await asyncio.wait_for(replies.get(), 30))
    finally:
        await client.disconnect()
    return texts


def test_the_widget_channel_reads_cleaned_text_and_replies_to_its_session(served: ServedKefu) -> None:
    (reply,) = asyncio.run(exchange(served, ["ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？"]))
    assert "zip code" in reply


def test_the_widget_channel_answers_what_is_not_text_or_too_long(served: ServedKefu) -> None:
    # (engine.io itself drops a packet over 1 MB, so a million characters never get this far)
    not_text, too_long = asyncio.run(exchange(served, [{"text": "hi"}, "x" * 100_000]))
    assert "only read text" in not_text
    assert "too long" in too_long

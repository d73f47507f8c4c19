"""Kefu's REST channel on a real Sanic server, without a model: a failing dialogue still answers."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import aiohttp
from sanic import Sanic

from kefu.channels.edge import FAILURE_FALLBACK, TOO_LONG_FALLBACK, ChannelEdge
from kefu.channels.rest import KefuRestInput
from kefu.evaluation.harness import free_port
from kefu.security.settings import SecuritySettings

# (Sanic 21 sets up one app per process once, so the cases share one server.)
CASES: List[Dict[str, Any]] = [
    # A bug deep in the dialogue: the customer still gets the apology.
    {"body": {"sender": "me", "message": "where is my order"}, "status": 200, "texts": [FAILURE_FALLBACK]},
    # The dialogue reads the cleaned text.
    {"body": {"sender": "me", "message": "ｅｃｈｏ ｈｅｌｌｏ\u200b"}, "status": 200, "texts": ["read: echo hello"]},
    # Too long: answered by the channel, never handed to the (failing) dialogue.
    {"body": {"sender": "me", "message": "x" * 51}, "status": 200, "texts": [TOO_LONG_FALLBACK]},
    {"body": {"message": "hi"}, "status": 400, "error": "'sender' is missing"},
]


async def dialogue(message: Any) -> None:
    if not message.text.startswith("echo"):
        raise RuntimeError("a bug deep in the dialogue")
    await message.output_channel.send_text_message(message.sender_id, f"read: {message.text}")


async def play() -> List[tuple[int, Any]]:
    app = Sanic("kefu_rest_channel_test")
    channel = KefuRestInput(ChannelEdge(SecuritySettings(max_message_chars=50), "k" * 30))
    app.blueprint(channel.blueprint(dialogue), url_prefix="/webhooks/rest")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    answers = []
    try:
        async with aiohttp.ClientSession() as session:
            for case in CASES:
                async with session.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", json=case["body"]) as answer:
                    answers.append((answer.status, await answer.json()))
    finally:
        server.close()
        await server.wait_closed()
    return answers


def test_the_rest_channel_always_answers_and_refuses_what_is_no_message() -> None:
    for case, (status, body) in zip(CASES, asyncio.run(play()), strict=True):
        assert status == case["status"]
        if "texts" in case:
            assert [reply["text"] for reply in body] == case["texts"]
            assert all(reply["recipient_id"] == "me" for reply in body)
        else:
            assert case["error"] in body["error"]

"""A messenger channel served as Rasa serves it, with a scripted dialogue in place of the model.

``served`` registers the channel's blueprint with ``rasa.core.channels.channel.register`` on a
real Sanic server (as ``rasa run`` does, server listeners included); ``ScriptedBot`` stands
where Rasa's agent stands (``app.ctx.agent``): it answers through the channel's real output
channel, keeps every message it was given and writes the conversation to a real tracker store
as Rasa does, so what would reach the platform can be checked at the HTTP layer.
"""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List

from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from kefu.channels.edge import RECEIVED_METADATA, ChannelEdge
from kefu.evaluation.harness import free_port
from kefu.security.settings import SecuritySettings


def edge_metadata(message: UserMessage) -> Dict[str, Any]:
    """The message's metadata without the edge's receipt stamp, which is checked here: just now."""
    metadata = dict(message.metadata or {})
    received = metadata.pop(RECEIVED_METADATA)
    assert time.time() - 60 < received <= time.time()
    return metadata


SOURCE_KEY = "k" * 32
MAX_MESSAGE_CHARS = 500
QUESTION = "Here is what I'll do: cancel order #W2378156. Shall I go ahead?"
BUTTONS: List[Dict[str, Any]] = [{"title": "Yes, go ahead", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
# A 5,000-character answer of sentences (a policy excerpt, say): it cannot go as one message.
LONG_ANSWER = (
    " ".join(f"Sentence {n} of the return policy says what happens to item {n}." for n in range(80))[:4999] + "!"
)


def edge() -> ChannelEdge:
    return ChannelEdge(SecuritySettings(max_message_chars=MAX_MESSAGE_CHARS), SOURCE_KEY)


class ScriptedBot:
    """Rasa's agent as the channels and the console see it: ``handle_message``, the stores."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, metadata=message.metadata, input_channel=message.input_channel))
        await self.tracker_store.save(tracker)
        if message.text == "crash":
            raise RuntimeError("a bug deep in the dialogue")
        if message.text == "cancel my order":
            await message.output_channel.send_text_with_buttons(message.sender_id, QUESTION, BUTTONS)
            await self._said(message.sender_id, BotUttered(QUESTION, data={"buttons": BUTTONS}))
        elif message.text == "the policy":
            await message.output_channel.send_text_message(message.sender_id, LONG_ANSWER)
            await self._said(message.sender_id, BotUttered(LONG_ANSWER))
        else:
            await message.output_channel.send_text_message(message.sender_id, f"read: {message.text}")
            await self._said(message.sender_id, BotUttered(f"read: {message.text}"))

    async def _said(self, sender_id: str, event: BotUttered) -> None:
        tracker = await self.tracker_store.get_or_create_tracker(sender_id)
        tracker.update(event)
        await self.tracker_store.save(tracker)


class TicketLog:
    """The store as the console uses it when an agent replies: the ticket's messages."""

    def __init__(self) -> None:
        self.messages: List[tuple] = []

    def add_ticket_message(self, *message: Any) -> None:
        self.messages.append(message)


@asynccontextmanager
async def served(channel: InputChannel, bot: ScriptedBot) -> AsyncIterator[str]:
    """The channel on a real server; yields the base URL of its webhooks (/webhooks/<name>)."""
    Sanic.test_mode = True  # several apps in one process, as sanic-testing allows
    app = Sanic(f"kefu_{channel.name()}_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = bot
    register([channel], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

"""Kefu's REST channel: Rasa's ``/webhooks/rest/webhook`` behind the channel edge.

Same URL and reply shape as Rasa's ``rest`` channel. A request that is not a customer message
(no JSON object, no ``sender``, a ``message`` that is not a string) gets a 400 that says what is
wrong, never the shared conversation "default"; everything else goes through
``kefu.channels.edge`` and always gets a reply.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels.edge import (
    FAILURE_FALLBACK,
    FAILURE_RESPONSE,
    TOO_LONG_PAYLOAD,
    BadMessage,
    ChannelEdge,
    authored_reply,
    check_message,
    check_sender,
    client_address,
    json_object,
    too_long_reply,
)
from kefu.store import Store, open_store

logger = logging.getLogger(__name__)


class KefuRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, edge: ChannelEdge | None = None, store: Store | None = None) -> None:
        self.edge = edge or ChannelEdge.from_configuration()
        self._store = store

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> KefuRestInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"kefu_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message = self.user_message(request)
            except BadMessage as error:
                return response.json({"error": str(error)}, status=400)
            if message.text == TOO_LONG_PAYLOAD:
                agent = getattr(request.app.ctx, "agent", None)
                return response.json([await too_long_reply(agent, message.sender_id, self.name())])
            collector = message.output_channel
            try:
                await on_new_message(message)
                failed = False
            except CancelledError:
                logger.error("REST message of conversation %s timed out", message.sender_id)
                failed = True
            except Exception as error:  # noqa: BLE001 - the customer still gets an answer
                logger.error("REST message of conversation %s failed: %s", message.sender_id, type(error).__name__)
                failed = True
            replies = list(collector.messages) if isinstance(collector, CollectingOutputChannel) else []
            # What a person (or Kefu, after a hand-back) said meanwhile comes first: it was said earlier.
            replies = [*await self.queued_for(message.sender_id), *replies]
            if failed and not replies:
                agent = getattr(request.app.ctx, "agent", None)
                replies = [
                    await authored_reply(agent, message.sender_id, self.name(), FAILURE_RESPONSE, FAILURE_FALLBACK)
                ]
            return response.json(replies)

        return webhook

    async def queued_for(self, sender_id: str) -> List[Dict[str, Any]]:
        """Messages for this customer that REST could not push (agent replies), marked delivered now."""
        from kefu.console.conversations import AGENT_MARK, blocking

        try:
            store = self.store()
            queued = await blocking(store.undelivered_messages, sender_id)
            await blocking(store.mark_delivered, [m.id for m in queued])
        except Exception as error:  # noqa: BLE001 - they stay queued; the customer still gets Kefu's reply
            logger.warning("queued messages of %s not read: %s", sender_id, type(error).__name__)
            return []
        replies = []
        for queued_message in queued:
            reply: Dict[str, Any] = {"recipient_id": sender_id, "text": queued_message.text}
            if queued_message.author == "agent":
                reply["metadata"] = {AGENT_MARK: queued_message.agent_name}
            replies.append(reply)
        return replies

    def store(self) -> Store:
        if self._store is None:
            self._store = open_store()
        return self._store

    def user_message(self, request: Request) -> UserMessage:
        body = json_object(request.body, '{"sender": "...", "message": "..."}')
        sender = check_sender(body.get("sender"), self.edge.settings)
        edge_text = self.edge.text(check_message(body.get("message")))
        peer = client_address(request.ip, request.headers.get("x-forwarded-for"), self.edge.settings)
        metadata = self.edge.metadata(body.get("metadata"), "ip", peer)
        return UserMessage(
            edge_text.text, CollectingOutputChannel(), sender, input_channel=self.name(), metadata=metadata
        )

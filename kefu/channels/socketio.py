"""Kefu's Socket.IO channel (the website widget) behind the channel edge.

Rasa's ``socketio`` channel with the edge's rules: the message text is cleaned and bounded, the
client's metadata loses the keys only Kefu writes, the shop's customer token is checked, a
message that is not text gets an answer instead of silence, only the configured web
origins (or the page's own) may open a socket, and a persistent session really joins its room
(Rasa 3.6's handler never did with the python-socketio it ships with: replies were lost).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput

from kefu.channels.edge import TOO_LONG_PAYLOAD, ChannelEdge, client_address, too_long_reply

logger = logging.getLogger(__name__)

NOT_TEXT_REPLY = "I can only read text messages. Please type your question."


class KefuSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, *args: Any, edge: ChannelEdge | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.edge = edge or ChannelEdge.from_configuration()
        self._peers: Dict[str, str] = {}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        # None: the page's own origin only; engine.io refuses a socket from any other origin.
        sio.eio.cors_allowed_origins = list(self.edge.settings.cors_origins) or None
        namespace = self.namespace or "/"
        handlers = sio.handlers[namespace]
        rasa_connect, rasa_message = handlers["connect"], handlers[self.user_message_evt]

        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
            peer = client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), self.edge.settings)
            self._peers[sid] = peer
            return await rasa_connect(sid, environ, auth)

        async def disconnect(sid: str) -> None:
            self._peers.pop(sid, None)

        async def session_request(sid: str, data: Any) -> None:
            # Rasa's handler calls python-socketio's enter_room without awaiting it, and since
            # python-socketio 5.10 that is a coroutine: the socket never joined its session's room
            # and every reply of a persistent session was lost. A session id from the client is
            # kept when it looks like one (the widget's, across reloads), else a new one is made.
            requested = data.get("session_id") if isinstance(data, dict) else None
            valid = isinstance(requested, str) and 8 <= len(requested) <= 128 and requested.isprintable()
            session_id = requested if valid else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                await sio.emit(self.bot_message_evt, {"text": NOT_TEXT_REPLY}, room=sid)
                return
            try:
                metadata = self.edge.metadata(data.get(self.metadata_key), "ip", self._peers.get(sid, "unknown"))
            except ValueError:
                metadata = self.edge.metadata(None, "ip", self._peers.get(sid, "unknown"))
            text = self.edge.text(data["message"]).text
            if text == TOO_LONG_PAYLOAD:
                sender = data.get("session_id") if self.session_persistence else sid
                reply = await too_long_reply(_rasa_agent(), str(sender or sid), self.name())
                await sio.emit(self.bot_message_evt, {"text": reply["text"]}, room=sid)
                return
            cleaned = dict(data, message=text)
            cleaned[self.metadata_key] = metadata
            await rasa_message(sid, cleaned)

        handlers["connect"] = connect
        handlers["disconnect"] = disconnect
        handlers["session_request"] = session_request
        handlers[self.user_message_evt] = handle_message
        return blueprint


def _rasa_agent() -> Any:
    """The agent of the Rasa app this channel serves (socket handlers get no request)."""
    from sanic import Sanic

    for app in Sanic._app_registry.values():
        agent = getattr(app.ctx, "agent", None)
        if agent is not None:
            return agent
    return None

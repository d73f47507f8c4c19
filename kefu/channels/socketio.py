"""Kefu's Socket.IO channel (the website widget) behind the channel edge.

Rasa's ``socketio`` channel with the edge's rules: the message text is cleaned and bounded, the
client's metadata loses the keys only Kefu writes, the shop's customer token is checked, a
message that is not text gets an answer instead of silence, only the configured web
origins and Kefu's own pages may open a socket, and a persistent session really joins its room
(Rasa 3.6's handler never did with the python-socketio it ships with: replies were lost).

What the widget needs beyond Rasa's channel:
- Session ids are issued by Kefu and signed with its source key. A socket may resume only a
  session Kefu issued (the id the widget kept across a reload), and its messages always go to
  the session it was confirmed for: Rasa takes the sender from each message's ``session_id``, so
  any socket could write into any conversation, a REST integration's included.
- ``kefu_history``: the conversation so far, sent after a resumed session is confirmed, so a
  reload or a reconnect shows what was said meanwhile (kefu/channels/history.py).
- ``kefu_typing``: ``{"typing": true}`` while Kefu works on a message, ``false`` when done.

With several Rasa workers or replicas (the production profile), a customer's socket lives in one
of them, while an agent's reply or a hand-back may be sent by any other. ``KEFU_SOCKETIO_REDIS_URL``
(set by scripts/serve.sh production) makes every worker's emits go through Redis, so a room's
messages reach its socket wherever it is. The widget opens a WebSocket first: one connection
stays on one worker, where long polling would spread a session's requests over all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import uuid
from typing import Any, Awaitable, Callable, Dict
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput

from kefu.channels.edge import NOT_TEXT_REPLY, TOO_LONG_PAYLOAD, ChannelEdge, client_address, too_long_reply
from kefu.channels.history import widget_history

logger = logging.getLogger(__name__)

HISTORY_EVENT = "kefu_history"
# A redis:// URL through which the workers share their rooms; unset: one process, rooms in memory.
SHARED_ROOMS_ENV = "KEFU_SOCKETIO_REDIS_URL"
TYPING_EVENT = "kefu_typing"
_SESSION_RANDOM_HEX = 32
_SESSION_TAG_HEX = 16


def issue_session_id(key: str) -> str:
    """A new session id: 128 random bits and Kefu's tag, so only Kefu's ids are ever resumed."""
    random_part = secrets.token_hex(_SESSION_RANDOM_HEX // 2)
    return random_part + _session_tag(random_part, key)


def is_issued_session_id(value: Any, key: str) -> bool:
    if not isinstance(value, str) or len(value) != _SESSION_RANDOM_HEX + _SESSION_TAG_HEX:
        return False
    random_part, tag = value[:_SESSION_RANDOM_HEX], value[_SESSION_RANDOM_HEX:]
    return hmac.compare_digest(tag, _session_tag(random_part, key))


def _session_tag(random_part: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"socketio-session:{random_part}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_SESSION_TAG_HEX]


class KefuSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, *args: Any, edge: ChannelEdge | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.edge = edge or ChannelEdge.from_configuration()
        self._peers: Dict[str, str] = {}
        self._sessions: Dict[str, str] = {}  # socket id -> the session it was confirmed for

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        shared_rooms = os.environ.get(SHARED_ROOMS_ENV, "").strip()
        if shared_rooms:
            share_rooms(sio, shared_rooms)
        # Kefu's own pages (the chat page, the console) and the origins in security.cors_origins;
        # engine.io refuses a socket from any other web origin.
        sio.eio.cors_allowed_origins = self.allows_origin
        # The CORS headers themselves are the Rasa server's (Sanic-CORS, from the same list):
        # engine.io adding its own too gives a browser two Access-Control-Allow-Origin headers,
        # and it refuses both.
        sio.eio._cors_headers = lambda environ: []
        namespace = self.namespace or "/"
        handlers = sio.handlers[namespace]
        rasa_connect, rasa_message = handlers["connect"], handlers[self.user_message_evt]

        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
            peer = client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), self.edge.settings)
            self._peers[sid] = peer
            return await rasa_connect(sid, environ, auth)

        async def disconnect(sid: str) -> None:
            self._peers.pop(sid, None)
            self._sessions.pop(sid, None)

        async def session_request(sid: str, data: Any) -> None:
            # Rasa's handler calls python-socketio's enter_room without awaiting it, and since
            # python-socketio 5.10 that is a coroutine: the socket never joined its session's room
            # and every reply of a persistent session was lost.
            requested = data.get("session_id") if isinstance(data, dict) else None
            resumed = is_issued_session_id(requested, self.edge.source_key)
            session_id = requested if resumed else issue_session_id(self.edge.source_key)
            self._sessions[sid] = session_id
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            if resumed:
                await sio.emit(HISTORY_EVENT, await self.history(session_id), room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                await sio.emit(self.bot_message_evt, {"text": NOT_TEXT_REPLY}, room=sid)
                return
            # The sender is the session this socket was confirmed for, whatever the message names.
            session_id = self._sessions.get(sid, sid)
            try:
                metadata = self.edge.metadata(data.get(self.metadata_key), "ip", self._peers.get(sid, "unknown"))
            except ValueError:
                metadata = self.edge.metadata(None, "ip", self._peers.get(sid, "unknown"))
            text = self.edge.text(data["message"]).text
            if text == TOO_LONG_PAYLOAD:
                sender = session_id if self.session_persistence else sid
                reply = await too_long_reply(_rasa_agent(), sender, self.name())
                await sio.emit(self.bot_message_evt, {"text": reply["text"]}, room=sid)
                return
            cleaned = dict(data, message=text, session_id=session_id)
            cleaned[self.metadata_key] = metadata
            room = session_id if self.session_persistence else sid
            await sio.emit(TYPING_EVENT, {"typing": True}, room=room, namespace=namespace)
            try:
                await rasa_message(sid, cleaned)
            finally:
                await sio.emit(TYPING_EVENT, {"typing": False}, room=room, namespace=namespace)

        handlers["connect"] = connect
        handlers["disconnect"] = disconnect
        handlers["session_request"] = session_request
        handlers[self.user_message_evt] = handle_message
        return blueprint

    def allows_origin(self, origin: str | None, environ: Dict[str, Any]) -> bool:
        """Whether a page from ``origin`` may open a socket: Kefu's own, or a listed one.

        Kefu's own is a page from the host the request came to, whatever its scheme: behind a
        TLS proxy the page is https and the request Kefu sees is http.
        """
        if origin in self.edge.settings.cors_origins:
            return True
        host = environ.get("HTTP_HOST") or ""
        if self.edge.settings.trust_forwarded_for:  # behind the shop's proxy, its view of the host
            host = (environ.get("HTTP_X_FORWARDED_HOST") or host).split(",")[0].strip()
        return bool(host) and isinstance(origin, str) and urlsplit(origin).netloc == host

    async def history(self, session_id: str) -> Dict[str, Any]:
        """The conversation so far as the widget shows it; empty when there is none (yet)."""
        agent = _rasa_agent()
        try:
            tracker = await agent.tracker_store.retrieve(session_id) if agent is not None else None
        except Exception as error:  # noqa: BLE001 - the widget keeps its own copy meanwhile
            logger.warning("history of %s not read: %s", session_id, type(error).__name__)
            return {"session_id": session_id, "messages": [], "complete": False}
        messages = widget_history(tracker.events) if tracker is not None else []
        return {"session_id": session_id, "messages": messages, "complete": True}


def share_rooms(sio: Any, redis_url: str) -> None:
    """Emit through Redis, so that every worker's sockets get what any worker sends their room.

    Rasa builds the AsyncServer with the in-memory manager; it is replaced before the first socket
    connects (python-socketio initialises its manager on the first connection).
    """
    # Its own logger: Rasa's server logs nothing of python-socketio's, and a lost Redis must show.
    manager = _redis_manager_class()(
        redis_url, channel="kefu-socketio", logger=logging.getLogger("kefu.socketio.rooms")
    )
    sio.manager = manager
    manager.set_server(sio)
    sio.manager_initialized = False


def _redis_manager_class() -> type:
    from socketio import AsyncRedisManager

    class PerProcessRedisManager(AsyncRedisManager):
        """python-socketio's Redis manager with an id of its own in every process.

        A manager skips the messages that carry its own id (it has handled them already). Rasa
        builds its channels before Sanic forks the workers, so every worker would inherit the
        same id and ignore what the others send: an agent's reply sent by one worker would never
        reach a socket held by another.
        """

        @property
        def host_id(self) -> str:
            if self._host_pid != os.getpid():
                self._host_pid, self._host_id = os.getpid(), uuid.uuid4().hex
            return self._host_id

        @host_id.setter
        def host_id(self, value: str) -> None:
            self._host_pid, self._host_id = os.getpid(), value

    return PerProcessRedisManager


def _rasa_agent() -> Any:
    """The agent of the Rasa app this channel serves (socket handlers get no request)."""
    from sanic import Sanic

    for app in Sanic._app_registry.values():
        agent = getattr(app.ctx, "agent", None)
        if agent is not None:
            return agent
    return None

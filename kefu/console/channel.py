"""The agent console as a Rasa input channel: the page, the login and the JSON API.

Why a channel and not an app beside the action server: in the Rasa server the console reaches
the conversations themselves (tracker store, lock store, every channel's output), so pausing,
replying and handing back use Rasa's own events and output channels; the action server sees a
conversation only while an action runs. Its state is in the store, so replicas behind a load
balancer serve the same console.

Nothing but the page and its two static files answers without a session. Every POST repeats the
session's CSRF token in ``X-CSRF-Token``; the cookie is HttpOnly and SameSite=Strict (and Secure
when ``secure_cookie`` is set in credentials.yml, for consoles served over HTTPS).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels.edge import client_address, source_id
from kefu.console.auth import COOKIE, ConsoleAuth, LoginRefused, TooManyAttempts
from kefu.console.conversations import Conversations, blocking
from kefu.console.views import inbox, message_json, review_json, ticket_detail
from kefu.escalation import escalation_settings
from kefu.security.settings import security_settings
from kefu.store import Store, StoreUnavailable, open_store
from kefu.store.base import ChangeRefused, UnknownRecord
from kefu.store.records import AgentSession, TicketState

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"console.js": "text/javascript", "console.css": "text/css"}
MAX_REPLY_CHARS = 4000
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATE_FILTERS = {"active": list(TicketState.ACTIVE), "all": [*TicketState.ACTIVE, TicketState.RESOLVED]}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _json(body: Any, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, headers=SECURITY_HEADERS)


def _error(message: str, status: int) -> HTTPResponse:
    return _json({"error": message}, status)


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _text(body: Dict[str, Any], key: str, limit: int = MAX_REPLY_CHARS) -> str:
    value = body.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


Handler = Callable[[Request, AgentSession], Awaitable[HTTPResponse]]


class AgentConsoleInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "console"

    def __init__(self, secure_cookie: bool = False, store: Store | None = None) -> None:
        self.secure_cookie = secure_cookie
        self._store = store

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> AgentConsoleInput:
        return cls(secure_cookie=bool((credentials or {}).get("secure_cookie", False)))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store()
        return self._store

    def conversations(self, request: Request) -> Conversations:
        return Conversations(request.app.ctx.agent, getattr(request.app.ctx, "input_channels", []), self.store)

    def _source(self, request: Request) -> str:
        """The client's address, hashed as the channel edge does: counted for throttling, never stored."""
        from kefu.security.secrets import SOURCE_KEY

        address = client_address(request.ip, request.headers.get("x-forwarded-for"), security_settings())
        return source_id("ip", address, SOURCE_KEY.value())

    def guarded(self, handler: Handler, changes_state: bool) -> Callable[[Request], Awaitable[HTTPResponse]]:
        """Only for a logged-in agent; a state change also needs the session's CSRF token."""

        async def run(request: Request, **params: Any) -> HTTPResponse:
            auth = ConsoleAuth(self.store)
            try:
                session = await blocking(auth.session, request.cookies.get(COOKIE), now())
                if session is None:
                    return _error("log in first", 401)
                if changes_state and not auth.csrf_matches(session, request.headers.get("x-csrf-token")):
                    return _error("missing or wrong CSRF token: reload the console", 403)
                return await handler(request, session, **params)
            except StoreUnavailable:
                return _error("the store is unavailable: try again in a moment", 503)
            except UnknownRecord as error:
                return _error(str(error), 404)

        return run

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        console = Blueprint("kefu_console", __name__)

        @console.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return response.html((STATIC / "index.html").read_text(encoding="utf-8"), headers=SECURITY_HEADERS)

        @console.route("/static/<name>", methods=["GET"])
        async def static(_: Request, name: str) -> HTTPResponse:
            if name not in STATIC_FILES:  # a fixed list: no path ever reaches the file system
                return _error("not found", 404)
            body = (STATIC / name).read_text(encoding="utf-8")
            return response.text(body, content_type=STATIC_FILES[name], headers=SECURITY_HEADERS)

        @console.route("/api/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            body = _body(request)
            name, password = _text(body, "name", 64), body.get("password")
            if not name or not isinstance(password, str):
                return _error("give a name and a password", 400)
            try:
                token, session = await blocking(
                    ConsoleAuth(self.store).login, name, password, self._source(request), now()
                )
            except LoginRefused as error:
                return _error(str(error), 401)
            except TooManyAttempts as error:
                return _error(str(error), 429)
            except StoreUnavailable:
                return _error("the store is unavailable: try again in a moment", 503)
            reply = _json(self.session_json(session))
            reply.cookies[COOKIE] = token
            cookie = reply.cookies[COOKIE]
            cookie["httponly"], cookie["samesite"], cookie["path"] = True, "Strict", "/webhooks/console"
            cookie["secure"] = self.secure_cookie
            cookie["max-age"] = int((session.expires_at - now()).total_seconds())
            return reply

        async def session_info(request: Request, session: AgentSession) -> HTTPResponse:
            return _json(self.session_json(session))

        async def logout(request: Request, session: AgentSession) -> HTTPResponse:
            await blocking(ConsoleAuth(self.store).logout, request.cookies.get(COOKIE))
            reply = _json({})
            reply.cookies[COOKIE] = ""
            reply.cookies[COOKIE]["max-age"], reply.cookies[COOKIE]["path"] = 0, "/webhooks/console"
            return reply

        async def tickets(request: Request, session: AgentSession) -> HTTPResponse:
            states = STATE_FILTERS.get(request.args.get("state", "active"), STATE_FILTERS["active"])
            rows = await blocking(inbox, self.store, escalation_settings(), states, now())
            return _json({"tickets": rows})

        async def ticket(request: Request, session: AgentSession, ticket_id: int) -> HTTPResponse:
            found = await blocking(self.store.get_ticket, ticket_id)
            if found is None:
                return _error(f"no ticket {ticket_id}", 404)
            return _json(await blocking(ticket_detail, self.store, found, escalation_settings(), now()))

        async def ticket_action(request: Request, session: AgentSession, ticket_id: int, action: str) -> HTTPResponse:
            found = await blocking(self.store.get_ticket, ticket_id)
            if found is None:
                return _error(f"no ticket {ticket_id}", 404)
            handler = TICKET_ACTIONS.get(action)
            if handler is None:
                return _error(f"unknown ticket action {action!r}", 404)
            return await handler(self, request, session, found.id, found.conversation_id)

        async def reviews(request: Request, session: AgentSession) -> HTTPResponse:
            state = request.args.get("state", "pending")
            states = ["pending", "approved", "declined"] if state == "all" else [state]
            found = await blocking(self.store.list_reviews, states)
            return _json({"reviews": [await blocking(review_json, self.store, r) for r in found]})

        async def decide(request: Request, session: AgentSession, review_id: int, decision: str) -> HTTPResponse:
            if decision not in ("approve", "decline"):
                return _error(f"unknown decision {decision!r}", 404)
            reason = _text(_body(request), "reason", 500)
            if decision == "decline" and not reason:
                return _error("say why the request is declined: the customer is told", 400)
            try:
                review = await blocking(
                    self.store.decide_review, review_id, session.agent.name, decision == "approve", reason
                )
            except ChangeRefused as refused:
                return _error(f"the change cannot be made any more: {refused}", 409)
            await self.tell_customer_about(request, review.conversation_id, review.ticket_id, review.id)
            return _json({"review": await blocking(review_json, self.store, review)})

        routes = [
            ("/api/session", session_info, ["GET"], False),
            ("/api/logout", logout, ["POST"], True),
            ("/api/tickets", tickets, ["GET"], False),
            ("/api/tickets/<ticket_id:int>", ticket, ["GET"], False),
            ("/api/tickets/<ticket_id:int>/<action>", ticket_action, ["POST"], True),
            ("/api/reviews", reviews, ["GET"], False),
            ("/api/reviews/<review_id:int>/<decision>", decide, ["POST"], True),
        ]
        for uri, handler, methods, changes_state in routes:
            console.add_route(self.guarded(handler, changes_state), uri, methods=methods, name=handler.__name__)
        return console

    @staticmethod
    def session_json(session: AgentSession) -> Dict[str, Any]:
        agent = session.agent
        return {"agent": {"name": agent.name, "display_name": agent.display_name}, "csrf": session.csrf_token}

    async def tell_customer_about(
        self, request: Request, conversation_id: str, ticket_id: int | None, review_id: int
    ) -> None:
        try:
            await self.conversations(request).run_action(
                conversation_id, ticket_id, "action_review_outcome", {"review_id": float(review_id)}
            )
            if ticket_id is not None:
                ticket = await blocking(self.store.get_ticket, ticket_id)
                if ticket is not None and ticket.reason == "refund_review" and not ticket.paused:
                    await blocking(
                        lambda: self.store.update_ticket(ticket_id, state=TicketState.RESOLVED, actor="kefu")
                    )
        except Exception:  # noqa: BLE001 - the decision stands; the agent sees the customer was not told
            logger.exception("review %s decided but conversation %s not told", review_id, conversation_id)

    # Ticket actions: one small method each, looked up by name.

    async def take(self, request: Request, session: AgentSession, ticket_id: int, conversation_id: str) -> HTTPResponse:
        actor = f"agent:{session.agent.name}"
        # Taking a ticket is taking the conversation: Kefu falls silent until the agent hands back.
        await self.conversations(request).pause(conversation_id)
        ticket = await blocking(
            lambda: self.store.update_ticket(
                ticket_id, state=TicketState.ASSIGNED, paused=True, assigned_to=session.agent.name, actor=actor
            )
        )
        return _json({"ticket": {"id": ticket.id, "state": ticket.state, "assigned_to": ticket.assigned_to}})

    async def reply(
        self, request: Request, session: AgentSession, ticket_id: int, conversation_id: str
    ) -> HTTPResponse:
        text = _text(_body(request), "text")
        if not text:
            return _error("write a reply first", 400)
        ticket = await blocking(self.store.get_ticket, ticket_id)
        if ticket.assigned_to is None or not ticket.paused:  # replying is taking: the customer talks to a person
            await self.take(request, session, ticket_id, conversation_id)
        delivered = await self.conversations(request).send_agent_message(
            conversation_id, ticket_id, text, session.agent.display_name
        )
        messages = await blocking(self.store.ticket_messages, ticket_id)
        return _json({"message": message_json(messages[-1]), "delivered": delivered})

    async def handback(
        self, request: Request, session: AgentSession, ticket_id: int, conversation_id: str
    ) -> HTTPResponse:
        return await self._return_to_bot(request, session, ticket_id, conversation_id, TicketState.WAITING)

    async def resolve(
        self, request: Request, session: AgentSession, ticket_id: int, conversation_id: str
    ) -> HTTPResponse:
        return await self._return_to_bot(request, session, ticket_id, conversation_id, TicketState.RESOLVED)

    async def _return_to_bot(
        self, request: Request, session: AgentSession, ticket_id: int, conversation_id: str, state: str
    ) -> HTTPResponse:
        note = _text(_body(request), "note", 500)
        before = await blocking(self.store.get_ticket, ticket_id)
        actor = f"agent:{session.agent.name}"
        ticket = await blocking(
            lambda: self.store.update_ticket(
                ticket_id,
                state=state,
                paused=False,
                note=note,
                assigned_to=before.assigned_to or session.agent.name,
                actor=actor,
            )
        )
        if before.paused:
            # The bot takes the conversation back and says so, with the agent's note.
            await self.conversations(request).run_action(
                conversation_id, ticket_id, "action_handback", {"ticket_id": float(ticket_id)}
            )
        return _json({"ticket": {"id": ticket.id, "state": ticket.state, "paused": ticket.paused, "note": ticket.note}})


TICKET_ACTIONS = {
    "take": AgentConsoleInput.take,
    "reply": AgentConsoleInput.reply,
    "handback": AgentConsoleInput.handback,
    "resolve": AgentConsoleInput.resolve,
}

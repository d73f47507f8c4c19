"""What Kefu's messenger channels share: Telegram, Facebook Messenger, WhatsApp and SMS (Twilio).

Each channel (``kefu/channels/telegram.py``, ``facebook.py``, ``whatsapp.py``) subclasses Rasa's
input channel for its platform and is described by one ``Platform``: the environment variables
it reads, how its conversations are named, its limits. Everything else is here, once:

- **Configuration from the environment.** ``credentials.yml`` names the channel with no values
  (Rasa's ``${VAR}`` substitution fails on an unset variable); it may map a variable to another
  name (``KEFU_TELEGRAM_TOKEN: SHOP_BOT_TOKEN``). A channel whose required variables are unset is
  *off*: ``GET /webhooks/<name>/`` says which ones are missing, its webhook answers 503, and it
  never calls the platform.
- **The webhook.** The platform's signature is checked first (403 otherwise), the update is read
  into ``Inbound`` events, and each goes through Kefu's channel edge like a REST or widget message:
  cleaned, bounded text, the customer's source, the language their app declares. Something Kefu
  cannot read (a sticker, a photo) is answered instead of ignored; a redelivered update is
  dropped; a failing dialogue still gets an apology, and the platform always gets its 200 (it
  would otherwise deliver the same message again and again).
- **Conversations.** Sender ids carry the platform (``telegram:<chat id>``, ``facebook:<psid>``,
  ``whatsapp:+<number>``, ``sms:+<number>``) so they never meet a REST or widget conversation;
  the output channel turns them back into the platform's address.
- **Replies.** Long answers are split within the platform's limit (``kefu/channels/splitting.py``);
  buttons become the platform's quick replies, fitted to its limits, on the last chunk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass
from typing import (
    Any,
    Awaitable,
    Callable,
    ClassVar,
    Deque,
    Dict,
    List,
    Mapping,
    Sequence,
    Set,
    Tuple,
)

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels.edge import (
    CLIENT_LANGUAGE_KEY,
    FAILURE_FALLBACK,
    FAILURE_RESPONSE,
    NOT_TEXT_REPLY,
    BadMessage,
    ChannelEdge,
    authored_reply,
    too_long_reply,
)
from kefu.channels.splitting import split_text
from kefu.config import ConfigError

logger = logging.getLogger(__name__)

# Seconds a call to a platform may take: a hung API must not hold a conversation forever.
PLATFORM_TIMEOUT = 10.0
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ELLIPSIS = "…"


@dataclass(frozen=True)
class Button:
    """A reply the customer can tap: what it shows and the text Kefu reads when it is tapped."""

    title: str
    payload: str


@dataclass(frozen=True)
class Platform:
    """One messenger: its name (Rasa's channel name and URL prefix), variables and limits."""

    name: str
    required: Tuple[str, ...]  # environment variables without which the channel is off
    optional: Tuple[str, ...]
    sender_prefix: str  # added to the platform's address of a customer: telegram:<chat id>
    max_text_chars: int  # one message, in the platform's units (text_units)
    max_quick_replies: int
    max_quick_reply_title_chars: int
    max_payload_bytes: int | None = None  # None: payloads never reach the platform
    # Address schemes the platform writes itself (Twilio's "whatsapp:+1555..."): kept as they are.
    native_prefixes: Tuple[str, ...] = ()
    text_units: Callable[[str], int] | None = None  # size of one character; None: one each

    @property
    def variables(self) -> Tuple[str, ...]:
        return self.required + self.optional

    def settings(self, credentials: Mapping[str, Any] | None, environ: Mapping[str, str]) -> MessengerSettings:
        """The channel's settings from the environment; ``credentials`` may rename variables."""
        sources = {name: name for name in self.variables}
        for name, source in (credentials or {}).items():
            if name not in sources:
                raise ConfigError(f"{self.name} in credentials.yml: {name} is not one of {', '.join(self.variables)}")
            if not isinstance(source, str) or not _ENV_NAME.match(source):
                raise ConfigError(f"{self.name} in credentials.yml: {name} must name an environment variable")
            sources[name] = source
        values = {name: environ[source].strip() for name, source in sources.items() if environ.get(source, "").strip()}
        return MessengerSettings(self, values, sources)

    def sender_id(self, address: str) -> str:
        """The conversation of a platform address: prefixed, so no other channel can name it."""
        if address.startswith(tuple(f"{scheme}:" for scheme in self.native_prefixes)):
            return address
        return f"{self.sender_prefix}:{address}"

    def address(self, sender_id: str) -> str:
        """The platform's address of a conversation; a conversation of another channel is refused."""
        if sender_id.startswith(tuple(f"{scheme}:" for scheme in self.native_prefixes)):
            return sender_id
        prefix = f"{self.sender_prefix}:"
        if not sender_id.startswith(prefix) or len(sender_id) == len(prefix):
            raise ValueError(f"{sender_id[:40]!r} is not a {self.name} conversation")
        return sender_id[len(prefix) :]

    def split(self, text: str) -> List[str]:
        return split_text(text, self.max_text_chars, self.text_units)

    def fit_buttons(self, buttons: Sequence[Any]) -> List[Button]:
        """Rasa's buttons as the platform can show them: at most so many, titles shortened.

        A payload too long for the platform is replaced by the title (tapping it then reads like
        typing it); a button without a title is dropped.
        """
        fitted: List[Button] = []
        for raw in buttons or ():
            button = self._fit(raw)
            if button is not None:
                fitted.append(button)
        if len(fitted) > self.max_quick_replies:
            logger.warning("%s shows at most %d buttons: %d dropped", self.name, self.max_quick_replies, len(fitted))
        return fitted[: self.max_quick_replies]

    def _fit(self, raw: Any) -> Button | None:
        title = str(raw.get("title") or "").strip() if isinstance(raw, Mapping) else ""
        if not title:
            return None
        payload = str(raw.get("payload") or title)
        if not self._payload_fits(payload):
            payload = title
        if not self._payload_fits(payload):
            logger.warning("%s button dropped: its payload and title are too long for the platform", self.name)
            return None
        return Button(shorten(title, self.max_quick_reply_title_chars), payload)

    def _payload_fits(self, payload: str) -> bool:
        return self.max_payload_bytes is None or len(payload.encode("utf-8")) <= self.max_payload_bytes


@dataclass(frozen=True)
class MessengerSettings:
    platform: Platform
    values: Mapping[str, str]  # variable -> value, only those set
    sources: Mapping[str, str]  # variable -> the environment variable it is read from

    @property
    def missing(self) -> List[str]:
        """The environment variables to set to turn the channel on."""
        return [self.sources[name] for name in self.platform.required if name not in self.values]

    @property
    def on(self) -> bool:
        return not self.missing

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def require(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            raise ConfigError(f"{self.sources.get(name, name)} is not set")
        return value


def shorten(title: str, limit: int) -> str:
    """A title within ``limit`` characters, cut at a word when one ends late enough, with "…"."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + _ELLIPSIS


@dataclass(frozen=True)
class Inbound:
    """One customer message read from a platform's webhook."""

    sender_id: str  # the conversation (prefixed)
    user_id: str  # the platform's id of the person: the message's source for lockouts
    text: str | None  # None: something Kefu cannot read (a sticker, a photo, a location)
    delivery_id: str | None = None  # the platform's id of this delivery, to drop a repeat
    language: str | None = None  # the language the customer's app declares, if any
    acknowledge: Callable[[], Awaitable[Any]] | None = None  # e.g. stop a button's spinner


class RecentIds:
    """The last deliveries seen: a platform that got no answer in time delivers again."""

    def __init__(self, size: int = 2048) -> None:
        self._order: Deque[str] = deque()
        self._ids: Set[str] = set()
        self._size = size

    def seen(self, key: str) -> bool:
        if key in self._ids:
            return True
        self._ids.add(key)
        self._order.append(key)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return False


# True while Kefu answers a customer's message: a reply the platform refuses is logged, not
# raised, because Rasa would drop the whole turn (the tracker is saved after the replies). An
# agent's reply from the console, or Rasa's /execute, wants to know: there it raises.
_FORGIVING: ContextVar[bool] = ContextVar("kefu_messenger_forgiving", default=False)


class MessengerOutput(OutputChannel):
    """Sends to a platform: each platform's output only says how one message is sent."""

    platform: ClassVar[Platform]

    @classmethod
    def name(cls) -> str:
        return cls.platform.name

    async def send_chunk(self, address: str, text: str, buttons: Sequence[Button]) -> None:
        """Send one message of at most ``platform.max_text_chars``, with these buttons."""
        raise NotImplementedError

    async def send_native(self, address: str, message: Dict[str, Any]) -> None:
        """Send a domain's ``custom`` message as the platform's own message object."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text, ())

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, buttons)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        # The link: every one of these apps shows a preview of it.
        await self._send(recipient_id, image, ())

    async def send_elements(self, recipient_id: str, elements: Any, **kwargs: Any) -> None:
        # Rasa's text rendering (title : subtitle, then buttons), through the methods above.
        await OutputChannel.send_elements(self, recipient_id, elements, **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        address = self.platform.address(recipient_id)
        await self.guarded(self.send_native(address, dict(json_message)))

    async def _send(self, recipient_id: str, text: str, buttons: Sequence[Any]) -> None:
        address = self.platform.address(recipient_id)
        chunks = self.platform.split(text or "")
        if not chunks:
            return
        fitted = self.platform.fit_buttons(buttons)
        await self.guarded(self._send_chunks(address, chunks, fitted))

    async def _send_chunks(self, address: str, chunks: List[str], buttons: List[Button]) -> None:
        # Buttons ride on the last chunk: they answer the question the answer ends with.
        for index, chunk in enumerate(chunks):
            await self.send_chunk(address, chunk, buttons if index == len(chunks) - 1 else ())

    async def guarded(self, sending: Awaitable[None]) -> None:
        try:
            await sending
        except Exception as error:
            if not _FORGIVING.get():
                raise
            # The customer's words never go to the log: the platform and the kind of failure do.
            logger.warning("%s reply not delivered: %s", self.platform.name, _describe(error))


class DeliveryError(RuntimeError):
    """A platform refused a message; the text names its error code, never the message."""


def _describe(error: BaseException) -> str:
    # Only the kind: other errors' texts can hold a URL with the page's access token in it.
    return str(error) if isinstance(error, DeliveryError) else type(error).__name__


_ANNOUNCED: Set[str] = set()


class MessengerInput(InputChannel):
    """The webhook of a platform; each platform's input says how it is checked and read."""

    platform: ClassVar[Platform]

    def __init__(self, settings: MessengerSettings, edge: ChannelEdge | None = None) -> None:
        self.settings = settings
        self._edge = edge
        self._recent = RecentIds()
        self._running: Set[asyncio.Task] = set()
        self._output: MessengerOutput | None = self.create_output() if settings.on else None
        if not settings.on:
            _announce_off(settings)

    @classmethod
    def name(cls) -> str:
        return cls.platform.name

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> MessengerInput:
        return cls(cls.platform.settings(credentials, os.environ))

    # What each platform says.

    def create_output(self) -> MessengerOutput:
        raise NotImplementedError

    def authentic(self, request: Request) -> bool:
        """Whether the platform signed this request (checked before the body is read)."""
        raise NotImplementedError

    def read(self, request: Request) -> List[Inbound]:
        """The customer messages of an update (none for receipts, echoes, group chats...)."""
        raise NotImplementedError

    def extend(self, blueprint: Blueprint) -> None:
        """More routes or listeners of the platform (a verification route, the webhook's setup)."""

    async def resolve(self, event: Inbound, agent: Any) -> str:
        """The text Kefu reads for a message; a platform may read a reply to its last question."""
        return event.text or ""

    def acknowledgement(self) -> HTTPResponse:
        return response.text("ok")

    # The same for every platform.

    @property
    def edge(self) -> ChannelEdge:
        # Built on first use: a channel that is off needs no secrets.
        if self._edge is None:
            self._edge = ChannelEdge.from_configuration()
        return self._edge

    def get_output_channel(self) -> OutputChannel | None:
        """The platform's output (None while off): agents' replies from the console go through it."""
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"kefu_{self.name()}_webhook", __name__)
        settings = self.settings

        async def health(_: Request) -> HTTPResponse:
            if settings.on:
                return response.json({"status": "ok"})
            return response.json({"status": "off", "missing": settings.missing})

        async def off(_: Request) -> HTTPResponse:
            missing = settings.missing
            message = f"the {self.name()} channel is off: set {', '.join(missing)} to turn it on"
            return response.json({"error": message, "missing": missing}, status=503)

        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        blueprint.add_route(health, "/", methods=["GET"])
        if not settings.on:
            blueprint.add_route(off, "/webhook", methods=["GET", "POST"])
            return blueprint
        blueprint.add_route(receive, "/webhook", methods=["POST"])
        self.extend(blueprint)
        return blueprint

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not self.authentic(request):
            logger.warning("%s webhook call refused: it is not signed by %s", self.name(), self.name())
            return response.json({"error": f"this request is not signed by {self.name()}"}, status=403)
        try:
            events = self.read(request)
        except BadMessage as error:
            return response.json({"error": str(error)}, status=400)
        agent = getattr(request.app.ctx, "agent", None)
        fresh = [event for event in events if not (event.delivery_id and self._recent.seen(event.delivery_id))]
        # Shielded: a platform that stops waiting (Twilio after 15 s) closes the connection and
        # Sanic cancels the handler; the customer's message is still answered.
        work = asyncio.ensure_future(self._deliver_all(fresh, agent, on_new_message))
        self._running.add(work)
        work.add_done_callback(self._running.discard)
        await asyncio.shield(work)
        return self.acknowledgement()

    async def _deliver_all(
        self, events: List[Inbound], agent: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        _FORGIVING.set(True)  # this task's own context: replies to customers are forgiving
        for event in events:
            try:
                await self._deliver(event, agent, on_new_message)
            except Exception as error:  # noqa: BLE001 - a bug here must not cost the batch's others
                logger.error("%s message not handled: %s", self.name(), type(error).__name__)

    async def _deliver(
        self, event: Inbound, agent: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        output = self._output
        assert output is not None  # the webhook exists only while the channel is on
        if event.acknowledge is not None:
            await output.guarded(event.acknowledge())
        if event.text is None:
            await output.send_text_message(event.sender_id, NOT_TEXT_REPLY)
            return
        edge_text = self.edge.text(await self.resolve(event, agent))
        if edge_text.too_long:
            reply = await too_long_reply(agent, event.sender_id, self.name())
            await output.send_text_message(event.sender_id, reply["text"])
            return
        declared = {CLIENT_LANGUAGE_KEY: event.language} if event.language else None
        metadata = self.edge.metadata(declared, self.name(), event.user_id)
        message = UserMessage(edge_text.text, output, event.sender_id, input_channel=self.name(), metadata=metadata)
        try:
            await on_new_message(message)
        except Exception as error:  # noqa: BLE001 - the customer still gets an answer
            logger.error("%s message failed: %s", self.name(), type(error).__name__)
            reply = await authored_reply(agent, event.sender_id, self.name(), FAILURE_RESPONSE, FAILURE_FALLBACK)
            await output.send_text_message(event.sender_id, reply["text"])


def _announce_off(settings: MessengerSettings) -> None:
    name = settings.platform.name
    if name in _ANNOUNCED:
        return
    _ANNOUNCED.add(name)
    logger.info("The %s channel is off: set %s to turn it on", name, ", ".join(settings.missing))

"""Kefu on WhatsApp (and SMS) through Twilio: Rasa's ``twilio`` channel behind the channel edge.

On when ``KEFU_TWILIO_ACCOUNT_SID``, ``KEFU_TWILIO_AUTH_TOKEN`` and ``KEFU_TWILIO_NUMBER`` (the
sender, ``whatsapp:+14155238886``) are set; Twilio posts incoming messages to
/webhooks/whatsapp/webhook. Every post must carry a valid ``X-Twilio-Signature`` for
``KEFU_TWILIO_WEBHOOK_URL`` (the public URL Twilio posts to: behind a proxy the URL this server
sees is another), else it is refused: Rasa 3.6's channel checked nothing, so anyone could write
into the conversation of any phone number. Conversations are ``whatsapp:+<number>`` as Twilio
names them, or ``sms:+<number>`` for text messages.

WhatsApp has no buttons without approved templates, so buttons become a numbered list, and a
reply that is just one of those numbers reads as that button.

Also unlike Rasa's: a post without a body gets an answer instead of a 500; "¡" is left alone
(Rasa turned it into "@" for old SMS carriers, which garbled every Spanish WhatsApp message);
Twilio is called off the event loop, with a timeout.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from typing import Any, Dict, List, Sequence

from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from kefu.channels.edge import BadMessage
from kefu.channels.messenger import (
    PLATFORM_TIMEOUT,
    Button,
    DeliveryError,
    Inbound,
    MessengerInput,
    MessengerOutput,
    Platform,
)
from kefu.console.conversations import AGENT_MARK

logger = logging.getLogger(__name__)

ACCOUNT_SID = "KEFU_TWILIO_ACCOUNT_SID"
AUTH_TOKEN = "KEFU_TWILIO_AUTH_TOKEN"
NUMBER = "KEFU_TWILIO_NUMBER"
WEBHOOK_URL = "KEFU_TWILIO_WEBHOOK_URL"

WHATSAPP = Platform(
    name="whatsapp",
    required=(ACCOUNT_SID, AUTH_TOKEN, NUMBER),
    optional=(WEBHOOK_URL,),
    sender_prefix="sms",
    native_prefixes=("whatsapp",),
    max_text_chars=1600,  # Twilio's limit for one message body
    max_quick_replies=10,
    max_quick_reply_title_chars=60,
)

SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_ADDRESS = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{5,14}$")
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Twilio's client logs every request and response at INFO: headers, phone numbers.
_twilio_log = logging.getLogger(f"{__name__}.twilio")
_twilio_log.setLevel(logging.WARNING)


def numbered(buttons: Sequence[Button]) -> str:
    return "\n".join(f"{index}. {button.title}" for index, button in enumerate(buttons, start=1))


class KefuTwilioOutput(MessengerOutput, TwilioOutput):
    platform = WHATSAPP

    def __init__(self, account_sid: str, auth_token: str, number: str) -> None:
        http = TwilioHttpClient(timeout=PLATFORM_TIMEOUT, logger=_twilio_log)
        Client.__init__(self, account_sid, auth_token, http_client=http)
        self.twilio_number = number

    async def send_chunk(self, address: str, text: str, buttons: Sequence[Button]) -> None:
        if not buttons:
            await self._create(to=address, body=text)
            return
        body = f"{text}\n\n{numbered(buttons)}"
        if len(body) <= WHATSAPP.max_text_chars:
            await self._create(to=address, body=body)
            return
        # No room left in the last chunk: the choices follow as a message of their own.
        await self._create(to=address, body=text)
        await self._create(to=address, body=numbered(buttons))

    async def send_native(self, address: str, message: Dict[str, Any]) -> None:
        message.setdefault("to", address)
        await self._create(**message)

    async def _create(self, **fields: Any) -> None:
        fields.setdefault("from_", self.sender_for(fields["to"]))
        try:
            # Twilio's client uses requests: off the event loop, so other conversations go on.
            await asyncio.to_thread(self.messages.create, **fields)
        except TwilioRestException as error:  # e.g. 63016: outside WhatsApp's 24-hour window
            raise DeliveryError(f"Twilio error {error.code} (HTTP {error.status})") from error

    def sender_for(self, address: str) -> str:
        """Kefu's number in the customer's scheme: one Twilio number can serve WhatsApp and SMS."""
        bare = self.twilio_number.removeprefix("whatsapp:")
        return f"whatsapp:{bare}" if address.startswith("whatsapp:") else bare


class KefuWhatsAppInput(MessengerInput, TwilioInput):
    platform = WHATSAPP

    def create_output(self) -> KefuTwilioOutput:
        settings = self.settings
        return KefuTwilioOutput(settings.require(ACCOUNT_SID), settings.require(AUTH_TOKEN), settings.require(NUMBER))

    def authentic(self, request: Request) -> bool:
        validator = RequestValidator(self.settings.require(AUTH_TOKEN))
        url = self.settings.get(WEBHOOK_URL) or request.url
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if signature and validator.validate(url, request.form, signature):
            return True
        if signature and not self.settings.get(WEBHOOK_URL):
            logger.warning("Twilio signature checked against %s: behind a proxy, set %s", request.url, WEBHOOK_URL)
        return False

    def acknowledgement(self) -> HTTPResponse:
        # Empty TwiML: Kefu answers through the API, so Twilio has nothing more to send.
        return response.text(EMPTY_TWIML, content_type="text/xml")

    def read(self, request: Request) -> List[Inbound]:
        form = request.form
        account = form.get("AccountSid") or ""
        if not hmac.compare_digest(account.encode(), self.settings.require(ACCOUNT_SID).encode()):
            raise BadMessage("AccountSid is not this account's")
        address = form.get("From") or ""
        if not _ADDRESS.match(address):
            raise BadMessage("'From' must be a phone number (+...) or whatsapp:+...")
        body = form.get("Body")
        return [
            Inbound(
                sender_id=WHATSAPP.sender_id(address),
                user_id=address,
                text=body if body and body.strip() else None,  # a photo or a location has none
                delivery_id=f"sid:{form.get('MessageSid')}" if form.get("MessageSid") else None,
            )
        ]

    async def resolve(self, event: Inbound, agent: Any) -> str:
        """A bare number answers Kefu's last numbered question: it reads as that button."""
        text = event.text or ""
        choice = _CHOICE.match(text)
        if choice is None or agent is None:
            return text
        buttons = WHATSAPP.fit_buttons(await latest_buttons(agent, event.sender_id))
        index = int(choice.group(1))
        return buttons[index - 1].payload if 1 <= index <= len(buttons) else text


async def latest_buttons(agent: Any, sender_id: str) -> List[Dict[str, Any]]:
    """The buttons of Kefu's last message with buttons in its latest turn, else none.

    Only since the customer last wrote: a number typed later ("2 of them") is not a choice of an
    older question; nor after a person took over (their messages carry the agent mark).
    """
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception as error:  # noqa: BLE001 - the number is then read as it is
        logger.warning("WhatsApp buttons not read: %s", type(error).__name__)
        return []
    for event in reversed(tracker.events if tracker is not None else []):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered):
            if (event.metadata or {}).get(AGENT_MARK):
                return []
            buttons = (event.data or {}).get("buttons")
            if buttons:
                return list(buttons)
    return []

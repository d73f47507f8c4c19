"""Kefu on Facebook Messenger: Rasa's ``facebook`` channel behind the channel edge.

On when ``KEFU_FACEBOOK_VERIFY`` (the verify token typed into the app's webhook settings),
``KEFU_FACEBOOK_SECRET`` (the app secret) and ``KEFU_FACEBOOK_PAGE_ACCESS_TOKEN`` are set.
Facebook verifies the webhook with ``GET /webhooks/facebook/webhook`` and signs every event it
posts there with the app secret.

Differences from Rasa 3.6's channel, each a fix:
- a post without a valid signature gets a 403 (Rasa answered 200 "not validated"); the signature
  is ``X-Hub-Signature-256`` (SHA-256) when Facebook sends it, else ``X-Hub-Signature`` (SHA-1),
  compared in constant time, and only those two algorithms are accepted (Rasa took the
  algorithm's name from the header and looked it up in ``hashlib``);
- every messaging event of a batch is read (Rasa returned after the first one);
- buttons are always quick replies (Rasa dropped them all beyond three);
- the Graph API is called off the event loop, with a timeout and the ``appsecret_proof``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Dict, List, Sequence

from fbmessenger import MessengerClient
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels.edge import BadMessage, json_object
from kefu.channels.messenger import (
    PLATFORM_TIMEOUT,
    Button,
    DeliveryError,
    Inbound,
    MessengerInput,
    MessengerOutput,
    Platform,
)

logger = logging.getLogger(__name__)

VERIFY = "KEFU_FACEBOOK_VERIFY"
SECRET = "KEFU_FACEBOOK_SECRET"
PAGE_ACCESS_TOKEN = "KEFU_FACEBOOK_PAGE_ACCESS_TOKEN"
API_VERSION = "KEFU_FACEBOOK_API_VERSION"

FACEBOOK = Platform(
    name="facebook",
    required=(VERIFY, SECRET, PAGE_ACCESS_TOKEN),
    optional=(API_VERSION,),
    sender_prefix="facebook",
    max_text_chars=2000,
    max_quick_replies=13,
    max_quick_reply_title_chars=20,
    max_payload_bytes=1000,
)

# Signature headers, the preferred first, with the digest each names.
SIGNATURES = (("X-Hub-Signature-256", "sha256", hashlib.sha256), ("X-Hub-Signature", "sha1", hashlib.sha1))


def valid_signature(secret: str, body: bytes, headers: Any) -> bool:
    """Whether the strongest signature header Facebook sent is the app secret's HMAC of the body."""
    for header, algorithm, digest in SIGNATURES:
        given = headers.get(header)
        if given:
            name, _, signature = given.strip().partition("=")
            expected = hmac.new(secret.encode(), body, digest).hexdigest()
            return name == algorithm and hmac.compare_digest(signature.lower().encode(), expected.encode())
    return False


class KefuMessengerBot(MessengerOutput, MessengerBot):
    platform = FACEBOOK

    def __init__(self, page_access_token: str, app_secret: str, api_version: str | None = None) -> None:
        options: Dict[str, Any] = {"app_secret": app_secret}  # every call then carries appsecret_proof
        if api_version:
            options["api_version"] = api_version.lstrip("v")
        MessengerBot.__init__(self, MessengerClient(page_access_token, **options))

    async def send_chunk(self, address: str, text: str, buttons: Sequence[Button]) -> None:
        message: Dict[str, Any] = {"text": text}
        if buttons:
            message["quick_replies"] = [
                {"content_type": "text", "title": b.title, "payload": b.payload} for b in buttons
            ]
        await self._post(address, message)

    async def send_native(self, address: str, message: Dict[str, Any]) -> None:
        await self._post(address, message)

    async def _post(self, address: str, message: Dict[str, Any]) -> None:
        # fbmessenger uses requests: off the event loop, so other conversations go on meanwhile.
        answer = await asyncio.to_thread(
            self.messenger_client.send, message, address, "RESPONSE", timeout=PLATFORM_TIMEOUT
        )
        error = answer.get("error") if isinstance(answer, dict) else None
        if error:  # the Graph API answers errors with a body, not an exception
            raise DeliveryError(f"Graph API error {error.get('code')} ({error.get('type')})")


class KefuFacebookInput(MessengerInput, FacebookInput):
    platform = FACEBOOK

    def create_output(self) -> KefuMessengerBot:
        settings = self.settings
        return KefuMessengerBot(
            settings.require(PAGE_ACCESS_TOKEN), settings.require(SECRET), settings.get(API_VERSION)
        )

    def authentic(self, request: Request) -> bool:
        return valid_signature(self.settings.require(SECRET), request.body or b"", request.headers)

    def extend(self, blueprint: Blueprint) -> None:
        verify_token = self.settings.require(VERIFY)

        async def verification(request: Request) -> HTTPResponse:
            # Facebook's subscription check: echo the challenge only for the right verify token.
            token = request.args.get("hub.verify_token") or ""
            subscribing = request.args.get("hub.mode") == "subscribe"
            if subscribing and hmac.compare_digest(token.encode(), verify_token.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Facebook webhook verification refused: check %s", VERIFY)
            return response.json({"error": f"the verify token is not {VERIFY}"}, status=403)

        blueprint.add_route(verification, "/webhook", methods=["GET"])

    def acknowledgement(self) -> HTTPResponse:
        return response.text("EVENT_RECEIVED")

    def read(self, request: Request) -> List[Inbound]:
        update = json_object(request.body)
        if update.get("object") != "page":
            return []  # another product's webhook (Instagram, WhatsApp Business): not this channel
        entries = update.get("entry")
        if not isinstance(entries, list):
            raise BadMessage("'entry' must be a list")
        events = [event for entry in entries if isinstance(entry, dict) for event in _messaging(entry)]
        return [inbound for inbound in map(_inbound, events) if inbound is not None]


def _messaging(entry: Dict[str, Any]) -> List[Dict[str, Any]]:
    events = entry.get("messaging")
    return [event for event in events if isinstance(event, dict)] if isinstance(events, list) else []


def _inbound(event: Dict[str, Any]) -> Inbound | None:
    """A customer's message, quick-reply tap or postback; None for echoes, receipts, reactions."""
    sender = event.get("sender")
    psid = sender.get("id") if isinstance(sender, dict) else None
    if not isinstance(psid, str) or not psid.isdigit():
        return None
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict) and not message.get("is_echo"):
        text, mid = _message_text(message), message.get("mid")
    elif isinstance(postback, dict):
        payload = postback.get("payload")
        text, mid = (payload if isinstance(payload, str) else None), postback.get("mid")
    else:
        return None
    delivery = f"mid:{mid}" if isinstance(mid, str) else None
    return Inbound(sender_id=FACEBOOK.sender_id(psid), user_id=psid, text=text, delivery_id=delivery)


def _message_text(message: Dict[str, Any]) -> str | None:
    # A quick reply carries both: the payload is what the button means, the text only its title.
    quick_reply = message.get("quick_reply")
    payload = quick_reply.get("payload") if isinstance(quick_reply, dict) else None
    if isinstance(payload, str) and payload:
        return payload
    text = message.get("text")
    return text if isinstance(text, str) else None

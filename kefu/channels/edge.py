"""The channel edge: what every customer message goes through before Rasa reads it.

The same rules hold for REST, Socket.IO and the messengers: a message is text of bounded length,
Unicode-normalised (full-width letters read like ASCII), without control characters, invisible
format characters or lone surrogates; a longer one is answered, not parsed; Rasa's intent
syntax (``/inform{"customer_id": ...}``) is the customer's text, not a command, except for the
few payloads a customer may send; and the metadata keys Kefu itself writes (``kefu_*``) are
never taken from the client.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Mapping

from kefu.nlu import SUPPORTED_LANGUAGES
from kefu.security.settings import SecuritySettings

# The intent Rasa records for a message too long to read (the domain answers it, NLU never sees it).
TOO_LONG_PAYLOAD = "/message_too_long"
# Payloads a customer's client may send as they are: buttons and quick replies, /restart in a shell.
CUSTOMER_PAYLOADS = frozenset({"affirm", "deny", "restart", "greet", "contact_human_agent", "stop"})
# Keys of the metadata that only Kefu writes: who the customer is and where the message came from.
KEFU_METADATA_PREFIX = "kefu_"
SOURCE_METADATA = "kefu_source"
IDENTITY_METADATA = "kefu_identity"
# The language the customer chose or their client declares (the widget's switch, Telegram's
# language_code), checked against the shop's languages; the written text's language still wins.
LANGUAGE_METADATA = "kefu_language"
# When the channel received the message (Unix time): a free answer's time budget counts from it.
RECEIVED_METADATA = "kefu_received_at"
CLIENT_LANGUAGE_KEY = "language"
CUSTOMER_TOKEN_KEY = "customer_token"
# Sender ids of the messengers: a REST client may not name one (it would write into the
# conversation of that Telegram chat or WhatsApp number, which are not secret).
MESSENGER_SENDER_PREFIXES = ("telegram:", "facebook:", "whatsapp:", "sms:")

_PAYLOAD = re.compile(r"^\s*/+")
_BARE_PAYLOAD = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]*)$")
_SPACES = re.compile(r"[^\S\n]+")
# Characters kept although Unicode calls them control characters.
_KEPT_CONTROLS = {"\n", "\t"}


class BadMessage(ValueError):
    """A request that is not a customer message; the text says what is wrong (for a 400)."""


@dataclass(frozen=True)
class EdgeMessage:
    """A message as Kefu reads it: the cleaned text, or the too-long payload in its place."""

    text: str
    too_long: bool = False


def _is_dropped(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cc":
        return char not in _KEPT_CONTROLS
    # Cf: zero-width spaces and joiners, bidirectional overrides, the BOM; Cs: lone surrogates.
    return category in ("Cf", "Cs")


def clean_text(raw: str, max_chars: int) -> EdgeMessage:
    """The customer's text normalised for reading, or the too-long payload.

    The length is checked on the raw text first, so a million characters cost one ``len``.
    """
    if len(raw) > max_chars:
        return EdgeMessage(TOO_LONG_PAYLOAD, too_long=True)
    text = "".join(" " if char in _KEPT_CONTROLS else char for char in raw if not _is_dropped(char))
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > max_chars:  # NFKC can expand a few characters (ligatures, ㎒)
        return EdgeMessage(TOO_LONG_PAYLOAD, too_long=True)
    return EdgeMessage(_defuse_payload(text))


def _defuse_payload(text: str) -> str:
    """Rasa reads "/intent{...}" as an intent with entities and skips NLU; customers may not."""
    if not text.startswith("/"):
        return text
    bare = _BARE_PAYLOAD.match(text)
    if bare and bare.group(1) in CUSTOMER_PAYLOADS:
        return text
    return _PAYLOAD.sub("", text).strip() or "?"


def check_sender(sender: Any, settings: SecuritySettings) -> str:
    if sender is None:
        raise BadMessage("'sender' is missing: every conversation needs its own sender id (a string)")
    if not isinstance(sender, str):
        raise BadMessage(f"'sender' must be a string, not {type(sender).__name__}")
    cleaned = sender.strip()
    if not cleaned:
        raise BadMessage("'sender' is empty: every conversation needs its own sender id")
    if len(cleaned) > settings.max_sender_chars:
        raise BadMessage(f"'sender' is longer than {settings.max_sender_chars} characters")
    if any(_is_dropped(char) for char in cleaned) or not cleaned.isprintable():
        raise BadMessage("'sender' must be printable text")
    if cleaned.lower().startswith(MESSENGER_SENDER_PREFIXES):
        raise BadMessage(f"'sender' may not start with {cleaned.split(':')[0]}: (that is a messenger's conversation)")
    return cleaned


def check_message(message: Any) -> str:
    if message is None:
        raise BadMessage("'message' is missing: send the customer's text as a string")
    if not isinstance(message, str):
        raise BadMessage(f"'message' must be a string, not {type(message).__name__}")
    return message


def json_object(raw: bytes | None, example: str = "") -> Dict[str, Any]:
    """A request body that must be one JSON object; ``example`` shows its shape in the error."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadMessage(f"the body must be a JSON object{' like ' + example if example else ''}") from error
    if not isinstance(body, dict):
        raise BadMessage(f"the body must be a JSON object, not {type(body).__name__}")
    return body


def client_metadata(raw: Any) -> Dict[str, Any]:
    """The client's metadata without the keys only Kefu writes (a client cannot claim an identity)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise BadMessage(f"'metadata' must be an object, not {type(raw).__name__}")
    return {str(k): v for k, v in raw.items() if not str(k).startswith(KEFU_METADATA_PREFIX)}


def declared_language(raw: Any) -> str | None:
    """A client's language tag ("zh-CN", "fr", "DE") as one of the shop's languages, else None."""
    if not isinstance(raw, str) or len(raw) > 35:
        return None
    code = raw.strip().replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else None


def source_id(kind: str, value: str, key: str) -> str:
    """Where a message came from, hashed with Kefu's key: counted for lockouts, never readable."""
    digest = hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{kind}:{digest}"


def client_address(peer: str | None, forwarded_for: str | None, settings: SecuritySettings) -> str:
    """The client's address: the peer's, or the proxy's X-Forwarded-For when the proxy is trusted."""
    if settings.trust_forwarded_for and forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return peer or "unknown"


class ChannelEdge:
    """Turns what a channel received into the message Rasa reads, by the rules above."""

    def __init__(self, settings: SecuritySettings, source_key: str, verifier: Any = None) -> None:
        self.settings = settings
        self.source_key = source_key
        self.verifier = verifier  # a CustomerTokenVerifier, or None when tokens are not used

    @classmethod
    def from_configuration(cls) -> ChannelEdge:
        from kefu.security.customer_token import CustomerTokenVerifier, token_key
        from kefu.security.logs import quiet_customer_data
        from kefu.security.secrets import SOURCE_KEY as SOURCE_HASH_KEY
        from kefu.security.settings import security_settings

        settings = security_settings()
        # Channels are built once Rasa has set up its logging: the moment to apply Kefu's rules.
        quiet_customer_data(settings.log_customer_text)
        return cls(settings, SOURCE_HASH_KEY.value(), CustomerTokenVerifier(settings.customer_token, token_key()))

    def text(self, raw: str) -> EdgeMessage:
        return clean_text(raw, self.settings.max_message_chars)

    def metadata(self, raw: Any, source_kind: str, source_value: str) -> Dict[str, Any]:
        """The client's metadata, Kefu's own keys written by Kefu: the source and a vouched identity."""
        metadata = client_metadata(raw)
        metadata[RECEIVED_METADATA] = time.time()
        metadata[SOURCE_METADATA] = source_id(source_kind, source_value, self.source_key)
        language = declared_language(metadata.pop(CLIENT_LANGUAGE_KEY, None))
        if language is not None:
            metadata[LANGUAGE_METADATA] = language
        token = metadata.pop(CUSTOMER_TOKEN_KEY, None)
        verified = self.verifier.verify(token) if self.verifier is not None and token else None
        if verified is not None:
            metadata[IDENTITY_METADATA] = {"customer_id": verified.customer_id, "via": "customer_token"}
        return metadata


# The answer to what is not text (a sticker, a photo, a JSON object on the socket).
NOT_TEXT_REPLY = "I can only read text messages. Please type your question."
TOO_LONG_RESPONSE = "utter_message_too_long"
TOO_LONG_FALLBACK = "That message is too long for me to read. Could you put your question in a few sentences?"
FAILURE_RESPONSE = "utter_service_unavailable"
FAILURE_FALLBACK = "I'm sorry, part of my system isn't responding right now. Please try again in a few minutes."


async def authored_reply(agent: Any, sender_id: str, channel: str, response: str, fallback: str) -> Dict[str, Any]:
    """A domain response in the conversation's language, said by the channel itself (the message
    did not reach the dialogue, or the dialogue failed); the fallback when there is no model yet."""
    text = fallback
    try:
        from rasa.shared.core.trackers import DialogueStateTracker

        from kefu.config import settings

        tracker = await agent.tracker_store.retrieve(sender_id)
        tracker = tracker or DialogueStateTracker(sender_id, agent.domain.slots)
        generated = await agent.nlg.generate(response, tracker, channel, contact_email=settings().contact_email)
        text = (generated or {}).get("text") or fallback
    except Exception as error:  # noqa: BLE001 - no model loaded yet, or no tracker store: still answer
        logging.getLogger(__name__).warning("%s said in English (%s)", response, type(error).__name__)
    return {"recipient_id": sender_id, "text": text}


async def too_long_reply(agent: Any, sender_id: str, channel: str) -> Dict[str, Any]:
    """The answer to a message too long to read: it is not parsed and not kept in the conversation."""
    return await authored_reply(agent, sender_id, channel, TOO_LONG_RESPONSE, TOO_LONG_FALLBACK)

"""Kefu on Telegram: Rasa's ``telegram`` channel behind the channel edge, at /webhooks/telegram/webhook.

On when ``KEFU_TELEGRAM_TOKEN`` (from @BotFather) and ``KEFU_TELEGRAM_WEBHOOK_URL`` (the public
URL of that webhook) are set. At server start Kefu sets the webhook itself, with a secret token
that Telegram sends back in ``X-Telegram-Bot-Api-Secret-Token`` on every update; an update
without it is refused. Rasa 3.6's channel checked nothing of the request (it asked Telegram for
the bot's name on every update and compared it with its own setting), set the webhook with
``asyncio.run`` whenever an output channel was made (impossible inside the running server, as
when an agent replies from the console) and offered an unauthenticated ``/set_webhook`` route:
none of that is kept.

Only private chats are answered: in a group, order details would reach everyone in it.
Buttons are an inline keyboard; a tap is read as the customer's message and answered at once so
the button stops spinning.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any, Dict, List, Sequence

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint
from sanic.request import Request

from kefu.channels.edge import BadMessage, json_object
from kefu.channels.messenger import (
    PLATFORM_TIMEOUT,
    Button,
    Inbound,
    MessengerInput,
    MessengerOutput,
    Platform,
)
from kefu.channels.splitting import utf16_units
from kefu.config import ConfigError

logger = logging.getLogger(__name__)

TOKEN = "KEFU_TELEGRAM_TOKEN"
WEBHOOK_URL = "KEFU_TELEGRAM_WEBHOOK_URL"
BOT_NAME = "KEFU_TELEGRAM_BOT_NAME"
SECRET = "KEFU_TELEGRAM_SECRET"
API_URL = "KEFU_TELEGRAM_API_URL"

TELEGRAM = Platform(
    name="telegram",
    required=(TOKEN, WEBHOOK_URL),
    optional=(BOT_NAME, SECRET, API_URL),
    sender_prefix="telegram",
    max_text_chars=4096,
    text_units=utf16_units,  # Telegram counts UTF-16 code units: an emoji is two
    max_quick_replies=10,
    max_quick_reply_title_chars=40,
    max_payload_bytes=64,  # callback_data
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Only what Kefu reads; Telegram then does not post the rest (member changes, channel posts).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
_SECRET_FORM = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram's first message of every chat; "/start <code>" comes from a deep link.
_START = re.compile(r"^/start(@\w+)?(\s.*)?$", re.DOTALL)
GREETING_PAYLOAD = "/greet"


def webhook_secret(token: str, given: str | None) -> str:
    """The webhook's secret token: the one set, else one derived from the bot token, so that
    every replica sets and expects the same without sharing another secret."""
    if given is None:
        return hmac.new(token.encode(), b"kefu telegram webhook", hashlib.sha256).hexdigest()
    if not _SECRET_FORM.match(given):
        raise ConfigError(f"{SECRET} may hold only letters, digits, _ and - (1 to 256 of them)")
    return given


class KefuTelegramOutput(MessengerOutput, TelegramOutput):
    platform = TELEGRAM

    def __init__(self, token: str, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        # Rasa's constructor takes only the token; the API server and a timeout matter here.
        Bot.__init__(self, token, server=server, timeout=PLATFORM_TIMEOUT)

    async def send_chunk(self, address: str, text: str, buttons: Sequence[Button]) -> None:
        markup = None
        if buttons:  # one button a row: titles stay readable on a phone
            markup = {"inline_keyboard": [[{"text": b.title, "callback_data": b.payload}] for b in buttons]}
        await self.send_message(address, text, reply_markup=markup)

    async def send_native(self, address: str, message: Dict[str, Any]) -> None:
        await TelegramOutput.send_custom_json(self, address, message)


class KefuTelegramInput(MessengerInput, TelegramInput):
    platform = TELEGRAM
    _output: KefuTelegramOutput | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.settings
        self.secret = webhook_secret(settings.require(TOKEN), settings.get(SECRET)) if settings.on else None

    def create_output(self) -> KefuTelegramOutput:
        return KefuTelegramOutput(self.settings.require(TOKEN), self.settings.get(API_URL))

    def authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return self.secret is not None and hmac.compare_digest(given.encode(), self.secret.encode())

    def extend(self, blueprint: Blueprint) -> None:
        @blueprint.listener("after_server_start")
        async def set_webhook(*_: Any) -> None:
            await self.set_webhook()

        @blueprint.listener("after_server_stop")
        async def close_session(*_: Any) -> None:
            assert self._output is not None
            await self._output.session.close()

    async def set_webhook(self) -> bool:
        """Point Telegram at Kefu with the secret; Telegram then posts every update here.

        aiogram 2.15 predates ``secret_token``, hence the raw call. A failure is logged: the
        server goes on (other channels still work) and the next start tries again.
        """
        bot = self._output
        assert bot is not None
        assert self.secret is not None
        fields = {
            "url": self.settings.require(WEBHOOK_URL),
            "secret_token": self.secret,
            "allowed_updates": json.dumps(ALLOWED_UPDATES),
        }
        try:
            await bot.request("setWebhook", fields)
            await self._check_bot_name(bot)
        except Exception as error:  # noqa: BLE001 - Telegram unreachable or the token refused
            logger.error("Telegram webhook not set (%s): check %s and %s", type(error).__name__, TOKEN, WEBHOOK_URL)
            return False
        logger.info("Telegram webhook set")
        return True

    async def _check_bot_name(self, bot: KefuTelegramOutput) -> None:
        expected = self.settings.get(BOT_NAME)
        if expected is None:
            return
        me = await bot.get_me()
        if (me.username or "").lower() != expected.lstrip("@").lower():
            logger.error("%s is %s, but the token is the bot %s's", BOT_NAME, expected, me.username)

    def read(self, request: Request) -> List[Inbound]:
        update = json_object(request.body)
        delivery = f"update:{update.get('update_id')}" if isinstance(update.get("update_id"), int) else None
        if isinstance(update.get("callback_query"), dict):
            event = self._tap(update["callback_query"], delivery)
        else:
            message = update.get("message") or update.get("edited_message")
            event = self._message(message, delivery) if isinstance(message, dict) else None
        return [event] if event is not None else []

    def _message(self, message: Dict[str, Any], delivery: str | None) -> Inbound | None:
        person = message.get("from") if isinstance(message.get("from"), dict) else {}
        chat_id = _private_chat(message, person)
        if chat_id is None:
            return None
        text = message.get("text") if isinstance(message.get("text"), str) else None
        if text is not None and _START.match(text):
            text = GREETING_PAYLOAD
        return Inbound(
            sender_id=TELEGRAM.sender_id(chat_id),
            user_id=str(person.get("id", chat_id)),
            text=text,
            delivery_id=delivery,
            language=_language(person),
        )

    def _tap(self, callback: Dict[str, Any], delivery: str | None) -> Inbound | None:
        person = callback.get("from") if isinstance(callback.get("from"), dict) else {}
        message = callback.get("message")
        chat_id = _private_chat(message, person) if isinstance(message, dict) else None
        callback_id = callback.get("id")
        if chat_id is None or not isinstance(callback_id, str):
            return None
        bot = self._output
        assert bot is not None
        data = callback.get("data")
        return Inbound(
            sender_id=TELEGRAM.sender_id(chat_id),
            user_id=str(person.get("id", chat_id)),
            text=data if isinstance(data, str) else None,
            delivery_id=delivery,
            language=_language(person),
            acknowledge=lambda: bot.answer_callback_query(callback_id),
        )


def _private_chat(message: Dict[str, Any], person: Dict[str, Any]) -> str | None:
    """The chat's id when it is a private chat with a person, else None (groups, other bots)."""
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private" or person.get("is_bot"):
        return None
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise BadMessage("chat.id must be a number")
    return str(chat_id)


def _language(person: Dict[str, Any]) -> str | None:
    code = person.get("language_code")
    return code if isinstance(code, str) else None

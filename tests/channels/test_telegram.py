"""Kefu's Telegram channel with real-shaped updates; the Bot API intercepted at the HTTP layer.

aiogram's calls to https://api.telegram.org/bot<TOKEN>/<method> are caught by aioresponses,
and the form fields each would carry are checked exactly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Mapping, Tuple
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from kefu.channels import messenger
from kefu.channels.edge import FAILURE_FALLBACK, NOT_TEXT_REPLY, TOO_LONG_FALLBACK, source_id
from kefu.channels.telegram import TELEGRAM, KefuTelegramInput, webhook_secret
from kefu.config import ConfigError
from kefu.console.conversations import Conversations
from tests.channels.messenger_harness import (
    LONG_ANSWER,
    MAX_MESSAGE_CHARS,
    QUESTION,
    SOURCE_KEY,
    ScriptedBot,
    TicketLog,
    edge,
    edge_metadata,
    served,
)

TOKEN = "7212345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
API = f"https://api.telegram.org/bot{TOKEN}"
WEBHOOK_URL = "https://shop.example.com/webhooks/telegram/webhook"
SECRET = webhook_secret(TOKEN, None)
ENV = {"KEFU_TELEGRAM_TOKEN": TOKEN, "KEFU_TELEGRAM_WEBHOOK_URL": WEBHOOK_URL}
CUSTOMER = 987654321  # in a private chat, the chat's id is the person's
SENT = {"message_id": 2, "date": 1700000001, "chat": {"id": CUSTOMER, "type": "private"}, "text": "ok"}
ME = {"id": 7212345678, "is_bot": True, "first_name": "Kefu", "username": "kefu_shop_bot"}
BLOCKED = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


class FakeTelegram:
    """The Bot API as aiogram reaches it: every call in order, with the form fields it posted."""

    def __init__(self, mocked: aioresponses, base: str = API, refuse_messages: bool = False) -> None:
        self.calls: List[Tuple[str, Dict[str, str]]] = []
        results: Dict[str, Any] = {"setWebhook": True, "getMe": ME, "answerCallbackQuery": True, "sendMessage": SENT}
        for method, result in results.items():
            refused = refuse_messages and method == "sendMessage"
            mocked.post(f"{base}/{method}", callback=self._answer(method, result, refused), repeat=True)

    def _answer(self, method: str, result: Any, refused: bool) -> Any:
        async def answer(url: Any, **kwargs: Any) -> CallbackResult:
            self.calls.append((method, await _form(kwargs["data"])))
            if refused:
                return CallbackResult(status=403, payload=BLOCKED)
            return CallbackResult(payload={"ok": True, "result": result})

        return answer

    def sent(self, method: str = "sendMessage") -> List[Dict[str, str]]:
        return [fields for name, fields in self.calls if name == method]


class _Sink:
    def __init__(self) -> None:
        self.body = b""

    async def write(self, chunk: bytes) -> None:
        self.body += chunk


async def _form(data: aiohttp.FormData) -> Dict[str, str]:
    sink = _Sink()
    await data().write(sink)
    return dict(parse_qsl(sink.body.decode()))


def update(update_id: int, **message: Any) -> Dict[str, Any]:
    """A Telegram Update with a message from a customer in a private chat, as the Bot API sends it."""
    person = {"id": CUSTOMER, "is_bot": False, "first_name": "Lena", "language_code": "de"}
    chat = {"id": CUSTOMER, "first_name": "Lena", "type": "private"}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "from": person, "chat": chat, "date": 1700000000, **message},
    }


def tap(update_id: int, data: str) -> Dict[str, Any]:
    """An Update for a tap on an inline button under Kefu's message."""
    person = {"id": CUSTOMER, "is_bot": False, "first_name": "Lena", "language_code": "de"}
    message = {
        "message_id": 2,
        "from": ME,
        "chat": {"id": CUSTOMER, "type": "private"},
        "date": 1700000001,
        "text": QUESTION,
    }
    callback = {"id": "4382bfdwdsb323b2d9", "from": person, "message": message, "chat_instance": "-8115", "data": data}
    return {"update_id": update_id, "callback_query": callback}


class Telegram:
    def __init__(self, api: FakeTelegram, bot: ScriptedBot, url: str, http: aiohttp.ClientSession) -> None:
        self.api, self.bot, self.url, self.http = api, bot, url, http

    async def post(self, body: Any, secret: str | None = SECRET) -> Tuple[int, str]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        data = body if isinstance(body, str) else json.dumps(body)
        async with self.http.post(f"{self.url}/webhook", data=data, headers=headers) as answer:
            return answer.status, await answer.text()

    async def get(self, path: str) -> Tuple[int, Any]:
        async with self.http.get(f"{self.url}{path}") as answer:
            return answer.status, await answer.text()


@asynccontextmanager
async def telegram(
    env: Mapping[str, str] = ENV, base: str = API, refuse_messages: bool = False
) -> AsyncIterator[Tuple[Telegram, KefuTelegramInput]]:
    channel = KefuTelegramInput(TELEGRAM.settings(None, env), edge=edge())
    bot = ScriptedBot()
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        api = FakeTelegram(mocked, base, refuse_messages)
        async with served(channel, bot) as url, aiohttp.ClientSession() as http:
            yield Telegram(api, bot, url, http), channel


def test_a_message_goes_through_the_edge_and_the_answer_to_send_message() -> None:
    async def play() -> Telegram:
        async with telegram() as (tg, _):
            assert await tg.post(update(1, text="ｗｈｅｒｅ is my order\u200b")) == (200, "ok")
            return tg

    tg = asyncio.run(play())
    # At start, the webhook was set once, with the secret Telegram must send back.
    assert tg.api.sent("setWebhook") == [
        {
            "url": WEBHOOK_URL,
            "secret_token": SECRET,
            "allowed_updates": '["message", "edited_message", "callback_query"]',
        }
    ]
    [message] = tg.bot.received
    assert (message.sender_id, message.text, message.input_channel) == (
        f"telegram:{CUSTOMER}",
        "where is my order",
        "telegram",
    )
    assert edge_metadata(message) == {
        "kefu_source": source_id("telegram", str(CUSTOMER), SOURCE_KEY),
        "kefu_language": "de",
    }
    assert tg.api.sent() == [{"chat_id": str(CUSTOMER), "text": "read: where is my order"}]


def test_buttons_are_an_inline_keyboard_and_a_tap_is_the_customers_answer() -> None:
    async def play() -> Telegram:
        async with telegram() as (tg, _):
            assert (await tg.post(update(1, text="cancel my order")))[0] == 200
            assert (await tg.post(tap(2, "/affirm")))[0] == 200
            return tg

    tg = asyncio.run(play())
    question, answer = tg.api.sent()
    keyboard = [[{"text": "Yes, go ahead", "callback_data": "/affirm"}], [{"text": "No", "callback_data": "/deny"}]]
    assert json.loads(question.pop("reply_markup")) == {"inline_keyboard": keyboard}  # JSON, as the Bot API wants
    assert question == {"chat_id": str(CUSTOMER), "text": QUESTION}
    # The tap is answered first (the button stops spinning), then read as the customer's message.
    assert [name for name, _ in tg.api.calls[-2:]] == ["answerCallbackQuery", "sendMessage"]
    assert tg.api.sent("answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9"}]
    assert [m.text for m in tg.bot.received] == ["cancel my order", "/affirm"]
    assert tg.bot.received[1].sender_id == f"telegram:{CUSTOMER}"
    assert answer == {"chat_id": str(CUSTOMER), "text": "read: /affirm"}


def test_a_long_answer_is_split_within_telegrams_limit() -> None:
    async def play() -> Telegram:
        async with telegram() as (tg, _):
            await tg.post(update(1, text="the policy"))
            return tg

    sent = asyncio.run(play()).api.sent()
    assert len(sent) == 2
    assert all(len(m["text"]) <= 4096 and m["chat_id"] == str(CUSTOMER) for m in sent)
    assert " ".join(m["text"] for m in sent) == LONG_ANSWER


def test_an_update_without_the_webhook_secret_is_refused_and_never_read() -> None:
    async def play() -> Tuple[Telegram, List[Tuple[int, str]]]:
        async with telegram() as (tg, _):
            answers = [
                await tg.post(update(1, text="cancel order #W2378156"), secret=None),
                await tg.post(update(2, text="yes"), secret="guessed"),
                await tg.post(update(3, text="yes"), secret=webhook_secret("1:other-bot", None)),
                await tg.post(update(4, text="yes"), secret=SECRET.upper()),
                # Rasa's unauthenticated route that set the webhook is gone.
                await tg.get("/set_webhook"),
            ]
            return tg, answers

    tg, answers = asyncio.run(play())
    assert [status for status, _ in answers] == [403, 403, 403, 403, 404]
    assert json.loads(answers[0][1]) == {"error": "this request is not signed by telegram"}
    assert tg.bot.received == []
    assert tg.api.sent() == []


def test_what_kefu_cannot_read_gets_an_answer_not_silence_nor_a_crash() -> None:
    sticker = {
        "file_id": "CAACAgIAAxkBAAM",
        "file_unique_id": "AgAD",
        "width": 512,
        "height": 512,
        "is_animated": False,
    }
    photo = [{"file_id": "AgACAgQAAxkBAAM", "file_unique_id": "AQAD", "width": 90, "height": 51, "file_size": 1101}]

    async def play() -> Tuple[Telegram, List[Tuple[int, str]]]:
        async with telegram() as (tg, _):
            answers = [
                await tg.post(update(1, sticker=sticker)),
                await tg.post(update(2, photo=photo, caption="this one is broken")),
                await tg.post(update(3, text="x" * (MAX_MESSAGE_CHARS + 1))),
                await tg.post(update(4, text="crash")),
                await tg.post(update(5, text="/start")),
                await tg.post("{not json"),
                await tg.post([1, 2]),
                await tg.post(update(6, text="hi", chat={"id": "not a number", "type": "private"})),
            ]
            return tg, answers

    tg, answers = asyncio.run(play())
    assert [status for status, _ in answers] == [200, 200, 200, 200, 200, 400, 400, 400]
    texts = [m["text"] for m in tg.api.sent()]
    assert texts == [NOT_TEXT_REPLY, NOT_TEXT_REPLY, TOO_LONG_FALLBACK, FAILURE_FALLBACK, "read: /greet"]
    # Only the crash and Telegram's /start (a greeting) reached the dialogue.
    assert [m.text for m in tg.bot.received] == ["crash", "/greet"]


def test_group_chats_and_a_redelivered_update_are_not_answered() -> None:
    group = {"id": -1001234567890, "title": "Shop fans", "type": "supergroup"}

    async def play() -> Telegram:
        async with telegram() as (tg, _):
            assert (await tg.post(update(1, text="my order #W2378156?", chat=group)))[0] == 200
            assert (await tg.post({"update_id": 2, "my_chat_member": {"chat": group}}))[0] == 200
            for _ in range(2):  # Telegram posts an update again when the answer came too late
                assert (await tg.post(update(3, text="hello")))[0] == 200
            return tg

    tg = asyncio.run(play())
    assert [m.text for m in tg.bot.received] == ["hello"]
    assert [m["text"] for m in tg.api.sent()] == ["read: hello"]


def test_an_agent_reply_from_the_console_reaches_the_chat_from_inside_the_server() -> None:
    async def play() -> Tuple[Telegram, str]:
        async with telegram() as (tg, channel):
            await tg.post(update(1, text="I want a person"))
            tickets = TicketLog()
            conversations = Conversations(tg.bot, [channel], tickets)  # type: ignore[arg-type]
            outcome = await conversations.send_agent_message(f"telegram:{CUSTOMER}", 7, "I'm on it.", "Alice")
            assert tickets.messages == [(7, "agent", "I'm on it.", "Alice", True)]
            return tg, outcome

    tg, outcome = asyncio.run(play())
    assert outcome == "live"
    assert tg.api.sent()[-1] == {"chat_id": str(CUSTOMER), "text": "Alice: I'm on it."}


def test_a_refused_reply_is_logged_in_a_conversation_and_raised_to_the_console() -> None:
    async def play() -> Tuple[Telegram, int, str]:
        async with telegram(refuse_messages=True) as (tg, channel):
            status, _ = await tg.post(update(1, text="hello"))
            output = channel.get_output_channel()
            assert output is not None
            with pytest.raises(Exception, match="blocked"):
                await output.send_text_message(f"telegram:{CUSTOMER}", "Alice: still there?")
            with pytest.raises(ValueError, match="not a telegram conversation"):
                await output.send_text_message("facebook:123", "wrong platform")
            return tg, status, "done"

    tg, status, _ = asyncio.run(play())
    assert status == 200  # the dialogue went on; Telegram would otherwise repeat the update
    assert [m.text for m in tg.bot.received] == ["hello"]


def test_without_its_variables_the_channel_is_off_and_calls_nothing() -> None:
    channel = KefuTelegramInput(TELEGRAM.settings(None, {"KEFU_TELEGRAM_TOKEN": TOKEN}), edge=edge())

    async def play() -> Tuple[Dict[str, Any], List[Tuple[int, Any]], Dict[Any, Any]]:
        with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
            async with served(channel, ScriptedBot()) as url, aiohttp.ClientSession() as http:
                async with http.get(f"{url}/") as health:
                    status = await health.json()
                answers = []
                for method in ("post", "get"):
                    async with http.request(method, f"{url}/webhook", json=update(1, text="hi")) as answer:
                        answers.append((answer.status, await answer.json()))
            return status, answers, dict(mocked.requests)

    status, answers, calls = asyncio.run(play())
    assert status == {"status": "off", "missing": ["KEFU_TELEGRAM_WEBHOOK_URL"]}
    assert (
        answers
        == [
            (
                503,
                {
                    "error": "the telegram channel is off: set KEFU_TELEGRAM_WEBHOOK_URL to turn it on",
                    "missing": ["KEFU_TELEGRAM_WEBHOOK_URL"],
                },
            )
        ]
        * 2
    )
    assert calls == {}
    assert channel.get_output_channel() is None


def test_credentials_name_the_channel_and_may_rename_its_variables(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in TELEGRAM.variables:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(messenger, "_ANNOUNCED", set())  # "off" is said once a process
    monkeypatch.setenv("SHOP_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("KEFU_TELEGRAM_WEBHOOK_URL", WEBHOOK_URL)
    on = KefuTelegramInput.from_credentials({"KEFU_TELEGRAM_TOKEN": "SHOP_BOT_TOKEN"})
    assert on.settings.on and on.get_output_channel() is not None

    monkeypatch.setenv("KEFU_TELEGRAM_TOKEN", "  ")  # blank is unset
    with caplog.at_level(logging.INFO, logger="kefu.channels.messenger"):
        off = KefuTelegramInput.from_credentials(None)
    assert off.settings.missing == ["KEFU_TELEGRAM_TOKEN"]
    assert "set KEFU_TELEGRAM_TOKEN to turn it on" in caplog.text

    with pytest.raises(ConfigError, match="not one of"):
        KefuTelegramInput.from_credentials({"access_token": "SHOP_BOT_TOKEN"})
    with pytest.raises(ConfigError, match="environment variable"):
        KefuTelegramInput.from_credentials({"KEFU_TELEGRAM_TOKEN": "${SHOP_BOT_TOKEN}"})


def test_a_local_bot_api_server_and_a_chosen_secret() -> None:
    local = "http://telegram-bot-api.internal:8081"
    env = {
        **ENV,
        "KEFU_TELEGRAM_API_URL": local,
        "KEFU_TELEGRAM_SECRET": "shop-secret_2024",
        "KEFU_TELEGRAM_BOT_NAME": "@Kefu_Shop_Bot",
    }

    async def play() -> Tuple[Telegram, List[int]]:
        async with telegram(env, base=f"{local}/bot{TOKEN}") as (tg, _):
            statuses = [
                (await tg.post(update(1, text="hi"), secret=SECRET))[0],
                (await tg.post(update(2, text="hi"), secret="shop-secret_2024"))[0],
            ]
            return tg, statuses

    tg, statuses = asyncio.run(play())
    assert statuses == [403, 200]
    assert tg.api.sent("setWebhook")[0]["secret_token"] == "shop-secret_2024"
    assert [name for name, _ in tg.api.calls] == ["setWebhook", "getMe", "sendMessage"]


def test_the_derived_secret_is_the_same_on_every_replica_and_a_bad_one_is_refused() -> None:
    assert webhook_secret(TOKEN, None) == webhook_secret(TOKEN, None) != webhook_secret("1:other", None)
    assert len(SECRET) == 64 and TOKEN not in SECRET
    with pytest.raises(ConfigError, match="KEFU_TELEGRAM_SECRET"):
        KefuTelegramInput(TELEGRAM.settings(None, {**ENV, "KEFU_TELEGRAM_SECRET": "has spaces!"}), edge=edge())

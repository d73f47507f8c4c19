"""Kefu on WhatsApp and SMS through Twilio: signed form posts in, the Messages API intercepted.

Incoming messages are Twilio's form-encoded webhook posts, signed with ``RequestValidator`` as
Twilio signs them; the twilio client's posts to
https://api.twilio.com/2010-04-01/Accounts/<SID>/Messages.json go through requests and are
caught by ``responses``, their form fields checked exactly.
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
import responses
from rasa.shared.core.events import BotUttered
from twilio.request_validator import RequestValidator

from kefu.channels.edge import NOT_TEXT_REPLY, TOO_LONG_FALLBACK, source_id
from kefu.channels.messenger import DeliveryError
from kefu.channels.whatsapp import EMPTY_TWIML, WHATSAPP, KefuWhatsAppInput
from kefu.console.conversations import AGENT_MARK
from tests.channels.messenger_harness import (
    LONG_ANSWER,
    MAX_MESSAGE_CHARS,
    QUESTION,
    SOURCE_KEY,
    ScriptedBot,
    edge,
    edge_metadata,
    served,
)

ACCOUNT_SID = "AC3f1e2d4c5b6a79880716253443526170"
AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
KEFU_NUMBER = "whatsapp:+14155238886"
CUSTOMER = "whatsapp:+4915112345678"
ENV = {"KEFU_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "KEFU_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "KEFU_TWILIO_NUMBER": KEFU_NUMBER}
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CREATED = {"sid": "SM1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c", "account_sid": ACCOUNT_SID, "status": "queued", "body": "ok"}


def incoming(body: str | None, sid: str, sender: str = CUSTOMER, **extra: str) -> Dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp (or SMS) message."""
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Lena",
        "SmsSid": sid,
        "WaId": sender.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "To": KEFU_NUMBER if sender.startswith("whatsapp:") else KEFU_NUMBER.removeprefix("whatsapp:"),
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **extra,
    }
    if body is not None:
        form["Body"] = body
    return form


class Twilio:
    def __init__(self, bot: ScriptedBot, url: str, http: aiohttp.ClientSession) -> None:
        self.bot, self.url, self.http = bot, url, http
        self.calls: List[Any] = []  # the Messages API calls, kept when the mock closes

    async def post(self, form: Dict[str, str], signed_for: str | None = "", token: str = AUTH_TOKEN) -> Tuple[int, str]:
        """Post as Twilio does, signed for ``signed_for`` (this URL when empty; None: unsigned)."""
        url = f"{self.url}/webhook"
        headers = {}
        if signed_for is not None:
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(signed_for or url, form)
        async with self.http.post(url, data=form, headers=headers) as answer:
            return answer.status, await answer.text()

    def sent(self) -> List[Dict[str, str]]:
        return [dict(parse_qsl(call.request.body)) for call in self.calls]


# What Twilio answers a free-form WhatsApp message more than 24 hours after the customer's last.
OUTSIDE_WINDOW = {
    "code": 63016,
    "message": "Failed to send freeform message because you are outside the allowed window.",
    "status": 400,
}


@asynccontextmanager
async def twilio(
    env: Mapping[str, str] = ENV, refused: bool = False
) -> AsyncIterator[Tuple[Twilio, KefuWhatsAppInput]]:
    channel = KefuWhatsAppInput(WHATSAPP.settings(None, env), edge=edge())
    bot = ScriptedBot()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        if refused:
            api.add(responses.POST, MESSAGES, json=OUTSIDE_WINDOW, status=400)
        else:
            api.add(responses.POST, MESSAGES, json=CREATED, status=201)
        async with served(channel, bot) as url, aiohttp.ClientSession() as http:
            wa = Twilio(bot, url, http)
            try:
                yield wa, channel
            finally:
                wa.calls = list(api.calls)


def test_a_signed_whatsapp_message_is_answered_through_the_messages_api() -> None:
    async def play() -> Tuple[Twilio, Tuple[int, str]]:
        async with twilio() as (wa, _):
            return wa, await wa.post(incoming("¡Hola! ¿Dónde está mi pedido?", "SM01"))

    wa, answer = asyncio.run(play())
    assert answer == (200, EMPTY_TWIML)
    [message] = wa.bot.received
    # As Twilio names the conversation; "¡" stays (Rasa turned it into "@").
    assert (message.sender_id, message.text, message.input_channel) == (
        CUSTOMER,
        "¡Hola! ¿Dónde está mi pedido?",
        "whatsapp",
    )
    assert edge_metadata(message) == {"kefu_source": source_id("whatsapp", CUSTOMER, SOURCE_KEY)}
    [call] = wa.calls
    assert call.request.url == MESSAGES
    assert wa.sent() == [{"To": CUSTOMER, "From": KEFU_NUMBER, "Body": "read: ¡Hola! ¿Dónde está mi pedido?"}]


def test_a_post_not_signed_by_twilio_is_refused_and_nothing_is_sent() -> None:
    async def play() -> Tuple[Twilio, List[Tuple[int, str]]]:
        async with twilio() as (wa, _):
            message = incoming("yes", "SM01")
            return wa, [
                await wa.post(message, signed_for=None),
                await wa.post(message, token="0" * 32),
                await wa.post(message, signed_for="https://attacker.example/webhook"),
                # Signed, then another customer's number put in: the signature covers every field.
                await _tampered(wa, message),
            ]

    wa, answers = asyncio.run(play())
    assert [(status, json.loads(text)) for status, text in answers] == [
        (403, {"error": "this request is not signed by whatsapp"})
    ] * 4
    assert wa.bot.received == [] and wa.calls == []


async def _tampered(wa: Twilio, form: Dict[str, str]) -> Tuple[int, str]:
    url = f"{wa.url}/webhook"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    forged = form | {"From": "whatsapp:+14155550100"}
    async with wa.http.post(url, data=forged, headers={"X-Twilio-Signature": signature}) as answer:
        return answer.status, await answer.text()


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url() -> None:
    public = "https://shop.example.com/webhooks/whatsapp/webhook"

    async def play() -> Tuple[Twilio, List[int]]:
        async with twilio({**ENV, "KEFU_TWILIO_WEBHOOK_URL": public}) as (wa, _):
            return wa, [
                (await wa.post(incoming("signed for this server's own URL", "SM01")))[0],
                (await wa.post(incoming("hello", "SM02"), signed_for=public))[0],
            ]

    wa, statuses = asyncio.run(play())
    assert statuses == [403, 200]
    assert [m.text for m in wa.bot.received] == ["hello"]


def test_buttons_are_a_numbered_list_and_a_number_answers_it() -> None:
    async def play() -> Twilio:
        async with twilio() as (wa, _):
            await wa.post(incoming("cancel my order", "SM01"))
            await wa.post(incoming(" 2 ", "SM02"))  # the second choice: No
            await wa.post(incoming("2", "SM03"))  # Kefu's last message had no buttons: just "2"
            await wa.post(incoming("cancel my order", "SM04"))
            await wa.post(incoming("3", "SM05"))  # no third choice
            await wa.post(incoming("cancel my order", "SM06"))
            await _agent_says(wa.bot, "Hi, Alice here.")
            await wa.post(incoming("1", "SM07"))  # a person spoke since: not a choice any more
            return wa

    wa = asyncio.run(play())
    assert wa.sent()[0] == {"To": CUSTOMER, "From": KEFU_NUMBER, "Body": f"{QUESTION}\n\n1. Yes, go ahead\n2. No"}
    assert [m.text for m in wa.bot.received] == [
        "cancel my order",
        "/deny",
        "2",
        "cancel my order",
        "3",
        "cancel my order",
        "1",
    ]


async def _agent_says(bot: ScriptedBot, text: str) -> None:
    tracker = await bot.tracker_store.retrieve(CUSTOMER)
    assert tracker is not None
    tracker.update(BotUttered(text, metadata={AGENT_MARK: "Alice"}))
    await bot.tracker_store.save(tracker)


def test_sms_conversations_are_prefixed_and_answered_from_the_same_number() -> None:
    async def play() -> Twilio:
        async with twilio() as (wa, channel):
            await wa.post(incoming("where is my order", "SM01", sender="+4915112345678"))
            output = channel.get_output_channel()
            assert output is not None
            await output.send_text_message("sms:+4915112345678", "Alice: it ships today.")  # the console
            return wa

    wa = asyncio.run(play())
    assert wa.bot.received[0].sender_id == "sms:+4915112345678"
    assert wa.sent() == [
        {"To": "+4915112345678", "From": "+14155238886", "Body": "read: where is my order"},
        {"To": "+4915112345678", "From": "+14155238886", "Body": "Alice: it ships today."},
    ]


def test_a_long_answer_is_split_within_twilios_limit() -> None:
    async def play() -> Twilio:
        async with twilio() as (wa, _):
            await wa.post(incoming("the policy", "SM01"))
            return wa

    bodies = [m["Body"] for m in asyncio.run(play()).sent()]
    assert len(bodies) == 4 and all(len(body) <= 1600 for body in bodies)
    assert " ".join(bodies) == LONG_ANSWER


def test_what_kefu_cannot_read_gets_an_answer_and_bad_posts_a_400() -> None:
    photo = {
        "NumMedia": "1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME",
    }
    location = {"Latitude": "52.520008", "Longitude": "13.404954", "Address": "Berlin"}

    async def play() -> Tuple[Twilio, List[int]]:
        async with twilio() as (wa, _):
            statuses = [
                (await wa.post(incoming(None, "SM01", **photo)))[0],
                (await wa.post(incoming(None, "SM02", **location)))[0],
                (await wa.post(incoming("x" * (MAX_MESSAGE_CHARS + 1), "SM03")))[0],
                (await wa.post(incoming("hello", "SM04") | {"AccountSid": "AC" + "0" * 32}))[0],
                (await wa.post(incoming("hello", "SM05", sender="messenger:12345")))[0],
                (await wa.post(incoming("hello", "SM06", sender="whatsapp:+49 151 1234")))[0],
            ]
            return wa, statuses

    wa, statuses = asyncio.run(play())
    assert statuses == [200, 200, 200, 400, 400, 400]
    assert [m["Body"] for m in wa.sent()] == [NOT_TEXT_REPLY, NOT_TEXT_REPLY, TOO_LONG_FALLBACK]
    assert wa.bot.received == []


def test_a_refused_message_is_logged_in_a_conversation_and_raised_to_the_console(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def play() -> Tuple[Twilio, int]:
        async with twilio(refused=True) as (wa, channel):
            status, _ = await wa.post(incoming("where is my order", "SM01"))
            output = channel.get_output_channel()
            assert output is not None
            with pytest.raises(DeliveryError, match="Twilio error 63016"):
                await output.send_text_message(CUSTOMER, "Alice: it ships today.")
            return wa, status

    with caplog.at_level(logging.WARNING, logger="kefu.channels.messenger"):
        wa, status = asyncio.run(play())
    assert status == 200 and [m.text for m in wa.bot.received] == ["where is my order"]
    assert "whatsapp reply not delivered: Twilio error 63016 (HTTP 400)" in caplog.text
    assert "where is my order" not in caplog.text and "4915112345678" not in caplog.text


def test_without_its_variables_the_channel_is_off_and_calls_nothing() -> None:
    async def play() -> Tuple[Twilio, Any, Tuple[int, str]]:
        async with twilio({}) as (wa, channel):
            assert channel.get_output_channel() is None
            async with wa.http.get(f"{wa.url}/") as health:
                status = await health.json()
            return wa, status, await wa.post(incoming("hello", "SM01"))

    wa, status, answer = asyncio.run(play())
    missing = ["KEFU_TWILIO_ACCOUNT_SID", "KEFU_TWILIO_AUTH_TOKEN", "KEFU_TWILIO_NUMBER"]
    assert status == {"status": "off", "missing": missing}
    assert answer[0] == 503 and json.loads(answer[1])["missing"] == missing
    assert wa.bot.received == [] and wa.calls == []

"""Kefu's Facebook Messenger channel with signed page webhooks; the Graph API intercepted.

fbmessenger's posts to https://graph.facebook.com/v2.12/me/messages go through requests and are
caught by ``responses``: the URL (page token, appsecret_proof) and the JSON are checked exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, List, Mapping, Tuple
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import responses

from kefu.channels.edge import NOT_TEXT_REPLY, source_id
from kefu.channels.facebook import FACEBOOK, KefuFacebookInput
from kefu.channels.messenger import DeliveryError
from tests.channels.messenger_harness import LONG_ANSWER, QUESTION, SOURCE_KEY, ScriptedBot, edge, edge_metadata, served

APP_SECRET = "d5a6f0b2c1e94c7a8b3f2e1d0c9b8a76"
PAGE_TOKEN = "EAAGm0PX4ZCpsBAKZCZBkZCZA"
VERIFY_TOKEN = "kefu-verify-3f9c"
ENV = {
    "KEFU_FACEBOOK_VERIFY": VERIFY_TOKEN,
    "KEFU_FACEBOOK_SECRET": APP_SECRET,
    "KEFU_FACEBOOK_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
}
GRAPH = "https://graph.facebook.com/v2.12/me/messages"
PAGE_ID = "104578992012345"
PSID = "6543210987654321"
APPSECRET_PROOF = hmac.new(APP_SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()


def messaging(mid: str, **message: Any) -> Dict[str, Any]:
    """One messaging event of a page webhook: a customer's message."""
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1700000000000,
        "message": {"mid": mid, **message},
    }


def page(*events: Dict[str, Any]) -> Dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1700000000123, "messaging": list(events)}]}


def signed(body: bytes, algorithm: str = "sha256", secret: str = APP_SECRET) -> Dict[str, str]:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    header = "X-Hub-Signature-256" if algorithm == "sha256" else "X-Hub-Signature"
    return {header: f"{algorithm}={digest}"}


def sent_message(recipient: str, message: Dict[str, Any]) -> Dict[str, Any]:
    """The Send API body fbmessenger posts for one message."""
    return {
        "messaging_type": "RESPONSE",
        "notification_type": "REGULAR",
        "recipient": {"id": recipient},
        "message": message,
    }


class Facebook:
    def __init__(self, graph: responses.RequestsMock, bot: ScriptedBot, url: str, http: aiohttp.ClientSession) -> None:
        self.graph, self.bot, self.url, self.http = graph, bot, url, http
        self.calls: List[Any] = []  # the Graph API calls, kept when the mock closes (it forgets them)

    async def post(self, payload: Any, headers: Mapping[str, str] | None = None) -> Tuple[int, str]:
        body = json.dumps(payload).encode()
        headers = signed(body) if headers is None else headers
        async with self.http.post(f"{self.url}/webhook", data=body, headers=dict(headers)) as answer:
            return answer.status, await answer.text()

    async def verify(self, **query: str) -> Tuple[int, str]:
        async with self.http.get(f"{self.url}/webhook", params=query) as answer:
            return answer.status, await answer.text()

    def sent(self) -> List[Dict[str, Any]]:
        return [json.loads(call.request.body) for call in self.calls]


# What the Send API answers a message more than 24 hours after the customer's last.
OUTSIDE_WINDOW = {
    "error": {"message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException", "code": 10}
}


@asynccontextmanager
async def facebook(
    env: Mapping[str, str] = ENV, refused: bool = False
) -> AsyncIterator[Tuple[Facebook, KefuFacebookInput]]:
    channel = KefuFacebookInput(FACEBOOK.settings(None, env), edge=edge())
    bot = ScriptedBot()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        if refused:
            graph.add(responses.POST, GRAPH, json=OUTSIDE_WINDOW, status=400)
        else:
            graph.add(responses.POST, GRAPH, json={"recipient_id": PSID, "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"})
        async with served(channel, bot) as url, aiohttp.ClientSession() as http:
            fb = Facebook(graph, bot, url, http)
            try:
                yield fb, channel
            finally:
                fb.calls = list(graph.calls)


def test_a_signed_message_is_answered_through_the_send_api() -> None:
    async def play() -> Tuple[Facebook, Tuple[int, str]]:
        async with facebook() as (fb, _):
            return fb, await fb.post(page(messaging("m_1", text="Où est ma commande ?\u202e")))

    fb, answer = asyncio.run(play())
    assert answer == (200, "EVENT_RECEIVED")
    [message] = fb.bot.received
    assert (message.sender_id, message.text, message.input_channel) == (
        f"facebook:{PSID}",
        "Où est ma commande ?",
        "facebook",
    )
    assert edge_metadata(message) == {"kefu_source": source_id("facebook", PSID, SOURCE_KEY)}
    [call] = fb.calls
    url = urlsplit(call.request.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == GRAPH
    # The page token, and the proof that the caller also holds the app secret.
    assert parse_qs(url.query) == {"access_token": [PAGE_TOKEN], "appsecret_proof": [APPSECRET_PROOF]}
    assert json.loads(call.request.body) == sent_message(PSID, {"text": "read: Où est ma commande ?"})


def test_a_post_without_a_valid_signature_is_refused_and_nothing_is_sent() -> None:
    payload = page(messaging("m_1", text="cancel order #W2378156"))
    body = json.dumps(payload).encode()
    forged = [
        {},  # no signature
        signed(body, secret="not-the-app-secret"),
        signed(json.dumps(page(messaging("m_1", text="something else"))).encode()),  # another body's
        {"X-Hub-Signature-256": "sha1=" + signed(body, "sha1")["X-Hub-Signature"][5:]},  # wrong algorithm
        {"X-Hub-Signature": "md5=" + hashlib.md5(body).hexdigest()},  # Rasa looked "md5" up in hashlib
        {"X-Hub-Signature": "new=abc"},  # ... and "new" made it crash
        # A valid SHA-1 does not rescue a wrong SHA-256: the stronger signature decides.
        {**signed(body, "sha1"), "X-Hub-Signature-256": "sha256=" + "0" * 64},
    ]

    async def play() -> Tuple[Facebook, List[Tuple[int, str]]]:
        async with facebook() as (fb, _):
            return fb, [await fb.post(payload, headers) for headers in forged]

    fb, answers = asyncio.run(play())
    assert [(status, json.loads(text)) for status, text in answers] == [
        (403, {"error": "this request is not signed by facebook"})
    ] * len(forged)
    assert fb.bot.received == []
    assert fb.calls == []


def test_the_sha1_signature_is_accepted_when_facebook_sends_no_sha256() -> None:
    payload = page(messaging("m_1", text="hello"))
    body = json.dumps(payload).encode()

    async def play() -> Facebook:
        async with facebook() as (fb, _):
            assert (await fb.post(payload, signed(body, "sha1")))[0] == 200
            return fb

    assert [m.text for m in asyncio.run(play()).bot.received] == ["hello"]


def test_buttons_are_quick_replies_and_a_tap_reads_as_its_payload() -> None:
    tapped = messaging("m_2", text="Yes, go ahead", quick_reply={"payload": "/affirm"})

    async def play() -> Facebook:
        async with facebook() as (fb, channel):
            await fb.post(page(messaging("m_1", text="cancel my order")))
            await fb.post(page(tapped))
            # Rasa's channel dropped every button beyond three; Facebook shows up to 13.
            many = [{"title": f"Order #W{n}000000 (delivered last week)", "payload": f"/choose_{n}"} for n in range(15)]
            output = channel.get_output_channel()
            assert output is not None
            await output.send_text_with_buttons(f"facebook:{PSID}", "Which order?", many)
            return fb

    fb = asyncio.run(play())
    question, answer, many = fb.sent()
    quick_replies = [
        {"content_type": "text", "title": "Yes, go ahead", "payload": "/affirm"},
        {"content_type": "text", "title": "No", "payload": "/deny"},
    ]
    assert question == sent_message(PSID, {"text": QUESTION, "quick_replies": quick_replies})
    assert [m.text for m in fb.bot.received] == ["cancel my order", "/affirm"]
    assert answer == sent_message(PSID, {"text": "read: /affirm"})
    replies = many["message"]["quick_replies"]
    assert len(replies) == 13 and replies[0] == {
        "content_type": "text",
        "title": "Order #W0000000…",
        "payload": "/choose_0",
    }
    assert all(len(reply["title"]) <= 20 for reply in replies)


def test_every_event_of_a_batch_is_read_and_the_rest_ignored() -> None:
    echo = messaging("m_echo", text="Kefu's own words", is_echo=True, app_id=1517776481860111)
    delivery = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "delivery": {"mids": ["m_1"], "watermark": 1}}
    postback = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "postback": {"mid": "m_4", "title": "Talk to a person", "payload": "/contact_human_agent"},
    }
    photo = messaging(
        "m_5", attachments=[{"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.jpg"}}]
    )
    batch = {
        "object": "page",
        "entry": [
            {"id": PAGE_ID, "time": 1, "messaging": [messaging("m_1", text="first"), echo, delivery]},
            {"id": PAGE_ID, "time": 2, "messaging": [messaging("m_2", text="second"), postback, photo]},
        ],
    }

    async def play() -> Tuple[Facebook, List[int]]:
        async with facebook() as (fb, _):
            statuses = [
                (await fb.post(batch))[0],
                (await fb.post(batch))[0],  # delivered again: nothing read twice
                (await fb.post({"object": "instagram", "entry": []}))[0],
                (await fb.post({"object": "page", "entry": "oops"}))[0],
            ]
            return fb, statuses

    fb, statuses = asyncio.run(play())
    assert statuses == [200, 200, 200, 400]
    assert [m.text for m in fb.bot.received] == ["first", "second", "/contact_human_agent"]
    assert [m["message"]["text"] for m in fb.sent()] == [
        "read: first",
        "read: second",
        "read: /contact_human_agent",
        NOT_TEXT_REPLY,
    ]


def test_a_long_answer_is_split_within_the_send_apis_limit() -> None:
    async def play() -> Facebook:
        async with facebook() as (fb, _):
            await fb.post(page(messaging("m_1", text="the policy")))
            return fb

    texts = [m["message"]["text"] for m in asyncio.run(play()).sent()]
    assert len(texts) == 3 and all(len(text) <= 2000 for text in texts)
    assert " ".join(texts) == LONG_ANSWER


def test_facebook_verifies_the_webhook_with_the_verify_token_only() -> None:
    async def play() -> List[Tuple[int, str]]:
        async with facebook() as (fb, _):
            return [
                await fb.verify(
                    **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
                ),
                await fb.verify(
                    **{"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}
                ),
                await fb.verify(**{"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}),
            ]

    right, wrong, no_mode = asyncio.run(play())
    assert right == (200, "1158201444")
    assert wrong[0] == no_mode[0] == 403 and "1158201444" not in wrong[1] + no_mode[1]


def test_a_refused_message_is_logged_in_a_conversation_and_raised_to_the_console(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def play() -> int:
        async with facebook(refused=True) as (fb, channel):
            status, _ = await fb.post(page(messaging("m_1", text="hello")))
            output = channel.get_output_channel()
            assert output is not None
            with pytest.raises(DeliveryError, match=r"Graph API error 10 \(OAuthException\)"):
                await output.send_text_message(f"facebook:{PSID}", "Alice: still there?")
            return status

    with caplog.at_level(logging.WARNING, logger="kefu.channels.messenger"):
        assert asyncio.run(play()) == 200
    assert "facebook reply not delivered: Graph API error 10 (OAuthException)" in caplog.text
    assert PAGE_TOKEN not in caplog.text and "hello" not in caplog.text


def test_without_its_variables_the_channel_is_off_and_calls_nothing() -> None:
    env = {"KEFU_FACEBOOK_VERIFY": VERIFY_TOKEN}

    async def play() -> Tuple[Facebook, Tuple[int, str], Tuple[int, str]]:
        async with facebook(env) as (fb, channel):
            assert channel.get_output_channel() is None
            async with fb.http.get(f"{fb.url}/") as health:
                assert await health.json() == {
                    "status": "off",
                    "missing": ["KEFU_FACEBOOK_SECRET", "KEFU_FACEBOOK_PAGE_ACCESS_TOKEN"],
                }
            post = await fb.post(page(messaging("m_1", text="hello")))
            verification = await fb.verify(
                **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
            )
            return fb, post, verification

    fb, post, verification = asyncio.run(play())
    assert post[0] == verification[0] == 503
    assert json.loads(post[1])["error"].startswith("the facebook channel is off: set KEFU_FACEBOOK_SECRET")
    assert fb.bot.received == [] and fb.calls == []

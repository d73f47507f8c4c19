"""Multilingual conversations and the NLU signals, through the trained model and live actions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict

import pytest

from kefu.config import settings
from tests.conftest import Live

pytestmark = pytest.mark.conversation


def parse(live: Live, text: str) -> Dict[str, Any]:
    assistant = live.assistant
    return assistant.loop.run_until_complete(assistant.agent.parse_message(text))  # type: ignore[attr-defined]


def test_parse_output_has_language_sentiment_and_request_type(live: Live) -> None:
    result = parse(live, "my parcel arrived broken and nobody answers my emails, this is unacceptable!")
    assert result["language"]["code"] == "en"
    assert 0.0 <= result["language"]["confidence"] <= 1.0
    assert result["sentiment"]["label"] == "negative"
    assert result["sentiment"]["score"] < 0
    assert result["request_type"]["label"] == "complaint"
    assert 0.0 <= result["request_type"]["confidence"] <= 1.0


@pytest.mark.parametrize(
    "text, intent",
    [
        ("我的订单 #W2378156 到哪里了？", "track_order"),
        ("je voudrais annuler ma commande", "cancel_order"),
        ("¿qué métodos de pago aceptan?", "check_payment_methods"),
        ("ich habe mein Passwort vergessen", "recover_password"),
    ],
)
def test_intents_in_other_languages(live: Live, text: str, intent: str) -> None:
    assert parse(live, text)["intent"]["name"] == intent


@pytest.mark.parametrize(
    "text, answer_part",
    [
        ("la brosse à dents électrique existe en quelles versions ?", "The Electric Toothbrush comes in"),
        ("welche Varianten gibt es von der elektrischen Zahnbürste?", "The Electric Toothbrush comes in"),
        ("电动牙刷有哪些款式？", "Electric Toothbrush 共有"),
        # A colour too. Black toothbrushes are in stock (seed: black, high speed, AA batteries or rechargeable).
        ("la brosse à dents électrique existe en noir ?", "Yes, we have the Electric Toothbrush with color black"),
        ("电动牙刷有黑色的吗？", "有的，我们有 color black 的 Electric Toothbrush"),
    ],
)
def test_a_product_and_colour_named_in_another_language_are_found(live: Live, text: str, answer_part: str) -> None:
    chat = live.conversation()
    assert answer_part in chat.say(text)
    assert chat.slot("product") == "Electric Toothbrush"


def test_a_chinese_customer_is_answered_in_chinese_and_ok_keeps_the_language(live: Live) -> None:
    chat = live.conversation()
    answer = chat.say("请问可以用PayPal付款吗？")
    assert "PayPal" in answer and "我们接受" in answer
    assert chat.slot("language") == "zh"
    chat.say("ok")
    assert chat.slot("language") == "zh"
    assert "取消" in chat.say("取消订单要收费吗？")


def test_a_complaint_gets_an_apology_and_a_ticket_and_the_mood_is_kept(live: Live) -> None:
    chat = live.conversation()
    answer = chat.say("I want to file a complaint, the package came damaged and support ignored me twice")
    assert "sorry" in answer.lower()
    ticket = live.store.active_ticket(chat.sender)
    assert ticket is not None and f"ticket #{ticket.id}" in answer
    # How angry it reads decides whether a person takes over at once (escalation.triggers).
    assert ticket.reason in ("complaint", "severe_complaint")
    assert ticket.paused is (ticket.reason == "severe_complaint")
    since = ticket.created_at - dt.timedelta(minutes=5)
    (feedback,) = [f for f in live.store.list_feedback(since) if f.conversation_id == chat.sender]
    assert feedback.kind == "complaint"
    assert chat.slot("sentiment") == "negative"
    assert chat.slot("negative_streak") == 1.0
    assert chat.slot("request_type") == "complaint"


def test_contact_details_come_from_the_settings(live: Live) -> None:
    answer = live.conversation().say("how can I contact customer service?")
    assert settings().contact_email in answer

"""The service-answer, free-question and signal actions, run as the action server runs them."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.answers as answers
from actions.answers import ActionAnswerQuestion
from actions.service import ActionServiceAnswer
from kefu.answering import EXTRACTIVE, UNKNOWN, Answer
from kefu.config import PROJECT_ROOT, settings
from kefu.escalation import escalation_settings

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
SLOT_DEFAULTS = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}


def run(action: Action, text: str, intent: str, **slots: Any) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    tracker = Tracker("t", {**SLOT_DEFAULTS, **slots}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher.messages


def test_service_answer_sends_the_intents_response_with_settings_filled_in() -> None:
    events, messages = run(ActionServiceAnswer(), "how do I reach support?", "contact_customer_service")
    assert messages[0]["response"] == "utter_contact_customer_service"
    assert messages[0]["contact_email"] == settings().contact_email
    # contact_customer_service is in escalation.offer_human_for: the offer follows.
    assert messages[1]["response"] == "utter_offer_human"
    assert {"event": "slot", "timestamp": None, "name": "handoff_offered", "value": True} in events


def test_service_answer_without_escalation_offers_no_human() -> None:
    assert "recover_password" not in escalation_settings().offer_human_for
    events, messages = run(ActionServiceAnswer(), "forgot my password", "recover_password")
    assert [m["response"] for m in messages] == ["utter_recover_password"]
    assert events == []


def test_delivery_options_name_the_configured_carriers() -> None:
    _, messages = run(ActionServiceAnswer(), "which carriers do you use?", "delivery_options")
    assert messages[0]["carriers"] == ", ".join(settings().store.seed.carriers)


def fake_answer(answer: Answer) -> Any:
    async def answer_async(question: str, language: str, *args: Any, **kwargs: Any) -> Answer:
        return answer

    return answer_async


def test_an_unanswerable_question_says_so_and_offers_a_human(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "answer_async", fake_answer(Answer(UNKNOWN, "", "en", reason="no passage")))
    events, messages = run(ActionAnswerQuestion(), "do you sell cars?", "ask_policy")
    assert [m["response"] for m in messages] == ["utter_ask_policy", "utter_offer_human"]
    assert any(e.get("name") == "handoff_reason" and e.get("value") == "unanswered_question" for e in events)


def test_a_machine_translated_answer_is_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = Answer(EXTRACTIVE, "Les cartes cadeaux n'expirent jamais.", "fr", machine_translated=True)
    monkeypatch.setattr(answers, "answer_async", fake_answer(answer))
    events, messages = run(ActionAnswerQuestion(), "les cartes cadeaux expirent-elles ?", "ask_policy", language="fr")
    assert messages[0]["text"] == "Les cartes cadeaux n'expirent jamais. (traduction automatique)"
    assert events == []

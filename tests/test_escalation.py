"""The escalation rules and policy on hand-written conversations (kefu/escalation, kefu/policies).

Each trigger is checked where it must fire and where it must not (calm and merely terse
customers, a form in progress, a question Kefu has just asked), with the thresholds of kefu.yml.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from kefu.config import PROJECT_ROOT, ConfigError
from kefu.escalation.conversation import read_conversation
from kefu.escalation.hours import expectation, is_open, next_opening
from kefu.escalation.priority import TicketFacts, priority, priority_label
from kefu.escalation.reasons import Reason
from kefu.escalation.settings import escalation_settings, parse_escalation
from kefu.escalation.triggers import detect
from kefu.policies.escalation import EscalationPolicy

SETTINGS = escalation_settings()


def user(text: str, intent: str, score: float = 0.0, request_type: str = "request", **extra: Any) -> Dict[str, Any]:
    label = "negative" if score <= -0.35 else "positive" if score >= 0.35 else "neutral"
    parse = {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": extra.pop("entities", []),
        "sentiment": {"label": label, "score": score},
        "request_type": {"label": request_type},
    }
    return {"event": "user", "text": text, "parse_data": parse}


def act(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def turn(text: str, intent: str, answer: str, score: float = 0.0, **kwargs: Any) -> List[Dict[str, Any]]:
    """A customer message Kefu answered with ``answer``, then listened again."""
    return [user(text, intent, score, **kwargs), act(answer)]


def listening(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [*events, act("action_listen")]


def reason(events: List[Dict[str, Any]]) -> Reason | None:
    trigger = detect(read_conversation(events), SETTINGS)
    return trigger.reason if trigger else None


MOOD_TURNS = int(SETTINGS.triggers[Reason.NEGATIVE_MOOD].number("turns"))
FALLBACK_TURNS = int(SETTINGS.triggers[Reason.REPEATED_FALLBACK].number("turns"))
# As many negative messages in a row as kefu.yml asks for (mild ones: no sharp drop, no complaint).
ANGRY = [
    event
    for n in range(MOOD_TURNS)
    for event in listening(turn(f"still nothing, so slow ({n})", "track_order", "action_order_status", -0.45))
][:-1]


def test_negative_messages_in_a_row_bring_the_offer() -> None:
    assert reason(ANGRY) is Reason.NEGATIVE_MOOD
    assert reason(ANGRY[:-3]) is None  # one fewer is not enough


def test_a_calm_or_terse_customer_is_never_escalated() -> None:
    terse = [
        *listening(turn("order status", "track_order", "auth_form", -0.05)),
        *listening(turn("W2378156", "inform", "auth_form", 0.0)),
        *listening(turn("ok", "affirm", "action_order_status", 0.07)),
        *turn("no", "deny", "utter_ok_not_now", -0.17),
    ]
    assert reason(terse) is None
    calm = [*listening(turn("thanks, that's helpful", "thank", "utter_you_are_welcome", 0.65))]
    assert reason(calm) is None


def test_a_sharp_drop_in_mood_brings_the_offer() -> None:
    events = [
        *listening(turn("thanks!", "thank", "utter_you_are_welcome", 0.6)),
        *turn("this is unacceptable, you people are useless", "track_order", "action_order_status", -0.5),
    ]
    assert reason(events) is Reason.SENTIMENT_DROP
    mild = [
        *listening(turn("thanks!", "thank", "utter_you_are_welcome", 0.6)),
        *turn("hmm, a bit slow", "track_order", "action_order_status", -0.2),
    ]
    assert reason(mild) is None


def test_a_severe_complaint_is_handed_over() -> None:
    severe = turn("it burnt my hand, dangerous!", "complaint", "action_complaint", -0.95, request_type="complaint")
    assert reason(severe) is Reason.SEVERE_COMPLAINT
    assert SETTINGS.triggers[Reason.SEVERE_COMPLAINT].act == "handoff"
    mild = turn("the box was a bit dented", "complaint", "action_complaint", -0.4, request_type="complaint")
    assert reason(mild) is None
    # The same mild complaint about an expensive order is severe.
    assert reason([slot("order_value", 900.0), *mild]) is Reason.SEVERE_COMPLAINT


def test_asking_for_a_person_wins_in_any_state() -> None:
    events = [act("auth_form"), {"event": "active_loop", "name": "auth_form"}, user("人工客服", "contact_human_agent")]
    assert reason(events) is Reason.ASKED_FOR_HUMAN


def test_repeated_fallbacks_and_repeated_requests() -> None:
    fallbacks = [
        event
        for n in range(FALLBACK_TURNS)
        for event in listening(turn(f"asdf {n}", "nlu_fallback", "action_fallback"))
    ][:-1]
    assert reason(fallbacks) is Reason.REPEATED_FALLBACK
    assert reason(fallbacks[:-3]) is None
    out_of_scope = [
        *listening(turn("tell me a joke", "out_of_scope", "utter_out_of_scope")),
        *turn("what's the weather", "out_of_scope", "utter_out_of_scope"),
    ]
    assert reason(out_of_scope) is None  # understood: Kefu said what it can do
    refund = [
        *listening(turn("where is my refund", "track_refund", "action_refund_status")),
        *listening(turn("where's my refund?", "track_refund", "action_refund_status")),
        *turn("I asked: where is my refund", "track_refund", "action_refund_status"),
    ]
    assert reason(refund) is Reason.REPEATED_REQUEST
    other_orders = [
        *listening(turn("where is #W1", "track_order", "action_order_status", entities=[order("#W1")])),
        *listening(turn("and #W2", "track_order", "action_order_status", entities=[order("#W2")])),
        *turn("and #W3", "track_order", "action_order_status", entities=[order("#W3")]),
    ]
    assert reason(other_orders) is None  # three requests, not one repeated


def order(order_id: str) -> Dict[str, Any]:
    return {"entity": "order_id", "value": order_id}


def test_after_a_no_kefu_waits_before_offering_again() -> None:
    declined = [*ANGRY, act("action_offer_human"), act("action_listen"), *turn("no", "deny", "action_decline_handoff")]
    more = [
        *listening(declined),
        *listening(turn("ugh", "track_order", "action_order_status", -0.6)),
        *listening(turn("awful", "track_order", "action_order_status", -0.6)),
        *turn("terrible", "track_order", "action_order_status", -0.6),
    ]
    assert reason(more) is None  # three bad messages, but only 4 since the no
    assert reason([*listening(more), *turn("horrible", "track_order", "action_order_status", -0.6)]) is (
        Reason.NEGATIVE_MOOD
    )
    asked = [*listening(declined), user("a person please", "contact_human_agent")]
    assert reason(asked) is Reason.ASKED_FOR_HUMAN


# The policy, on Rasa's own tracker and domain.


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> EscalationPolicy:
    storage = LocalModelStorage(tmp_path_factory.mktemp("policy"))
    config = {**EscalationPolicy.get_default_config()}
    return EscalationPolicy(config, storage, Resource("escalation"), ExecutionContext({}, "test"))


def predicted(policy: EscalationPolicy, domain: Domain, events: List[Dict[str, Any]]) -> str | None:
    tracker = DialogueStateTracker.from_events("c", [Event.from_parameters(e) for e in events], domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if max(prediction.probabilities) == 0:
        return None
    assert prediction.is_no_user_prediction  # outranks a form's own next step
    return domain.action_names_or_texts[prediction.probabilities.index(1.0)]


def test_policy_hands_over_at_once_when_asked_even_in_a_form(policy: EscalationPolicy, domain: Domain) -> None:
    events = [
        act("action_listen"),
        user("where is my order", "track_order"),
        act("auth_form"),
        {"event": "active_loop", "name": "auth_form"},
        act("action_listen"),
        user("just get me a human", "contact_human_agent"),
    ]
    assert predicted(policy, domain, events) == "action_handoff"
    assert predicted(policy, domain, [*events, act("action_handoff")]) == "action_listen"
    # The customer writes again (say /restart while an agent has it): the other policies answer.
    again = [*events, act("action_handoff"), user("/restart", "restart")]
    assert predicted(policy, domain, again) is None


def test_policy_offers_after_kefu_answered_not_before(policy: EscalationPolicy, domain: Domain) -> None:
    events = [act("action_listen"), *listening(ANGRY[:-2]), ANGRY[-2]]
    assert predicted(policy, domain, events) is None  # Kefu has not answered the third message yet
    assert predicted(policy, domain, [*events, ANGRY[-1]]) == "action_offer_human"
    assert predicted(policy, domain, [*events, ANGRY[-1], act("action_offer_human")]) == "action_listen"


def test_policy_never_interrupts_a_form_or_a_question(policy: EscalationPolicy, domain: Domain) -> None:
    in_form = [
        act("action_listen"),
        *listening(ANGRY[:-2]),
        ANGRY[-2],
        act("return_form"),
        {"event": "active_loop", "name": "return_form"},
    ]
    assert predicted(policy, domain, in_form) is None
    proposal = [act("action_listen"), *listening(ANGRY[:-2]), ANGRY[-2], act("action_propose_change")]
    assert predicted(policy, domain, proposal) is None
    offered = [act("action_listen"), *ANGRY, slot("handoff_offered", True)]
    assert predicted(policy, domain, offered) is None


def test_policy_training_checks_the_actions_exist(tmp_path: Any, domain: Domain) -> None:
    storage = LocalModelStorage(tmp_path)
    config = {**EscalationPolicy.get_default_config(), "offer_action": "action_that_is_not_there"}
    broken = EscalationPolicy(config, storage, Resource("escalation"), ExecutionContext({}, "test"))
    with pytest.raises(ValueError, match="action_that_is_not_there"):
        broken.train([], domain)


# Settings, hours and priority.


def test_bad_settings_are_refused_with_the_key_named() -> None:
    raw = {
        "offer_human_for": [],
        "triggers": {"negative_mood": {"act": "shout"}},
        "hours": {"days": ["mon"], "open": "09:00", "close": "17:00"},
        "priority": {},
    }
    with pytest.raises(ConfigError, match="negative_mood.act"):
        parse_escalation(raw)
    raw["triggers"] = {"bad_luck": {"act": "offer"}}
    with pytest.raises(ConfigError, match="bad_luck"):
        parse_escalation(raw)


def test_working_hours_and_what_the_customer_is_told() -> None:
    hours = SETTINGS.hours  # Monday to Friday, 09:00 to 18:00 UTC
    tuesday_noon = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
    saturday = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.timezone.utc)
    assert is_open(hours, tuesday_noon) and not is_open(hours, saturday)
    assert next_opening(hours, saturday) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=hours.timezone)
    assert expectation(hours, tuesday_noon, agents_connected=1).agents_now
    weekend = expectation(hours, saturday, agents_connected=3)
    assert not weekend.agents_now and weekend.back_at == "mon 09:00 (UTC)"
    nobody = expectation(hours, tuesday_noon, agents_connected=0)
    assert not nobody.agents_now and nobody.back_at == ""  # working hours: as soon as someone logs in


def test_priority_orders_the_angry_the_valuable_and_the_waiting_first() -> None:
    points = SETTINGS.priority
    calm = TicketFacts("asked_for_human", "question", 0.2, None, 0)
    angry = TicketFacts("severe_complaint", "complaint", -0.9, Decimal("800"), 0)
    assert priority(angry, points) > priority(calm, points)
    waited = TicketFacts("asked_for_human", "question", 0.2, None, 60)
    assert priority(waited, points) > priority(calm, points)
    assert priority_label(priority(angry, points), points) in ("urgent", "high")
    assert priority(TicketFacts("severe_complaint", "complaint", -1.0, Decimal("100000"), 10_000), points) == 100

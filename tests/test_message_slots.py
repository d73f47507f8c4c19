"""Slots read off each message's parse in Rasa's own process (kefu/message_slots.py, installed by
kefu/rasa_speedups.py): run through Rasa's real ``action_extract_slots`` on a real tracker and
Kefu's domain, with the signals for the daily report written to a real store."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Tuple

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from kefu import rasa_speedups
from kefu.channels.edge import IDENTITY_METADATA
from kefu.config import PROJECT_ROOT
from kefu.store import SqlStore

rasa_speedups.apply()
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))

# A customer message: its text, what the NLU read off it, the client's metadata.
Said = Tuple[str, Dict[str, Any], Dict[str, Any]]


def said(text: str, intent: str = "inform", metadata: Dict[str, Any] | None = None, **parse: Any) -> Said:
    return text, {"intent": {"name": intent, "confidence": 0.9}, "entities": [], **parse}, metadata or {}


def extract(messages: List[Said], paused: bool = False, **slots: Any) -> Tuple[Dict[str, Any], int]:
    """The slot events Rasa's ``action_extract_slots`` returns after the last message, and how
    many times it called the action server."""
    events: List[Event] = [ActionExecuted("action_listen"), *(SlotSet(k, v) for k, v in slots.items())]
    if paused:
        events.append(ConversationPaused())
    for position, (text, parse, metadata) in enumerate(messages):
        if position:
            events.append(ActionExecuted("action_listen"))
        events.append(UserUttered(text, parse["intent"], [], {"text": text, **parse}, metadata=metadata))
    tracker = DialogueStateTracker.from_events("c-1", events, slots=DOMAIN.slots)
    calls: List[str] = []

    async def remote(self: Any, *args: Any, **kwargs: Any) -> List[Event]:
        calls.append("action_validate_slot_mappings")
        return []

    action = ActionExtractSlots(None)
    original = ActionExtractSlots._run_custom_action
    ActionExtractSlots._run_custom_action = remote  # type: ignore[method-assign]
    try:
        result = asyncio.run(
            action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses), tracker, DOMAIN)
        )
    finally:
        ActionExtractSlots._run_custom_action = original  # type: ignore[method-assign]
    return {e.key: e.value for e in result if isinstance(e, SlotSet)}, len(calls)


SENTIMENT_NEGATIVE = {"label": "negative", "score": -0.8, "confidence": 0.9}
UNCLEAR = {"code": "en", "confidence": 0.3, "reliable": False}


def test_a_reliable_language_switches_the_conversation(counted: SqlStore) -> None:
    slots, calls = extract([said("你好", language={"code": "zh", "confidence": 1.0, "reliable": True})])
    assert slots["language"] == "zh" and calls == 0


def test_an_unreliable_language_keeps_the_conversations(counted: SqlStore) -> None:
    slots, _ = extract([said("ok", language={"code": "es", "confidence": 0.4, "reliable": False})], language="fr")
    assert "language" not in slots


def test_negative_messages_in_a_row_are_counted_and_reset(counted: SqlStore) -> None:
    slots, _ = extract([said("awful", sentiment=SENTIMENT_NEGATIVE)], negative_streak=2.0)
    assert slots["negative_streak"] == 3.0 and slots["sentiment"] == "negative" and slots["sentiment_score"] == -0.8
    neutral = {"label": "neutral", "score": 0.0, "confidence": 0.9}
    slots, _ = extract([said("ok", sentiment=neutral)], negative_streak=2.0)
    assert slots["negative_streak"] == 0.0 and slots["sentiment"] == "neutral"


def test_request_type_is_kept(counted: SqlStore) -> None:
    slots, _ = extract([said("unacceptable", request_type={"label": "complaint", "confidence": 0.7})])
    assert slots["request_type"] == "complaint"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I moved, please update the address on my account", "set_up_shipping_address"),
        ("请修改我账户的默认地址", "set_up_shipping_address"),
        ("send order #W2378156 to my office instead", "change_shipping_address"),
    ],
)
def test_an_address_change_naming_the_account_is_the_default_address(
    counted: SqlStore, text: str, expected: str
) -> None:
    # pending_request is filled by Rasa's from_intent mapping (domain.yml), then told apart here.
    slots, _ = extract([said(text, intent="change_shipping_address")])
    assert slots["pending_request"] == expected


def test_the_action_server_is_called_only_for_what_needs_the_store(counted: SqlStore) -> None:
    assert extract([said("hello")])[1] == 0
    assert extract([said("any news?")], paused=True)[1] == 1  # the message goes on the agent's ticket
    vouched = {IDENTITY_METADATA: {"customer_id": "james_li_5688"}}
    assert extract([said("hello", metadata=vouched)])[1] == 1  # identified from the shop's token
    assert extract([said("hello", metadata=vouched)], customer_id="james_li_5688")[1] == 0


def test_each_message_is_counted_for_the_daily_report(counted: SqlStore) -> None:
    start = dt.datetime.now(dt.timezone.utc)
    sentiment = {"label": "negative", "score": -0.5, "confidence": 0.9}
    extract([said("where is it?!", intent="track_order", sentiment=sentiment, request_type={"label": "complaint"})])
    extract([said("and now?")], paused=True)
    extract([said("", intent="restart")])  # no text (a button's payload): nothing to count
    from kefu.reports.signal_writer import signal_writer

    assert signal_writer().flush()
    counts = counted.message_signals(start - dt.timedelta(seconds=1), dt.datetime.now(dt.timezone.utc))
    assert [(s.intent, s.request_type, s.sentiment_score, s.to_agent) for s in counts] == [
        ("track_order", "complaint", -0.5, False),
        ("inform", None, None, True),
    ]
    assert all(s.conversation_id == "c-1" and s.language == "en" for s in counts)


def test_a_form_starting_reads_the_message_once(counted: SqlStore) -> None:
    # Rasa runs action_extract_slots again when a form is activated, in the same turn.
    message = said("this is awful", intent="track_order", sentiment=SENTIMENT_NEGATIVE)
    events: List[Event] = [ActionExecuted("action_listen"), SlotSet("negative_streak", 1.0)]
    events.append(UserUttered(message[0], message[1]["intent"], [], {"text": message[0], **message[1]}))
    tracker = DialogueStateTracker.from_events("c-2", events, slots=DOMAIN.slots)
    start = dt.datetime.now(dt.timezone.utc)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    for _ in range(2):
        extracted = asyncio.run(ActionExtractSlots(None).run(CollectingOutputChannel(), nlg, tracker, DOMAIN))
        tracker.update_with_events(extracted, DOMAIN)
    assert tracker.get_slot("negative_streak") == 2.0
    from kefu.reports.signal_writer import signal_writer

    assert signal_writer().flush()
    assert len(counted.message_signals(start, dt.datetime.now(dt.timezone.utc))) == 1

"""Fixes for measured hot spots of Rasa 3.6's server, applied when Kefu's model is loaded.

Found with py-spy on the Rasa server under benchmarks/rest_load.py (reports/turn_profile.md):

- **The action-response schema, checked once.** Rasa checks every reply of the action server
  against its response schema with ``jsonschema.validate``, and that function first re-checks
  the schema itself against the JSON Schema meta-schema, on every call; half of the server's CPU
  went to re-proving that Rasa's own constant schema is valid. One validator is kept: every reply
  is still validated against the same schema, and an invalid reply still raises the same
  ``ValidationError`` with Rasa's explanation.
- **A message's signals read in Rasa's process.** Rasa calls ``action_validate_slot_mappings``
  on the action server after every customer message; Kefu only used it to copy language,
  sentiment and request type from the parse into slots, which cost a tracker rebuilt from all
  its events, serialised both ways, an HTTP round trip and a database insert per message.
  kefu/message_slots.py now does it here, the signals for the daily report go to a background
  writer (kefu/reports/signal_writer.py), and the action server is called only for what needs
  the store: a paused conversation's message for the agent's ticket, a customer vouched for by
  the shop's signed token (actions/signals.py).

Rasa 3.6.21 is the last open-source release, so these cannot come from upstream.
"""

from __future__ import annotations

import datetime as dt
import functools
from functools import lru_cache
from typing import Any, Dict, List

import jsonschema
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, SlotSet, UserUttered

from kefu.channels.edge import IDENTITY_METADATA, LANGUAGE_METADATA
from kefu.message_slots import parse_part, pending_request, signal_slots
from kefu.store.records import MessageSignals


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every reply
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the schema checked once."""
    error = jsonschema.exceptions.best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from "
            f"the Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


# Set on a message's event (in memory only, never serialised) once its signals are read.
READ_MARK = "_kefu_signals_read"


def read_message(tracker: Any, extraction_events: List[Event]) -> List[Event]:
    """Rasa's extracted slot events with what the message's parse sets (kefu/message_slots.py);
    the message's signals are queued for the daily report."""
    message = tracker.latest_message
    parse = message.parse_data if message else {}
    events: List[Event] = []
    for event in extraction_events:
        if isinstance(event, SlotSet):
            value = (
                pending_request(event.value, parse.get("text") or "") if event.key == "pending_request" else event.value
            )
            events.append(SlotSet(event.key, value))
    if message is None or getattr(message, READ_MARK, False):
        # Rasa extracts slots a second time in the same turn when a form starts: the message's
        # signals are already in the slots (counted twice, a negative message made two).
        return events
    setattr(message, READ_MARK, True)
    declared = [(e.metadata or {}).get(LANGUAGE_METADATA) for e in tracker.events if isinstance(e, UserUttered)]
    values = signal_slots(parse, tracker.get_slot, declared)
    events = [e for e in events if e.key not in values] + [SlotSet(name, value) for name, value in values.items()]
    if parse.get("text"):
        _count(tracker, parse, values)
    return events


def needs_action_server(tracker: Any) -> bool:
    """What only the action server can do with a message (actions/signals.py): keep a paused
    conversation's message on the agent's ticket, identify a customer the shop's token names."""
    if tracker.is_paused():
        return True
    metadata = tracker.latest_message.metadata if tracker.latest_message else None
    identity = (metadata or {}).get(IDENTITY_METADATA)
    vouched = isinstance(identity, dict) and bool(identity.get("customer_id"))
    return vouched and not tracker.get_slot("customer_id")


def _count(tracker: Any, parse: Dict[str, Any], values: Dict[str, Any]) -> None:
    from kefu.reports.signal_writer import signal_writer

    score = parse_part(parse, "sentiment").get("score")
    signal_writer().add(
        MessageSignals(
            at=dt.datetime.now(dt.timezone.utc),
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "",
            language=values.get("language") or tracker.get_slot("language") or "en",
            intent=str(parse_part(parse, "intent").get("name") or ""),
            request_type=parse_part(parse, "request_type").get("label"),
            sentiment_score=float(score) if isinstance(score, (int, float)) else None,
            to_agent=tracker.is_paused(),
        )
    )


def _slots_read_in_process(original: Any) -> Any:
    @functools.wraps(original)
    async def execute_validation_action(
        self: ActionExtractSlots,
        extraction_events: List[Event],
        output_channel: Any,
        nlg: Any,
        tracker: Any,
        domain: Any,
    ) -> List[Event]:
        events = read_message(tracker, extraction_events)
        if needs_action_server(tracker):
            return await original(self, events, output_channel, nlg, tracker, domain)
        return events

    return execute_validation_action


_applied = False


def apply() -> None:
    """Install the fixes once per process."""
    global _applied
    if _applied:
        return
    _applied = True
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    ActionExtractSlots._execute_validation_action = _slots_read_in_process(  # type: ignore[method-assign]
        ActionExtractSlots._execute_validation_action
    )

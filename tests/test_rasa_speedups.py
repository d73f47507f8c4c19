"""The Rasa server fix of kefu/rasa_speedups.py validates action replies exactly as before."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import kefu.nlu.tokenizer  # noqa: F401  (loading Kefu's pipeline applies the fix)
from kefu import rasa_speedups

VALID = {
    "events": [{"event": "slot", "name": "language", "value": "zh"}, {"event": "followup", "name": "action_x"}],
    "responses": [{"text": "hello"}],
}
INVALID = [
    {"events": [{"event": "slot", "value": "zh"}]},  # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
]


def test_the_fix_is_applied_when_the_pipeline_is_loaded() -> None:
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result


def test_a_valid_reply_passes_as_with_jsonschema_validate() -> None:
    jsonschema.validate(VALID, RemoteAction.action_response_format_spec())
    assert rasa_speedups.validate_action_result(None, VALID)  # type: ignore[arg-type]


@pytest.mark.parametrize("reply", INVALID)
def test_an_invalid_reply_is_refused_as_with_jsonschema_validate(reply: dict) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        rasa_speedups.validate_action_result(None, reply)  # type: ignore[arg-type]

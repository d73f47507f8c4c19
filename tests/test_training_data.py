"""The domain and training data are consistent: `rasa data validate` and the actions agree."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from kefu.config import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
ACTIONS_SOURCE = "\n".join(p.read_text() for p in (PROJECT_ROOT / "actions").glob("*.py"))
RESPONSES_IN_ACTIONS = set(re.findall(r'"(utter_\w+)"', ACTIONS_SOURCE))
RULES = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
# action_service_answer sends utter_<intent> for the intents its rules answer.
SERVICE_INTENTS = {
    rule["steps"][0]["intent"]
    for rule in RULES
    if len(rule["steps"]) == 2 and rule["steps"][1].get("action") == "action_service_answer"
}
RESPONSES_IN_ACTIONS |= {f"utter_{intent}" for intent in SERVICE_INTENTS}
# Forms ask for a slot with utter_ask_<slot> by themselves.
FORM_QUESTIONS = {f"utter_ask_{slot}" for form in DOMAIN["forms"].values() for slot in form["required_slots"]}
UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")


def test_every_response_an_action_sends_exists() -> None:
    assert RESPONSES_IN_ACTIONS, "the actions should send authored responses"
    assert set(DOMAIN["responses"]) >= RESPONSES_IN_ACTIONS


def test_every_service_intent_has_an_english_and_a_chinese_answer() -> None:
    assert len(SERVICE_INTENTS) >= 15
    for intent in SERVICE_INTENTS:
        variants = DOMAIN["responses"][f"utter_{intent}"]
        languages = {c["value"] for v in variants for c in v.get("condition", []) if c["name"] == "language"}
        assert "zh" in languages, intent
        assert any(not v.get("condition") for v in variants), f"{intent} needs a default (English) variant"


def test_every_custom_action_is_declared() -> None:
    declared = set(DOMAIN["actions"])
    defined = set(re.findall(r'return "((?:action|validate)_\w+)"', ACTIONS_SOURCE))
    assert defined == declared


def test_rasa_data_validate_has_no_warning_that_matters() -> None:
    """Only "not used in any story" for responses that actions or forms send is acceptable."""
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    problems = []
    for line in output.splitlines():
        if "UserWarning" not in line:
            continue
        unused = UNUSED_UTTERANCE.search(line)
        if unused and unused.group(1) in RESPONSES_IN_ACTIONS | FORM_QUESTIONS:
            continue
        problems.append(line.strip())
    assert problems == []

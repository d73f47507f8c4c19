"""The domain and training data are consistent: `rasa data validate` and the actions agree."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from actions.changes import CORRECTION_SLOT
from kefu.config import PROJECT_ROOT, settings
from kefu.escalation import escalation_settings

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
ACTIONS_SOURCE = "\n".join(p.read_text() for p in (PROJECT_ROOT / "actions").glob("*.py"))
# The change kinds (kefu/shop/changes) name the responses that propose and confirm each change.
SHOP_SOURCE = "\n".join(p.read_text() for p in (PROJECT_ROOT / "kefu" / "shop").rglob("*.py"))
RESPONSES_IN_ACTIONS = set(re.findall(r'"(utter_\w+)"', ACTIONS_SOURCE + SHOP_SOURCE))
# The Rasa server's side of Kefu says a few itself (a too-long message, an unreachable action
# server), and Rasa says utter_restart after /restart.
SERVER_SOURCE = "\n".join(
    p.read_text()
    for p in [*(PROJECT_ROOT / "kefu" / "channels").glob("*.py"), PROJECT_ROOT / "kefu" / "rasa_resilience.py"]
)
RESPONSES_IN_SERVER = set(re.findall(r'"(utter_\w+)"', SERVER_SOURCE)) | {"utter_restart"}
# The escalation policy's offers are worded by kefu.yml (escalation.triggers.*.response).
RESPONSES_IN_SERVER |= {trigger.response for trigger in escalation_settings().triggers.values()}
RULES = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
# action_service_answer sends utter_<intent> for the intents its rules answer.
SERVICE_INTENTS = {
    rule["steps"][0]["intent"]
    for rule in RULES
    if len(rule["steps"]) == 2 and rule["steps"][1].get("action") == "action_service_answer"
}
RESPONSES_IN_ACTIONS |= {f"utter_{intent}" for intent in SERVICE_INTENTS}
# Forms ask for a slot with utter_ask_<slot> by themselves.
FORM_QUESTIONS = {f"utter_ask_{slot}" for form in DOMAIN["forms"].values() for slot in form["required_slots"]} | {
    f"utter_ask_{CORRECTION_SLOT}"  # the change forms' question after a "no" (their required_slots)
}
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


def test_every_digression_is_an_intent_of_the_domain_and_has_a_rule() -> None:
    """kefu.yml dialogue.digressions: the forms step aside for these, so a rule must answer them."""
    digressions = settings().digressions
    assert digressions and set(digressions) <= set(DOMAIN["intents"])
    answered = {step["intent"] for rule in RULES for step in rule["steps"] if "intent" in step}
    # A request for a person is the escalation policy's (kefu/policies/escalation.py), not a rule's.
    assert set(digressions) - answered == {"contact_human_agent"}


def test_every_custom_action_is_declared() -> None:
    """What the action server registers (Rasa SDK's own discovery) is what the domain declares."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(DOMAIN["actions"])


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
        if unused and unused.group(1) in RESPONSES_IN_ACTIONS | RESPONSES_IN_SERVER | FORM_QUESTIONS:
            continue
        problems.append(line.strip())
    assert problems == []


PRODUCT_MENTIONS = [
    ("is the electric toothbrush waterproof?", "Electric Toothbrush"),
    ("la brosse à dents électrique existe en noir ?", "Electric Toothbrush"),
    ("¿tenéis la cafetera en rojo?", "Coffee Maker"),
    ("gibt es die elektrische Zahnbürste in Schwarz?", "Electric Toothbrush"),
    ("这个电动牙刷有黑色的吗？", "Electric Toothbrush"),
    ("我想买一个蓝牙音箱", "Bluetooth Speaker"),
]
NO_PRODUCT = [
    "where is my refund?",
    "je voudrais changer mon adresse de livraison",
    "¿cuándo llega mi pedido?",
    "wie wird das Wetter morgen?",
    "我的手机号换了",
]


def _product_names(text: str) -> list[str]:
    """What Rasa's RegexEntityExtractor and EntitySynonymMapper make of ``text``, without a model."""
    from rasa.nlu.utils.pattern_utils import extract_patterns
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    names = []
    for pattern in extract_patterns(data, use_only_entities=True):
        if pattern["name"] != "product":
            continue
        for match in re.finditer(pattern["pattern"], text, flags=re.IGNORECASE):
            names.append(data.entity_synonyms.get(match.group(0).lower(), match.group(0)))
    return names


def test_product_names_in_every_language_map_to_catalogue_names() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    from kefu.store.seed import read_seed

    catalogue = {product["name"] for product in read_seed()["products"].values()}
    synonyms = load_data(str(PROJECT_ROOT / "data" / "nlu")).entity_synonyms
    # Synonyms only name products, and each leads to a product the store can find.
    assert set(synonyms.values()) == catalogue
    for text, expected in PRODUCT_MENTIONS:
        assert set(_product_names(text)) == {expected}, text
    for text in NO_PRODUCT:
        assert _product_names(text) == [], text

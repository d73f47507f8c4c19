"""EscalationPolicy: brings in a human agent when the conversation calls for one.

It learns nothing from stories. After each customer message it applies the triggers of
kefu.yml ``escalation.triggers`` (kefu/escalation/triggers.py) and, when one holds, predicts the
handoff or the offer of a person with full confidence; otherwise it predicts nothing and the
other policies (RulePolicy, TED, the forms) lead the conversation as usual.

When it acts, within the turn:
- a customer who asks for a person is handed over at once, even in the middle of a form;
- every other trigger waits until Kefu has answered the message, and never interrupts a
  form, a question Kefu has just asked (a proposal awaiting yes or no), or an offer.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from kefu.escalation.conversation import ESCALATION_ACTIONS, SILENT_ACTIONS, ConversationView, read_conversation
from kefu.escalation.reasons import Reason
from kefu.escalation.settings import EscalationSettings, Trigger, load_escalation_settings
from kefu.escalation.triggers import detect

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class EscalationPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Above RulePolicy (4): when a trigger holds, a person comes first.
            "priority": 7,
            # kefu.yml by default (or KEFU_CONFIG); thresholds are read when the model loads, so
            # changing them needs no retraining.
            "settings_path": None,
            "offer_action": "action_offer_human",
            "handoff_action": "action_handoff",
            # Kefu is waiting for the customer's answer after these: no offer on top of a question.
            "waits_for_answer_prefixes": ["utter_ask_", "action_ask_"],
            "waits_for_answer": ["action_propose_change", "action_offer_human"],
        }

    @classmethod
    def supported_data(cls) -> SupportedData:
        return SupportedData.ML_DATA

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        settings: EscalationSettings | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.settings = settings or load_escalation_settings(config.get("settings_path"))

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # Nothing to learn: the triggers are rules from kefu.yml. Check the actions exist.
        for key in ("offer_action", "handoff_action"):
            if self.config[key] not in domain.action_names_or_texts:
                raise ValueError(f"EscalationPolicy: {key} '{self.config[key]}' is not an action of the domain")
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        own_actions = (self.config["offer_action"], self.config["handoff_action"])
        if last_action(tracker) in own_actions:
            # Just after an offer or a handoff Kefu waits for the customer (or the agent). Not
            # once they have written again: then the other policies answer (a /restart, say).
            return self._certain(domain, ACTION_LISTEN_NAME, {})
        view = read_conversation(event.as_dict() for event in tracker.applied_events())
        trigger = self.decide(view, tracker.active_loop_name)
        if trigger is None:
            return self._prediction(self._default_predictions(domain))
        action = own_actions[1] if trigger.act == "handoff" else own_actions[0]
        logger.debug("escalation: %s -> %s (conversation %s)", trigger.reason.value, action, tracker.sender_id)
        return self._certain(domain, action, {"trigger": trigger.reason.value})

    def _certain(self, domain: Domain, action: str, diagnostic_data: Dict[str, Any]) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        # Outranks a form's own next step too (which Rasa marks as needing no user input).
        return self._prediction(probabilities, is_no_user_prediction=True, diagnostic_data=diagnostic_data)

    def decide(self, view: ConversationView, active_loop: str | None) -> Trigger | None:
        return decide(view, active_loop, self.settings, self.config)


def last_action(tracker: DialogueStateTracker) -> str | None:
    """The last action run, if nothing the customer said came after it."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, ActionExecuted):
            return event.action_name
    return None


def decide(
    view: ConversationView, active_loop: str | None, settings: EscalationSettings, config: Dict[str, Any]
) -> Trigger | None:
    """The trigger to act on now, if any (see the module's docstring for when)."""
    if view.latest is None or view.slots.get("handoff_offered") is True:
        return None
    if view.turn_is_open:
        trigger = detect(view, settings)
        return trigger if trigger is not None and trigger.reason is Reason.ASKED_FOR_HUMAN else None
    if not kefu_has_answered(view, active_loop, config):
        return None
    trigger = detect(view, settings)
    return trigger if trigger is not None and trigger.reason is not Reason.ASKED_FOR_HUMAN else None


def kefu_has_answered(view: ConversationView, active_loop: str | None, config: Dict[str, Any]) -> bool:
    """Kefu has answered the latest message and is not waiting for an answer of its own."""
    action = view.latest_action
    if active_loop or action in SILENT_ACTIONS or action in ESCALATION_ACTIONS or not view.latest.bot_actions:
        return False
    if action.endswith("_form") or action in config["waits_for_answer"]:
        return False
    return not any(action.startswith(prefix) for prefix in config["waits_for_answer_prefixes"])

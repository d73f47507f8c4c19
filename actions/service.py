"""Answers to service requests that Kefu explains but cannot carry out by itself.

Accounts, invoices, payment problems, complaints, delivery and payment options: the
answer is the intent's authored response (``utter_<intent>``, with a variant per language
in the domain), followed by a human offer for the intents that kefu.yml's
``escalation.offer_human_for`` names. Designers change wording in the domain and the
escalation list in kefu.yml; no code change is needed to add an intent here.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, contact_email, never_crash, offer_human_events
from kefu.config import settings
from kefu.escalation import Reason, escalation_settings


class ActionServiceAnswer(Action):
    def name(self) -> str:
        return "action_service_answer"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        response = f"utter_{intent}"
        if response not in domain.get("responses", {}):
            dispatcher.utter_message(response="utter_capabilities")
            return []
        carriers = ", ".join(settings().store.seed.carriers)
        dispatcher.utter_message(response=response, contact_email=contact_email(), carriers=carriers)
        events: EventList = []
        if intent in escalation_settings().offer_human_for:
            events = offer_human_events(dispatcher, Reason.UNSETTLED_REQUEST)
        return events

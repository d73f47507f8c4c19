"""Fallback and human handoff: Kefu rephrases or hands over rather than guessing.

A handoff request is written to the store with its reason, so the agent console (a later
step) can pick up the conversation with its context.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, contact_email, offer_human_events, previous_bot_action, store
from kefu.store import StoreUnavailable

logger = logging.getLogger(__name__)


class ActionOfferHuman(Action):
    """Offer a human agent (the customer asked for one, or Kefu is stuck)."""

    def name(self) -> str:
        return "action_offer_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        reason = "customer_request"
        if tracker.get_slot("auth_status") == "unavailable":
            reason = "store_unavailable"
        events = offer_human_events(dispatcher, reason)
        if tracker.get_slot("auth_status") == "unavailable":
            # The store was down during identification: let the next request try again.
            events.append(SlotSet("auth_status", None))
        return events


# Answers to Kefu's own questions say nothing an agent needs; the request before them does.
_NOT_A_REQUEST = {"affirm", "deny", "contact_human_agent", "thank", "greet"}


def customer_request_text(tracker: Tracker) -> str:
    """The customer's last message that was a request rather than a yes, a no or a greeting."""
    user_messages = [e for e in reversed(tracker.events) if e.get("event") == "user" and e.get("text")]
    for event in user_messages:
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in _NOT_A_REQUEST:
            return event["text"]
    return user_messages[0]["text"] if user_messages else ""


async def handoff_note(tracker: Tracker) -> str:
    """The request for the agent, in the customer's words and, for other languages, in English."""
    text = customer_request_text(tracker)
    language = tracker.get_slot("language") or "en"
    if not text or language == "en":
        return text
    from kefu.translation.factory import build_translator
    from kefu.translation.free_text import keep_bilingual

    def bilingual() -> str:
        from kefu.generation.factory import default_generator
        from kefu.generation.settings import load_ai_settings

        translator = build_translator(load_ai_settings().translation, default_generator())
        kept = keep_bilingual(text, language, translator)
        if kept.english is None:
            return f"[{language}] {text}"
        mark = " (machine-translated)" if kept.machine else ""
        return f"[{language}] {text}\n[en{mark}] {kept.english}"

    # Translation runs a local model: off the event loop, so other conversations go on.
    try:
        return await asyncio.get_running_loop().run_in_executor(None, bilingual)
    except Exception:  # noqa: BLE001 - the agent still gets the customer's own words
        logger.warning("no English version of the handoff note", exc_info=True)
        return f"[{language}] {text}"


class ActionHandoff(Action):
    """The customer accepted a human agent: record the request and tell them."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        reason = tracker.get_slot("handoff_reason") or "customer_request"
        note = await handoff_note(tracker)
        try:
            request = store().request_handoff(tracker.sender_id, tracker.get_slot("customer_id"), reason, note=note)
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_handoff_unavailable", contact_email=contact_email())
            return [SlotSet("handoff_offered", False)]
        dispatcher.utter_message(response="utter_handoff_done", handoff_id=request.id)
        return [SlotSet("handoff_offered", False)]


class ActionDeclineHandoff(Action):
    def name(self) -> str:
        return "action_decline_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        dispatcher.utter_message(response="utter_ok_not_now")
        return [SlotSet("handoff_offered", False)]


class ActionFallback(Action):
    """Low NLU confidence: ask to rephrase once, then offer a human instead of guessing."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        text = ((tracker.latest_message or {}).get("text") or "").strip()
        if not text:
            dispatcher.utter_message(response="utter_empty_message")
            return [FollowupAction("action_listen")]
        if previous_bot_action(tracker) != self.name():
            dispatcher.utter_message(response="utter_rephrase")
            return [FollowupAction("action_listen")]
        dispatcher.utter_message(response="utter_still_not_understood")
        return offer_human_events(dispatcher, "not_understood")

"""Fallback and human handoff: Kefu rephrases or hands over rather than guessing.

A handoff request is written to the store with its reason, so the agent console (a later
step) can pick up the conversation with its context.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, contact_email, offer_human_events, previous_bot_action, store
from kefu.store import StoreUnavailable


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


class ActionHandoff(Action):
    """The customer accepted a human agent: record the request and tell them."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        reason = tracker.get_slot("handoff_reason") or "customer_request"
        last_text = next(
            (e.get("text") for e in reversed(tracker.events) if e.get("event") == "user" and e.get("text")),
            "",
        )
        try:
            request = store().request_handoff(
                tracker.sender_id, tracker.get_slot("customer_id"), reason, note=last_text or ""
            )
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

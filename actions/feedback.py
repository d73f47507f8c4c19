"""Complaints and feedback: recorded for the shop, a complaint with an apology and a ticket.

A complaint always reaches a person as a ticket (not paused: the customer can go on with Kefu);
the escalation policy hands the conversation over at once when the complaint is severe
(kefu.yml ``escalation.triggers.severe_complaint``). Feedback is stored for the daily report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, never_crash, store, turn
from actions.handoff import ticket_draft
from kefu.escalation.reasons import Reason


def _sentiment_score(tracker: Tracker) -> float | None:
    sentiment = tracker.latest_message.get("sentiment") or {}
    score = sentiment.get("score") if isinstance(sentiment, dict) else None
    return float(score) if isinstance(score, (int, float)) else None


def complaint_order_value(tracker: Tracker) -> Decimal | None:
    """What the order the customer complains about is worth, when they are identified and name it."""
    customer_id = tracker.get_slot("customer_id")
    order_id = turn(tracker).order_id_said or tracker.get_slot("order_id")
    if not customer_id or not order_id:
        return None
    order = store().get_order(order_id, customer_id)
    return order.total if order else None


def record(tracker: Tracker, kind: str) -> None:
    """The customer's words as feedback or a complaint, for the shop's own review."""
    store().record_feedback(
        tracker.sender_id,
        tracker.get_slot("customer_id"),
        kind,
        tracker.get_slot("language") or "en",
        _sentiment_score(tracker),
        tracker.latest_message.get("text") or "",
    )


class ActionComplaint(Action):
    def name(self) -> str:
        return "action_complaint"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        record(tracker, "complaint")
        ticket = store().open_ticket(await ticket_draft(tracker, Reason.COMPLAINT, paused=False, acting=self.name()))
        dispatcher.utter_message(response="utter_complaint", ticket_id=ticket.id)
        value = complaint_order_value(tracker)
        events: EventList = [SlotSet("ticket_id", float(ticket.id))]
        if value is not None:
            events.append(SlotSet("order_value", float(value)))
        return events


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        record(tracker, "feedback")
        dispatcher.utter_message(response="utter_review")
        return []

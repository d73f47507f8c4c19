"""A person takes over: the offer, the ticket and the pause, and the bot's return afterwards.

The escalation policy (kefu/policies/escalation.py) decides when; these actions say it and do it.
A handoff opens a ticket in the store with the transcript, a summary of what Kefu tried and the
customer's words in English, then pauses the conversation (Rasa's ``ConversationPaused``): the
bot stays silent and the customer's messages go to the ticket until the agent hands back from
the console, which runs ``action_handback`` with the agent's note.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, ConversationPaused, ConversationResumed, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, contact_email, offer_human_events, previous_bot_action, store
from kefu.escalation import Reason, escalation_settings
from kefu.escalation.conversation import ConversationView, read_conversation
from kefu.escalation.hours import expectation
from kefu.escalation.triggers import detect
from kefu.store import StoreUnavailable
from kefu.store.records import TicketDraft, TicketState, TranscriptLine

logger = logging.getLogger(__name__)

# Answers to Kefu's own questions say nothing an agent needs; the request before them does.
_NOT_A_REQUEST = {"affirm", "deny", "contact_human_agent", "thank", "greet"}
# Forms and flows, as the ticket summary names what Kefu tried.
_TRIED = {
    "auth_form": "identification",
    "action_order_status": "order status",
    "action_last_order": "last order",
    "action_propose_change": "proposed a change",
    "action_apply_change": "applied a change",
    "action_answer_question": "answered from the policies",
    "action_service_answer": "service answer",
    "action_fallback": "did not understand",
    "action_identification_locked": "identification locked",
    "action_complaint": "apologised for a complaint",
}


def customer_request_text(tracker: Tracker) -> str:
    """The customer's last message that was a request rather than a yes, a no or a greeting."""
    user_messages = [e for e in reversed(tracker.events) if e.get("event") == "user" and e.get("text")]
    for event in user_messages:
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in _NOT_A_REQUEST:
            return event["text"]
    return user_messages[0]["text"] if user_messages else ""


async def customer_words(tracker: Tracker) -> Tuple[str, str | None, bool]:
    """The request in the customer's words and, for other languages, in English (machine-translated?)."""
    text = customer_request_text(tracker)
    language = tracker.get_slot("language") or "en"
    if not text or language == "en":
        return text, None, False
    from kefu.translation.factory import default_translator
    from kefu.translation.free_text import keep_bilingual

    def bilingual() -> Tuple[str | None, bool]:
        kept = keep_bilingual(text, language, default_translator())
        return kept.english, kept.machine

    # Translation runs a local model: off the event loop, so other conversations go on.
    try:
        english, machine = await asyncio.get_running_loop().run_in_executor(None, bilingual)
    except Exception:  # noqa: BLE001 - the agent still gets the customer's own words
        logger.warning("no English version of the customer's words", exc_info=True)
        return text, None, False
    return text, english, machine


def _moment(event: Dict[str, Any]) -> dt.datetime:
    stamp = event.get("timestamp")
    if isinstance(stamp, (int, float)):
        return dt.datetime.fromtimestamp(stamp, dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def transcript(tracker: Tracker) -> Tuple[TranscriptLine, ...]:
    lines = []
    for event in tracker.applied_events():
        kind, text = event.get("event"), event.get("text")
        if kind in ("user", "bot") and text:
            lines.append(TranscriptLine(_moment(event), "customer" if kind == "user" else "bot", str(text)))
    return tuple(lines)


def summary(tracker: Tracker, view: ConversationView, acting: str | None = None) -> Dict[str, object]:
    """What Kefu tried before the handoff (``acting``: the action opening the ticket, not yet in
    the events), for the agent who picks it up."""
    tried: List[str] = []
    done = [action for turn in view.turns for action in turn.bot_actions]
    for action in [*done, *([acting] if acting else [])]:
        label = _TRIED.get(action)
        if label and label not in tried:
            tried.append(label)
    loop = tracker.active_loop.get("name") if tracker.active_loop else None
    requested = tracker.get_slot("requested_slot")
    failed_at = f"{loop}: asking for {requested}" if loop else ""
    if not failed_at and view.turns and "action_fallback" in view.turns[-1].bot_actions:
        failed_at = "Kefu did not understand the last message"
    return {"tried": tried, "failed_at": failed_at, "intents": [t.intent for t in view.turns if t.intent]}


def conversation_order_ids(tracker: Tracker, view: ConversationView) -> Tuple[str, ...]:
    found = [order for turn in view.turns for order in turn.order_ids]
    for slot in ("order_id", "change_order_id"):
        value = tracker.get_slot(slot)
        if value:
            found.append(str(value))
    return tuple(dict.fromkeys(found))


async def ticket_draft(tracker: Tracker, reason: Reason, paused: bool, acting: str | None = None) -> TicketDraft:
    words, english, machine = await customer_words(tracker)
    view = read_conversation(tracker.applied_events())
    return TicketDraft(
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "",
        customer_id=tracker.get_slot("customer_id"),
        language=tracker.get_slot("language") or "en",
        reason=reason.value,
        request_type=tracker.get_slot("request_type"),
        sentiment_scores=tuple(t.sentiment_score for t in view.turns if t.sentiment_score is not None),
        order_ids=conversation_order_ids(tracker, view),
        summary=summary(tracker, view, acting),
        customer_words=words,
        customer_words_english=english,
        machine_translated=machine,
        transcript=transcript(tracker),
        paused=paused,
    )


def current_reason(tracker: Tracker, fallback: Reason) -> Reason:
    """Why Kefu brings in a person now: the trigger that holds, else what the offer said."""
    trigger = detect(read_conversation(tracker.applied_events()), escalation_settings())
    if trigger is not None:
        return trigger.reason
    slot = tracker.get_slot("handoff_reason")
    return Reason.parse(slot) if slot else fallback


class ActionOfferHuman(Action):
    """Offer a person (predicted by the escalation policy, or after an unreachable store)."""

    def name(self) -> str:
        return "action_offer_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        if tracker.get_slot("auth_status") == "unavailable":
            # The store was down during identification: let the next request try again.
            return [*offer_human_events(dispatcher, Reason.STORE_UNAVAILABLE), SlotSet("auth_status", None)]
        trigger = detect(read_conversation(tracker.applied_events()), escalation_settings())
        reason = trigger.reason if trigger else Reason.ASKED_FOR_HUMAN
        response = trigger.response if trigger else "utter_offer_human"
        return offer_human_events(dispatcher, reason, response)


class ActionHandoff(Action):
    """Hand the conversation to a person: a ticket, what happens next, and the pause."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        reason = current_reason(tracker, Reason.ASKED_FOR_HUMAN)
        settings = escalation_settings()
        try:
            ticket = store().open_ticket(await ticket_draft(tracker, reason, paused=True))
            now = dt.datetime.now(dt.timezone.utc)
            presence = now - dt.timedelta(minutes=settings.hours.agent_presence_minutes)
            wait = expectation(settings.hours, now, store().agents_seen_since(presence))
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_handoff_unavailable", contact_email=contact_email())
            return [SlotSet("handoff_offered", False)]
        if wait.agents_now or not wait.back_at:
            dispatcher.utter_message(response="utter_handoff_done", ticket_id=ticket.id, minutes=wait.minutes)
        else:
            dispatcher.utter_message(response="utter_handoff_after_hours", ticket_id=ticket.id, back_at=wait.back_at)
        events: EventList = [
            SlotSet("handoff_reason", reason.value),
            SlotSet("handoff_offered", False),
            SlotSet("ticket_id", float(ticket.id)),
        ]
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        # Kefu has finished its turn: it listens, then pauses. Rasa predicts nothing while paused,
        # so without the listen the customer's next message (a /restart, or any message after the
        # hand-back) would not be read in the state every rule expects.
        return [*events, ActionExecuted("action_listen"), ConversationPaused()]


class ActionHandback(Action):
    """The agent handed the conversation back (run by the console): the bot goes on, knowing why."""

    def name(self) -> str:
        return "action_handback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        ticket_id = tracker.get_slot("ticket_id")
        ticket = store().get_ticket(int(ticket_id)) if ticket_id else None
        note = ticket.note if ticket else ""
        agent = ticket.assigned_to if ticket else None
        if note:
            dispatcher.utter_message(response="utter_handback_with_note", note=note)
        else:
            dispatcher.utter_message(response="utter_handback")
        open_ticket = ticket is not None and ticket.state != TicketState.RESOLVED
        return [
            ConversationResumed(),
            SlotSet("agent_note", note or None),
            SlotSet("handled_by_agent", agent),
            SlotSet("ticket_id", float(ticket.id) if open_ticket else None),
            # The agent dealt with the mood: triggers count afresh from here.
            SlotSet("negative_streak", 0.0),
            FollowupAction("action_listen"),
        ]


class ActionReviewOutcome(Action):
    """Tell the customer what an agent decided about their refund (run by the console)."""

    def name(self) -> str:
        return "action_review_outcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        review_id = tracker.get_slot("review_id")
        review = store().get_review(int(review_id)) if review_id else None
        if review is None or review.state == "pending":
            return []
        if review.state == "approved":
            dispatcher.utter_message(response="utter_review_approved", review_id=review.id, order_id=review.order_id)
        else:
            reason = review.decision_reason or ""
            dispatcher.utter_message(
                response="utter_review_declined", review_id=review.id, order_id=review.order_id, reason=reason
            )
        return [SlotSet("review_id", None)]


class ActionDeclineHandoff(Action):
    def name(self) -> str:
        return "action_decline_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        dispatcher.utter_message(response="utter_ok_not_now")
        return [SlotSet("handoff_offered", False)]


class ActionFallback(Action):
    """Low NLU confidence: ask to rephrase, then say so plainly (the policy then offers a person)."""

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
        return []

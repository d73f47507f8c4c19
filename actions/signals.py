"""Keeps what the NLU pipeline read off each message (language, mood, request type) in slots.

Rasa runs ``action_validate_slot_mappings`` after every user message. The parsed message
carries ``language``, ``sentiment`` and ``request_type`` (kefu/nlu); this action copies them
into slots so responses, rules and other actions can use them, and applies the one rule
that needs the conversation: an unreliable language guess never switches its language.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from kefu.channels.edge import LANGUAGE_METADATA
from kefu.nlu import SUPPORTED_LANGUAGES
from kefu.store import StoreUnavailable

Extracted = Dict[str, Any]
logger = logging.getLogger(__name__)


def keep_for_agent(tracker: Tracker, dispatcher: CollectingDispatcher) -> None:
    """A person has the conversation (it is paused): the customer's message goes to their ticket.

    Until an agent has written, Kefu says the message reached the ticket (silence would look like
    a lost message); once the agent is in the conversation, Kefu keeps quiet.
    """
    from actions.common import store

    text = tracker.latest_message.get("text")
    if not text:
        return
    try:
        ticket = store().active_ticket(tracker.sender_id)
        if ticket is not None:
            store().add_ticket_message(ticket.id, "customer", text)
            restarting = (tracker.latest_message.get("intent") or {}).get("name") == "restart"
            if ticket.first_agent_reply_at is None and not restarting:
                dispatcher.utter_message(response="utter_handoff_waiting", ticket_id=ticket.id)
    except StoreUnavailable:
        logger.warning("message of paused conversation %s not kept: store unavailable", tracker.sender_id)


def count_message(tracker: Tracker, events: List[Dict[str, Any]]) -> None:
    """The message's signals (never its text) for the daily report (kefu/reports)."""
    from actions.common import store
    from kefu.store.records import MessageSignals

    if not tracker.latest_message.get("text"):
        return
    language = next((e["value"] for e in events if e.get("name") == "language"), None)
    sentiment = _latest(tracker, "sentiment").get("score")
    signals = MessageSignals(
        at=dt.datetime.now(dt.timezone.utc),
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "",
        language=language or tracker.get_slot("language") or "en",
        intent=str((tracker.latest_message.get("intent") or {}).get("name") or ""),
        request_type=_latest(tracker, "request_type").get("label"),
        sentiment_score=float(sentiment) if isinstance(sentiment, (int, float)) else None,
        to_agent=tracker.is_paused(),
    )
    try:
        store().record_message_signals(signals)
    except StoreUnavailable:
        logger.warning("signals of a message in %s not counted: store unavailable", tracker.sender_id)


def _latest(tracker: Tracker, key: str) -> Dict[str, Any]:
    value = tracker.latest_message.get(key)
    return value if isinstance(value, dict) else {}


# "Change my address" is an order's delivery address unless the customer names the account's
# own (default) address; the NLU taxonomy has one intent for both, the flows differ.
ACCOUNT_ADDRESS = re.compile(
    r"\b(account|profile|default|saved|future orders|all my orders|compte|cuenta|perfil|konto)\b"
    r"|账户|账号|默认",
    re.IGNORECASE,
)


def newly_declared_language(tracker: Tracker) -> str | None:
    """The language the client declares, when it is new in the conversation (first message, or
    the customer switched): a client that repeats it with every message must not undo what the
    customer's own writing chose since."""
    declared = [
        (event.get("metadata") or {}).get(LANGUAGE_METADATA) for event in tracker.events if event.get("event") == "user"
    ]
    if not declared or declared[-1] is None:
        return None
    return declared[-1] if len(declared) == 1 or declared[-2] != declared[-1] else None


class ReadMessageSignals(ValidationAction):
    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[str, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        if tracker.is_paused():
            keep_for_agent(tracker, dispatcher)
        count_message(tracker, events)
        return events

    async def extract_language(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> Extracted:
        # The written text's language when it is clear, else the one the customer chose in the
        # widget or their messenger declares (the edge keeps only the shop's languages there).
        detected = _latest(tracker, "language")
        code = detected.get("code") if detected.get("reliable") else None
        if code not in SUPPORTED_LANGUAGES:
            code = newly_declared_language(tracker)
        if code in SUPPORTED_LANGUAGES and code != tracker.get_slot("language"):
            return {"language": code}
        return {}

    async def extract_sentiment(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> Extracted:
        label = _latest(tracker, "sentiment").get("label")
        return {"sentiment": label} if label else {}

    async def extract_sentiment_score(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict
    ) -> Extracted:
        score = _latest(tracker, "sentiment").get("score")
        return {"sentiment_score": float(score)} if score is not None else {}

    async def extract_negative_streak(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict
    ) -> Extracted:
        label = _latest(tracker, "sentiment").get("label")
        if label is None:
            return {}
        streak = float(tracker.get_slot("negative_streak") or 0)
        return {"negative_streak": streak + 1 if label == "negative" else 0.0}

    async def validate_pending_request(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict
    ) -> Extracted:
        text = tracker.latest_message.get("text") or ""
        if value == "change_shipping_address" and ACCOUNT_ADDRESS.search(text):
            return {"pending_request": "set_up_shipping_address"}
        return {"pending_request": value}

    async def extract_customer_id(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> Extracted:
        """A customer logged in on the shop's site: the channel edge checked its signed token."""
        from actions.common import store
        from actions.identification import guard, vouched_customer_id

        customer_id = vouched_customer_id(tracker)
        if not customer_id or tracker.get_slot("customer_id"):
            return {}  # no token, or already identified: a conversation never changes customer
        try:
            customer = store().get_customer(customer_id)
            if customer is not None:
                guard().record_success(customer.id)
        except StoreUnavailable:
            return {}  # identified on a later message, or by the form
        if customer is None:
            return {}
        return {"customer_id": customer.id, "customer_name": customer.first_name, "auth_status": "verified"}

    async def extract_request_type(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> Extracted:
        label = _latest(tracker, "request_type").get("label")
        return {"request_type": label} if label else {}

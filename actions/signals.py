"""What a customer message needs from the store before Kefu answers it.

Rasa's ``action_validate_slot_mappings``: the slots read off the parse (language, mood,
request type) are filled in Rasa's own process (kefu/message_slots.py); Rasa calls this action
only for a paused conversation or a customer vouched for by the shop's token
(``needs_action_server`` in kefu/rasa_speedups.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

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


class StoreWorkOfAMessage(ValidationAction):
    """Rasa reads each message's signals into slots in its own process (kefu/rasa_speedups.py,
    kefu/message_slots.py) and calls this action only when a message needs the store: a paused
    conversation's message goes on the agent's ticket, a customer the shop's signed token names
    is identified."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[str, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        if tracker.is_paused():
            keep_for_agent(tracker, dispatcher)
        return events

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

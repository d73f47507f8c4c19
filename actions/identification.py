"""Identify the customer before any order data is shown: two facts the shop holds, or the shop's token.

The form ``auth_form`` has one required slot, ``customer_id``, which only a successful store
look-up fills. An anonymous customer gives one of the factor sets of ``authentication.factors``
in kefu.yml (email and zip code, or full name and zip code): never an email alone. Partial
answers (an email without the zip code) are kept across turns. After
``authentication.max_attempts`` failed look-ups the form stops and Kefu offers a human agent;
failures are also counted in the store per customer and per source, across conversations
(kefu/security/lockout.py), so ``/restart`` or a new conversation does not reset them.
A customer logged in on the shop's site arrives with a signed token that the channel edge has
checked (``kefu_identity`` in the message metadata): identified without questions.
Once identified, the conversation belongs to that customer: other identities are refused.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, never_crash, store, turn
from kefu.channels.edge import IDENTITY_METADATA, SOURCE_METADATA
from kefu.config import settings
from kefu.security.lockout import IdentificationGuard
from kefu.store import StoreUnavailable, normalize_email
from kefu.store.base import EMAIL_PATTERN
from kefu.store.records import Customer
from kefu.understanding.identity import introduced_name

ZIP_PATTERN = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
# Words around a name that are not part of it ("my name is Ava Nguyen and my zip is 10083"),
# and common words of replies that are not names ("I think so", "not sure").
_FILLER = set(
    """
    my name names name's is it's its i am i'm im this and zip code zipcode postcode postal
    the it hi hello hey sure ok okay yes please here you go called me live in at thanks
    thank of with number first last full a an think so not don't dont know what why how
    no do need want that can cannot can't will would order email account remember forgot
    again wait one moment sorry right wrong well just now yeah yep nope maybe have has had
    for to on your our we they he she are was be where when who
    """.split()
)
# Intents of a message that answers the identification question.
ANSWER_INTENTS = {"inform", "nlu_fallback", "affirm"}
IDENTIFICATION_SLOTS = (
    "customer_id",
    "customer_name",
    "customer_email",
    "zip_code",
    "auth_status",
    "auth_attempts",
    "auth_lockout",
)


def extract_zip(text: str) -> str | None:
    match = ZIP_PATTERN.search(text or "")
    return match.group(1) if match else None


def extract_name(text: str) -> str | None:
    """A full name: the two or three words left after removing fillers, zip codes and emails."""
    cleaned = ZIP_PATTERN.sub(" ", EMAIL_PATTERN.sub(" ", text or ""))
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", cleaned) if w.lower() not in _FILLER]
    return " ".join(words[:3]) if 2 <= len(words) <= 3 else None


def split_name(full_name: str) -> tuple[str, str]:
    parts = full_name.split()
    return parts[0], parts[-1]


def message_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def message_source(tracker: Tracker) -> str:
    """Where the message came from (a hashed client address, from the channel edge), else the conversation."""
    source = message_metadata(tracker).get(SOURCE_METADATA)
    return source if isinstance(source, str) and source else f"conversation:{tracker.sender_id}"


def vouched_customer_id(tracker: Tracker) -> str | None:
    """The customer the shop's signed token named, as checked by the channel edge."""
    identity = message_metadata(tracker).get(IDENTITY_METADATA)
    customer_id = identity.get("customer_id") if isinstance(identity, dict) else None
    return customer_id if isinstance(customer_id, str) and customer_id else None


def matches(customer: Customer, given: Dict[str, str | None], factors: tuple[str, ...]) -> bool:
    """Every factor of the set agrees with the account (emails and names without regard to case)."""
    for factor in factors:
        value = (given.get(factor) or "").strip().lower()
        if factor == "email" and value != customer.email.lower():
            return False
        if factor == "zip_code" and value != customer.address.zip.lower():
            return False
        if factor == "full_name":
            first, last = split_name(value) if value else ("", "")
            if (first, last) != (customer.first_name.lower(), customer.last_name.lower()):
                return False
    return True


def guard() -> IdentificationGuard:
    return IdentificationGuard(store(), settings().identification.lockout)


def verified_events(dispatcher: CollectingDispatcher, customer: Customer) -> EventList:
    dispatcher.utter_message(response="utter_identity_verified", customer_name=customer.first_name)
    return [
        SlotSet("customer_id", customer.id),
        SlotSet("customer_name", customer.first_name),
        SlotSet("auth_status", "verified"),
    ]


class ValidateAuthForm(FormValidationAction):
    def name(self) -> str:
        return "validate_auth_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[str]:
        # Verified customers pass straight through; locked-out ones are not asked again.
        if tracker.get_slot("auth_status") in ("verified", "failed", "unavailable"):
            return []
        return domain_slots

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> EventList:
        # rasa_sdk would keep only the required slot; identification also records the
        # attempts, the half-given name or zip code, and the outcome.
        recent = tracker.slots_to_validate()
        return [SlotSet(name, value) for name, value in recent.items() if name in IDENTIFICATION_SLOTS]

    async def extract_customer_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        message = tracker.latest_message or {}
        # requested_slot is unset while the form starts on this very message: an identity given
        # before Kefu asked ("Hi, I'm Ana Silva, zip code 12345, I want to cancel...") is read
        # now instead of being asked for again.
        volunteered = requested is None
        if not volunteered and requested != "customer_id":
            return {}
        if not volunteered and (message.get("intent") or {}).get("name") in settings().digressions:
            return {}
        try:
            return self._identify(dispatcher, tracker, message, volunteered)
        except StoreUnavailable:
            # Not the customer's failure: end the form without spending an attempt; the
            # dialogue rules then offer a human, and a later request tries again.
            dispatcher.utter_message(response="utter_store_unavailable")
            return {"auth_status": "unavailable"}

    def _identify(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, message: Dict[str, Any], volunteered: bool = False
    ) -> Dict[str, Any]:
        text = message.get("text") or ""
        intent = (message.get("intent") or {}).get("name")
        # The NLU's entities first (its email and zip_code regexes); the text when it found none.
        said = turn(tracker)
        email = next(filter(None, map(normalize_email, said.entities("email"))), None) or normalize_email(text)
        new_zip = next(filter(None, map(extract_zip, said.entities("zip_code"))), None) or extract_zip(text)
        # A name the customer introduces ("I'm Ana Silva", kefu/understanding/introductions.yml);
        # other free-text names only when the message answers Kefu's question.
        new_name = introduced_name(text) or (extract_name(text) if intent == "inform" and not volunteered else None)
        gave_identity = bool(email or new_zip or new_name)
        if volunteered:
            if not gave_identity:
                return {}  # the request alone: the form asks, as before
        elif (said.order_id_said and not email) or (not gave_identity and intent not in ANSWER_INTENTS):
            # An order number or another order question instead of an identity: keep the
            # question (the order_id slot holds the number) and ask again, no attempt spent.
            return {"customer_id": None}
        given = {
            "email": email or tracker.get_slot("customer_email"),
            "zip_code": new_zip or tracker.get_slot("zip_code"),
            "full_name": new_name or tracker.get_slot("customer_name"),
        }
        factor_set = next((f for f in settings().identification.factor_sets if all(given[x] for x in f)), None)
        if factor_set is None and any(given.values()):
            # Part of a factor set: keep it and ask for the rest, no attempt spent.
            return {
                "customer_email": given["email"],
                "customer_name": given["full_name"],
                "zip_code": given["zip_code"],
            }

        source = message_source(tracker)
        if guard().source_locked(source):
            return self._paused()
        customer, named = self._look_up(given, factor_set) if factor_set else (None, [])
        if customer is not None and guard().customer_locked(customer.id):
            return self._paused()
        if customer is not None:
            guard().record_success(customer.id)
            events = verified_events(dispatcher, customer)
            return {e["name"]: e["value"] for e in events} | {
                "auth_attempts": 0,
                "zip_code": None,
                "customer_email": None,
            }

        guard().record_failure(source, named)
        attempts = int(tracker.get_slot("auth_attempts") or 0) + 1
        limit = settings().max_auth_attempts
        dispatcher.utter_message(response="utter_identity_not_found" if factor_set else "utter_identity_unreadable")
        update: Dict[str, Any] = {
            "auth_attempts": attempts,
            "customer_name": None,
            "customer_email": None,
            "zip_code": None,
            "customer_id": None,
        }
        if attempts >= limit:
            update["auth_status"] = "failed"
        return update

    @staticmethod
    def _look_up(given: Dict[str, str | None], factors: tuple[str, ...]) -> tuple[Customer | None, List[str]]:
        """The customer every factor agrees with, and the customers the answer pointed at (for lockouts)."""
        if "email" in factors:
            candidate = store().find_customer_by_email(str(given["email"]))
        else:
            first, last = split_name(str(given["full_name"]))
            candidate = store().find_customer_by_name_and_zip(first, last, str(given["zip_code"]))
        if candidate is None:
            return None, []
        return (candidate if matches(candidate, given, factors) else None), [candidate.id]

    @staticmethod
    def _paused() -> Dict[str, Any]:
        # Right or wrong answers alike: an attacker learns nothing while identification is paused.
        return {"auth_status": "failed", "auth_lockout": True, "customer_id": None, "zip_code": None}


class ActionAskCustomerId(Action):
    """The form's question, worded after what the customer has already given."""

    def name(self) -> str:
        return "action_ask_customer_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        name, zip_code = tracker.get_slot("customer_name"), tracker.get_slot("zip_code")
        if tracker.get_slot("customer_email") and not zip_code:
            dispatcher.utter_message(response="utter_ask_zip_code_after_email")
        elif name and not zip_code:
            dispatcher.utter_message(response="utter_ask_zip_code", customer_name=name.split()[0])
        elif zip_code and not name:
            dispatcher.utter_message(response="utter_ask_full_name")
        elif int(tracker.get_slot("auth_attempts") or 0) > 0:
            dispatcher.utter_message(response="utter_ask_identity_retry")
        else:
            dispatcher.utter_message(response="utter_ask_identity")
        return []


class ActionIdentificationLocked(Action):
    """Identification failed too often: say so (the escalation policy then offers a person)."""

    def name(self) -> str:
        return "action_identification_locked"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        if tracker.get_slot("auth_lockout"):
            minutes = settings().identification.lockout.cool_down_minutes
            dispatcher.utter_message(response="utter_identification_paused", minutes=minutes)
            return []
        dispatcher.utter_message(response="utter_identification_failed", attempts=settings().max_auth_attempts)
        return []

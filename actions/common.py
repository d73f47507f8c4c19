"""What every Kefu action shares: the store, text formatting, and the never-crash guard."""

from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable, Dict, List, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kefu.config import settings
from kefu.escalation.reasons import Reason
from kefu.store import Store, StoreUnavailable, normalize_order_id, open_store
from kefu.store.records import Customer, Order, Product
from kefu.understanding.catalogue_words import in_catalogue_words
from kefu.understanding.matching import rank_products

logger = logging.getLogger(__name__)

EventList = List[Dict[str, Any]]
_store: Store | None = None


def store() -> Store:
    """The process-wide store, opened on first use (one connection pool per action server)."""
    global _store
    if _store is None:
        _store = open_store()
    return _store


def use_store(new_store: Store | None) -> None:
    """Replace the process-wide store (tests and embedding applications)."""
    global _store
    _store = new_store


def previous_bot_action(tracker: Tracker) -> str | None:
    """The last action Kefu took before the customer's latest message (derived from events)."""
    seen_latest_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest_message:
                return None
            seen_latest_message = True
        elif (
            seen_latest_message
            and event.get("event") == "action"
            and event.get("name") not in ("action_listen", "action_extract_slots", None)
        ):
            return event.get("name")
    return None


class Turn:
    """What one action call reads about its turn, each read once: the message in catalogue
    words, the customer, the orders and products it names.

    Rasa SDK builds a new Tracker for every call of the action server, and the turn lives on
    it, so nothing read here outlives the call: a change written by a later call (or by an
    agent) is always read afresh. A form's validation reads the order once for all its slots
    instead of once per slot.
    """

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._orders: Dict[str, Order | None] = {}
        self._products: Dict[str, Product | None] = {}

    @functools.cached_property
    def text_in_catalogue_words(self) -> str:
        """The latest message with product names and option words as the catalogue writes them.

        The product and option rules read English; this lets them read "la brosse à dents en
        noir" or "电动牙刷换成黑色的" too (kefu/understanding/catalogue_words.py). English is unchanged.
        """
        return _in_catalogue_words(self._tracker.latest_message or {})

    @functools.cached_property
    def request_text(self) -> str:
        """The message that asked for what Kefu is collecting now, in catalogue words.

        "I'd like to return the kettle and the clock" may come before identification: when
        the change form starts, the latest message is the zip code. The request is the latest
        message whose intent is the pending request's (``pending_request``, set from intents);
        the latest message when there is none.
        """
        wanted = self._tracker.get_slot("pending_request")
        for event in reversed(self._tracker.events):
            if event.get("event") != "user":
                continue
            parsed = event.get("parse_data") or {}
            if wanted and (parsed.get("intent") or {}).get("name") == wanted:
                return _in_catalogue_words({**parsed, "text": event.get("text") or parsed.get("text")})
        return self.text_in_catalogue_words

    def entities(self, name: str) -> List[str]:
        """Values of the NLU's ``name`` entities in the latest message, in order."""
        found = (self._tracker.latest_message or {}).get("entities") or ()
        return [str(e.get("value")) for e in found if e.get("entity") == name and e.get("value")]

    @functools.cached_property
    def order_id_said(self) -> str | None:
        """The order number of the latest message: the NLU's ``order_id`` entity, else read from the text."""
        for value in self.entities("order_id"):
            order_id = normalize_order_id(value)
            if order_id:
                return order_id
        return normalize_order_id(self.text_in_catalogue_words)

    @functools.cached_property
    def customer(self) -> Customer | None:
        customer_id = self._tracker.get_slot("customer_id")
        return store().get_customer(customer_id) if customer_id else None

    def order(self, order_id: str | None) -> Order | None:
        """The identified customer's order ``order_id`` (None when it is not theirs)."""
        if not order_id:
            return None
        if order_id not in self._orders:
            self._orders[order_id] = store().get_order(order_id, self._tracker.get_slot("customer_id"))
        return self._orders[order_id]

    def product(self, product_id: str) -> Product | None:
        if product_id not in self._products:
            self._products[product_id] = store().get_product(product_id)
        return self._products[product_id]

    @functools.cached_property
    def catalogue(self) -> List[Product]:
        """Every product with its variants (fifty types: read whole, ranked in Python)."""
        return store().list_products()

    def products_named(self, text: str) -> List[Product]:
        """Products the text names, best match first (kefu/understanding/matching.py)."""
        return rank_products(text, self.catalogue)


def _in_catalogue_words(message: Dict[str, Any]) -> str:
    language = message.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    return in_catalogue_words(message.get("text") or "", message.get("entities") or (), code)


_TURN = "_kefu_turn"


def turn(tracker: Tracker) -> Turn:
    """The turn of this action call (made on first use, kept on the call's tracker)."""
    current = tracker.__dict__.get(_TURN)
    if current is None:
        current = tracker.__dict__[_TURN] = Turn(tracker)
    return current


def message_in_catalogue_words(tracker: Tracker) -> str:
    """The latest message in the catalogue's words (``Turn.text_in_catalogue_words``)."""
    return turn(tracker).text_in_catalogue_words


def offer_human_events(
    dispatcher: CollectingDispatcher, reason: Reason, response: str = "utter_offer_human"
) -> EventList:
    """Ask whether the customer wants a person, then wait for the yes or no (handled by rules)."""
    dispatcher.utter_message(response=response)
    return [
        SlotSet("handoff_reason", Reason(reason).value),
        SlotSet("handoff_offered", True),
        FollowupAction("action_listen"),
    ]


def store_unavailable_events(dispatcher: CollectingDispatcher) -> EventList:
    dispatcher.utter_message(response="utter_store_unavailable")
    return offer_human_events(dispatcher, Reason.STORE_UNAVAILABLE)


RunMethod = Callable[[Any, CollectingDispatcher, Tracker, Dict[str, Any]], Awaitable[EventList]]
R = TypeVar("R", bound=RunMethod)


def never_crash(run: R) -> R:
    """Turn an unreachable store or an unexpected error into an apology and a human offer.

    A conversation must survive whatever happens in an action: the error is logged with the
    conversation id for the operators, and the customer is told plainly what happened.
    """

    @functools.wraps(run)
    async def guarded(
        self: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> EventList:
        try:
            return await run(self, dispatcher, tracker, domain)
        except StoreUnavailable:
            logger.warning("store unavailable in %s (conversation %s)", self.name(), tracker.sender_id)
            return store_unavailable_events(dispatcher)
        except Exception:  # noqa: BLE001 - the last line of defence of a conversation
            logger.exception("action %s failed (conversation %s)", self.name(), tracker.sender_id)
            dispatcher.utter_message(response="utter_something_went_wrong")
            return offer_human_events(dispatcher, Reason.ACTION_ERROR)

    return guarded  # type: ignore[return-value]


def contact_email() -> str:
    return settings().contact_email

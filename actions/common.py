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
from kefu.store import Store, StoreUnavailable, open_store
from kefu.store.catalogue_words import in_catalogue_words

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


def message_in_catalogue_words(tracker: Tracker) -> str:
    """The latest message with product names and option words as the catalogue writes them.

    The product and option rules read English; this lets them read "la brosse à dents en noir"
    or "电动牙刷换成黑色的" too (kefu/store/catalogue_words.py). English messages are unchanged.
    """
    message = tracker.latest_message or {}
    language = message.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    return in_catalogue_words(message.get("text") or "", message.get("entities") or (), code)


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

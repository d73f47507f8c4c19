"""Free questions about the shop's policies, answered from its own documents (kefu/generation).

The answerer retrieves the shop's passages, lets the local model word an answer and checks
every number, date and id in it against those passages (the grounding guard). When the
guard refuses, the best passage itself is the answer; when nothing relevant is found, Kefu
says so and offers a human rather than guessing.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, never_crash, offer_human_events
from kefu.answering import UNKNOWN, answer_async
from kefu.channels.edge import RECEIVED_METADATA
from kefu.escalation.reasons import Reason

logger = logging.getLogger(__name__)

MACHINE_TRANSLATED = {
    "en": "(machine-translated)",
    "zh": "（机器翻译）",
    "fr": "(traduction automatique)",
    "es": "(traducción automática)",
    "de": "(maschinell übersetzt)",
}


def waited_since_message(tracker: Tracker) -> float:
    """Seconds since Kefu's channel received the customer's message, else since Rasa recorded it
    (after the NLU queue), 0 when neither time is known.

    The servers read the same clock on one machine; across machines a skew only moves the
    answer's time budget, which is capped at the budget itself.
    """
    received = (tracker.latest_message.get("metadata") or {}).get(RECEIVED_METADATA)
    if not isinstance(received, (int, float)):
        received = next((e.get("timestamp") for e in reversed(tracker.events) if e.get("event") == "user"), None)
    return max(0.0, time.time() - float(received)) if isinstance(received, (int, float)) else 0.0


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        question = tracker.latest_message.get("text") or ""
        language = tracker.get_slot("language") or "en"
        waited = waited_since_message(tracker)
        started = time.monotonic()
        answer = await answer_async(question, language, waited_s=waited)
        # Times and kinds only, never the customer's words: what an operator tunes the budget by.
        logger.info(
            "free answer %s (%s) in %.2f s, %.2f s after the message arrived",
            answer.kind,
            answer.reason.split(":")[0] or "-",
            time.monotonic() - started,
            waited,
        )
        if answer.kind == UNKNOWN or not answer.text:
            dispatcher.utter_message(response="utter_ask_policy")
            return offer_human_events(dispatcher, Reason.UNANSWERED_QUESTION)
        text = answer.text
        if answer.machine_translated:
            text = f"{text} {MACHINE_TRANSLATED.get(answer.language, MACHINE_TRANSLATED['en'])}"
        dispatcher.utter_message(text=text)
        return []

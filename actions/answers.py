"""Free questions about the shop's policies, answered from its own documents (kefu/generation).

The answerer retrieves the shop's passages, lets the local model word an answer and checks
every number, date and id in it against those passages (the grounding guard). When the
guard refuses, the best passage itself is the answer; when nothing relevant is found, Kefu
says so and offers a human rather than guessing.
"""

from __future__ import annotations

import time
from typing import Any, Dict

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, never_crash, offer_human_events
from kefu.escalation.reasons import Reason
from kefu.generation.answering import UNKNOWN, answer_async

MACHINE_TRANSLATED = {
    "en": "(machine-translated)",
    "zh": "（机器翻译）",
    "fr": "(traduction automatique)",
    "es": "(traducción automática)",
    "de": "(maschinell übersetzt)",
}


def waited_since_message(tracker: Tracker) -> float:
    """Seconds since Rasa received the customer's message (0 when its time is unknown).

    Both servers read the same clock on one machine; across machines a skew only moves the
    answer's time budget, which is capped at the budget itself.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            stamp = event.get("timestamp")
            return max(0.0, time.time() - float(stamp)) if isinstance(stamp, (int, float)) else 0.0
    return 0.0


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        question = tracker.latest_message.get("text") or ""
        language = tracker.get_slot("language") or "en"
        answer = await answer_async(question, language, waited_s=waited_since_message(tracker))
        if answer.kind == UNKNOWN or not answer.text:
            dispatcher.utter_message(response="utter_ask_policy")
            return offer_human_events(dispatcher, Reason.UNANSWERED_QUESTION)
        text = answer.text
        if answer.machine_translated:
            text = f"{text} {MACHINE_TRANSLATED.get(answer.language, MACHINE_TRANSLATED['en'])}"
        dispatcher.utter_message(text=text)
        return []

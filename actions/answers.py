"""Free questions about the shop's policies, answered from its own documents (kefu/generation).

The answerer retrieves the shop's passages, lets the local model word an answer and checks
every number, date and id in it against those passages (the grounding guard). When the
guard refuses, the best passage itself is the answer; when nothing relevant is found, Kefu
says so and offers a human rather than guessing.
"""

from __future__ import annotations

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


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        question = tracker.latest_message.get("text") or ""
        language = tracker.get_slot("language") or "en"
        answer = await answer_async(question, language)
        if answer.kind == UNKNOWN or not answer.text:
            dispatcher.utter_message(response="utter_ask_policy")
            return offer_human_events(dispatcher, Reason.UNANSWERED_QUESTION)
        text = answer.text
        if answer.machine_translated:
            text = f"{text} {MACHINE_TRANSLATED.get(answer.language, MACHINE_TRANSLATED['en'])}"
        dispatcher.utter_message(text=text)
        return []

"""The rules that decide when a customer needs a person, one small function per trigger.

``detect`` says which trigger holds for the latest customer message; the dialogue policy
(kefu/policies/escalation.py) decides when in the turn to act on it, and ``action_offer_human``
calls ``detect`` again to know why it offers. Thresholds come from kefu.yml
``escalation.triggers``; a trigger missing there is off.
"""

from __future__ import annotations

from typing import Callable, Dict

from kefu.escalation.conversation import ConversationView, UserTurn
from kefu.escalation.reasons import TRIGGERS, Reason
from kefu.escalation.settings import EscalationSettings, Trigger

HUMAN_INTENT = "contact_human_agent"
# Out of scope is understood (Kefu says what it can do); only unclear messages count.
NOT_UNDERSTOOD_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_ACTION = "action_fallback"
LOCKED_ACTION = "action_identification_locked"
# Messages that answer Kefu or keep the conversation going are not requests a customer repeats.
NOT_A_REQUEST = frozenset(
    {"affirm", "deny", "greet", "goodbye", "thank", "inform", "bot_challenge", HUMAN_INTENT}
    | NOT_UNDERSTOOD_INTENTS
    | {"out_of_scope"}
)


# A customer who said no to a person still gets one when asking, or when locked out again.
ALWAYS_OFFERED = frozenset({Reason.ASKED_FOR_HUMAN, Reason.IDENTIFICATION_LOCKED})


def _is_negative(turn: UserTurn) -> bool:
    return turn.sentiment_label == "negative"


def asked_for_human(view: ConversationView, trigger: Trigger) -> bool:
    return bool(view.latest and view.latest.intent == HUMAN_INTENT)


def identification_locked(view: ConversationView, trigger: Trigger) -> bool:
    return bool(view.latest and LOCKED_ACTION in view.latest.bot_actions)


def severe_complaint(view: ConversationView, trigger: Trigger) -> bool:
    turn = view.latest
    if turn is None or "complaint" not in (turn.request_type, turn.intent) or not _is_negative(turn):
        return False
    if turn.sentiment_score is not None and turn.sentiment_score <= trigger.number("sentiment_below"):
        return True
    order_value = view.slots.get("order_value")
    return isinstance(order_value, (int, float)) and order_value > trigger.number("order_value_above")


def sentiment_drop(view: ConversationView, trigger: Trigger) -> bool:
    if len(view.turns) < 2 or len(view.fresh_turns) < 1:
        return False
    before, now = view.turns[-2].sentiment_score, view.turns[-1].sentiment_score
    if before is None or now is None:
        return False
    return before - now >= trigger.number("drop") and now <= trigger.number("below")


def negative_mood(view: ConversationView, trigger: Trigger) -> bool:
    needed = int(trigger.number("turns"))
    recent = view.fresh_turns[-needed:]
    return len(recent) == needed and all(_is_negative(t) for t in recent)


def _not_understood(turn: UserTurn) -> bool:
    return turn.intent in NOT_UNDERSTOOD_INTENTS or FALLBACK_ACTION in turn.bot_actions


def repeated_fallback(view: ConversationView, trigger: Trigger) -> bool:
    needed = int(trigger.number("turns"))
    recent = view.fresh_turns[-needed:]
    return len(recent) == needed and all(_not_understood(t) for t in recent)


def _same_request(turn: UserTurn, latest: UserTurn) -> bool:
    # The same intent about another order is another request ("and #W2?"), not a repeat.
    other_order = bool(turn.order_ids and latest.order_ids and turn.order_ids != latest.order_ids)
    return turn.intent == latest.intent and not other_order


def repeated_request(view: ConversationView, trigger: Trigger) -> bool:
    latest = view.latest
    if latest is None or latest.intent in NOT_A_REQUEST:
        return False
    window = view.fresh_turns[-int(trigger.number("within")) :]
    repeats = sum(1 for t in window if _same_request(t, latest))
    return repeats >= int(trigger.number("times"))


RULES: Dict[Reason, Callable[[ConversationView, Trigger], bool]] = {
    Reason.ASKED_FOR_HUMAN: asked_for_human,
    Reason.IDENTIFICATION_LOCKED: identification_locked,
    Reason.SEVERE_COMPLAINT: severe_complaint,
    Reason.SENTIMENT_DROP: sentiment_drop,
    Reason.NEGATIVE_MOOD: negative_mood,
    Reason.REPEATED_FALLBACK: repeated_fallback,
    Reason.REPEATED_REQUEST: repeated_request,
}


def detect(view: ConversationView, settings: EscalationSettings) -> Trigger | None:
    """The first configured trigger that holds for the latest customer message, if any.

    After the customer has turned a person down, only asking for one works until
    ``offer_again_after`` more messages have come.
    """
    declined = view.last_escalation == "action_decline_handoff"
    waiting = declined and len(view.fresh_turns) < settings.offer_again_after
    for reason in TRIGGERS:
        trigger = settings.triggers.get(reason)
        if trigger is None or (waiting and reason not in ALWAYS_OFFERED):
            continue
        if RULES[reason](view, trigger):
            return trigger
    return None

"""Every reason Kefu brings in a human agent, with the words an agent reads in the console.

A reason code travels with the offer (slot ``handoff_reason``), the ticket and the daily report;
this is the one list of them. Triggers (kefu/escalation/triggers.py) are the reasons the dialogue
policy detects; the others are raised by actions (an unreachable store, a refund to review).
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    # Detected by the escalation policy (thresholds in kefu.yml escalation.triggers).
    ASKED_FOR_HUMAN = "asked_for_human"
    NEGATIVE_MOOD = "negative_mood"
    SENTIMENT_DROP = "sentiment_drop"
    REPEATED_FALLBACK = "repeated_fallback"
    IDENTIFICATION_LOCKED = "identification_locked"
    SEVERE_COMPLAINT = "severe_complaint"
    REPEATED_REQUEST = "repeated_request"
    # Raised by actions.
    UNSETTLED_REQUEST = "unsettled_request"  # a request only a person can settle (escalation.offer_human_for)
    COMPLAINT = "complaint"  # a complaint, recorded for an agent without pausing the conversation
    REFUND_REVIEW = "refund_review"  # a change outside the automatic rules, in the review queue
    UNANSWERED_QUESTION = "unanswered_question"
    STORE_UNAVAILABLE = "store_unavailable"
    ACTION_ERROR = "action_error"

    @classmethod
    def parse(cls, value: str | None) -> Reason:
        """The reason named by ``value``; unknown or missing values (old slots) are a request for a person."""
        try:
            return cls(value or cls.ASKED_FOR_HUMAN.value)
        except ValueError:
            return cls.ASKED_FOR_HUMAN

    @property
    def label(self) -> str:
        return LABELS[self]


def reason_label(code: str) -> str:
    """The words for a reason code; an unknown code (from an older version) as it is."""
    try:
        return Reason(code).label
    except ValueError:
        return code


LABELS = {
    Reason.ASKED_FOR_HUMAN: "Asked for a person",
    Reason.NEGATIVE_MOOD: "Unhappy for several messages",
    Reason.SENTIMENT_DROP: "Mood dropped sharply",
    Reason.REPEATED_FALLBACK: "Kefu did not understand",
    Reason.IDENTIFICATION_LOCKED: "Identification locked",
    Reason.SEVERE_COMPLAINT: "Severe complaint",
    Reason.REPEATED_REQUEST: "Repeated the same request",
    Reason.UNSETTLED_REQUEST: "Needs a person to settle",
    Reason.COMPLAINT: "Complaint",
    Reason.REFUND_REVIEW: "Refund or return to review",
    Reason.UNANSWERED_QUESTION: "Question Kefu could not answer",
    Reason.STORE_UNAVAILABLE: "Shop systems unavailable",
    Reason.ACTION_ERROR: "Kefu ran into an error",
}

# The reasons the policy detects, in the order it checks them (first match wins).
TRIGGERS = (
    Reason.ASKED_FOR_HUMAN,
    Reason.IDENTIFICATION_LOCKED,
    Reason.SEVERE_COMPLAINT,
    Reason.SENTIMENT_DROP,
    Reason.NEGATIVE_MOOD,
    Reason.REPEATED_FALLBACK,
    Reason.REPEATED_REQUEST,
)

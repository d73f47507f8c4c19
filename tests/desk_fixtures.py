"""Ticket drafts for store tests: what an action would hand over, with chosen values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.store.records import TicketDraft, TranscriptLine

AT = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone.utc)


def ticket_draft(conversation_id: str = "conv-1", **changes: Any) -> TicketDraft:
    values: dict[str, Any] = dict(
        conversation_id=conversation_id,
        channel="rest",
        customer_id=None,
        language="en",
        reason="asked_for_human",
        request_type="request",
        sentiment_scores=(0.1, -0.4),
        order_ids=(),
        summary={"tried": ["order status"], "failed_at": "", "intents": ["track_order", "contact_human_agent"]},
        customer_words="I want to talk to a person",
        customer_words_english=None,
        machine_translated=False,
        transcript=(
            TranscriptLine(AT, "customer", "where is my order?"),
            TranscriptLine(AT, "bot", "Which order?"),
            TranscriptLine(AT, "customer", "I want to talk to a person"),
        ),
        paused=True,
    )
    values.update(changes)
    return TicketDraft(**values)

"""How urgent a ticket is: points for the request, the mood, the money and the wait (0 to 100).

The points are in kefu.yml ``escalation.priority``; the inbox sorts by this number and the wait
keeps adding to it, so nobody waits forever behind louder customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kefu.escalation.settings import PrioritySettings


@dataclass(frozen=True)
class TicketFacts:
    reason: str
    request_type: str | None
    lowest_sentiment: float | None  # the most negative mood score of the conversation
    order_value: Decimal | None  # the largest order the ticket concerns
    waiting_minutes: float


def priority(facts: TicketFacts, points: PrioritySettings) -> int:
    score = points.reason.get(facts.reason, 0.0)
    score += points.request_type.get(facts.request_type or "", 0.0)
    if facts.lowest_sentiment is not None and facts.lowest_sentiment < 0:
        score += points.negative_mood * min(1.0, -facts.lowest_sentiment)
    if facts.order_value:
        score += min(points.order_value_max, float(facts.order_value) / 100 * points.order_value_per_100)
    score += min(points.waiting_max, max(0.0, facts.waiting_minutes) / 10 * points.waiting_per_10_minutes)
    return int(round(min(100.0, max(0.0, score))))


def priority_label(value: int, points: PrioritySettings) -> str:
    for label, lowest in sorted(points.labels.items(), key=lambda item: -item[1]):
        if value >= lowest:
            return label
    return "low"

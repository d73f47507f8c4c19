"""The console's JSON: tickets with their priority, a ticket with its customer and orders, reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from kefu.escalation.priority import TicketFacts, priority, priority_label
from kefu.escalation.reasons import reason_label
from kefu.escalation.settings import EscalationSettings
from kefu.shop.changes import describe_plan
from kefu.store import Store
from kefu.store.records import Review, Ticket, TicketMessage

Json = Dict[str, Any]


def _mood(score: float | None) -> str:
    if score is None:
        return "neutral"
    return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"


def _waiting_minutes(ticket: Ticket, now: dt.datetime) -> int:
    # Waiting ends with the agent's first reply; an unanswered ticket keeps waiting.
    until = ticket.first_agent_reply_at or ticket.resolved_at or now
    return max(0, int((until - ticket.created_at).total_seconds() // 60))


def ticket_priority(ticket: Ticket, settings: EscalationSettings, now: dt.datetime) -> int:
    facts = TicketFacts(
        reason=ticket.reason,
        request_type=ticket.request_type,
        lowest_sentiment=ticket.lowest_sentiment,
        order_value=ticket.order_value,
        waiting_minutes=_waiting_minutes(ticket, now),
    )
    return priority(facts, settings.priority)


def ticket_row(ticket: Ticket, settings: EscalationSettings, now: dt.datetime, customer_name: str | None) -> Json:
    value = ticket_priority(ticket, settings, now)
    latest_score = ticket.sentiment_scores[-1] if ticket.sentiment_scores else None
    return {
        "id": ticket.id,
        "state": ticket.state,
        "paused": ticket.paused,
        "priority": value,
        "priority_label": priority_label(value, settings.priority),
        "reason": ticket.reason,
        "reason_label": reason_label(ticket.reason),
        "language": ticket.language,
        "mood": _mood(latest_score),
        "sentiment_score": latest_score,
        "customer": {"id": ticket.customer_id, "name": customer_name} if ticket.customer_id else None,
        "waiting_minutes": _waiting_minutes(ticket, now),
        "created_at": ticket.created_at.isoformat(),
        "assigned_to": ticket.assigned_to,
        "channel": ticket.channel,
        "headline": (ticket.customer_words_english or ticket.customer_words)[:140],
    }


def inbox(store: Store, settings: EscalationSettings, states: List[str], now: dt.datetime) -> List[Json]:
    names: Dict[str, str | None] = {}
    rows = []
    for ticket in store.list_tickets(states):
        if ticket.customer_id and ticket.customer_id not in names:
            customer = store.get_customer(ticket.customer_id)
            names[ticket.customer_id] = f"{customer.first_name} {customer.last_name}" if customer else None
        rows.append(ticket_row(ticket, settings, now, names.get(ticket.customer_id or "")))
    # The most urgent first; among equals, who has waited longest.
    return sorted(rows, key=lambda row: (-row["priority"], -row["waiting_minutes"], row["id"]))


def message_json(message: TicketMessage) -> Json:
    return {
        "id": message.id,
        "at": message.at.isoformat(),
        "author": message.author,
        "agent_name": message.agent_name,
        "text": message.text,
        "delivered": message.delivered,
    }


def ticket_detail(store: Store, ticket: Ticket, settings: EscalationSettings, now: dt.datetime) -> Json:
    customer = store.get_customer(ticket.customer_id) if ticket.customer_id else None
    name = f"{customer.first_name} {customer.last_name}" if customer else None
    orders = []
    if customer is not None:
        for order in store.customer_orders(customer.id)[:10]:
            orders.append(
                {
                    "id": order.id,
                    "status": order.status,
                    "total": str(order.total),
                    "items": [{"name": i.name, "price": str(i.price)} for i in order.items],
                    "concerned": order.id in ticket.order_ids,
                }
            )
    row = ticket_row(ticket, settings, now, name)
    row.update(
        summary=ticket.summary,
        customer_words={
            "original": ticket.customer_words,
            "language": ticket.language,
            "english": ticket.customer_words_english,
            "machine_translated": ticket.machine_translated,
        },
        customer={"id": customer.id, "name": name, "email": customer.email} if customer else None,
        orders=orders,
        note=ticket.note,
        conversation_id=ticket.conversation_id,
    )
    return {"ticket": row, "messages": [message_json(m) for m in store.ticket_messages(ticket.id)]}


def review_json(store: Store, review: Review) -> Json:
    customer = store.get_customer(review.customer_id)
    return {
        "id": review.id,
        "kind": review.kind,
        "state": review.state,
        "order_id": review.order_id,
        "amount": str(review.amount),
        "rule": review.rule,
        "customer": {
            "id": review.customer_id,
            "name": f"{customer.first_name} {customer.last_name}" if customer else None,
        },
        "ticket_id": review.ticket_id,
        "created_at": review.created_at.isoformat(),
        "details": describe_plan(review.plan),
        "decided_by": review.decided_by,
        "decision_reason": review.decision_reason,
    }

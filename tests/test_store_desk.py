"""The human desk in the store: tickets, the review queue, agents' sessions (kefu/store/desk.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from kefu.config import settings
from kefu.shop.changes import apply_plan
from kefu.store import schema
from kefu.store.base import ChangeRefused, NeedsReview, UnknownRecord
from kefu.store.records import TicketState
from kefu.store.seed import export_store, read_seed
from kefu.store.sql_store import SqlStore, now_utc
from tests.desk_fixtures import ticket_draft

PENDING = next(oid for oid, o in read_seed()["orders"].items() if o["status"] == "pending")
OWNER = read_seed()["orders"][PENDING]["user_id"]


def test_a_conversation_has_one_active_ticket_that_a_handoff_pauses(store: SqlStore) -> None:
    complaint = store.open_ticket(ticket_draft("c1", reason="complaint", paused=False))
    assert complaint.state == TicketState.OPEN and not complaint.paused
    handoff = store.open_ticket(ticket_draft("c1", reason="severe_complaint", paused=True))
    assert handoff.id == complaint.id and handoff.paused and handoff.reason == "severe_complaint"
    assert [m.author for m in store.ticket_messages(handoff.id)] == ["customer", "bot", "customer", "system"]
    assert [e.action for e in store.audit_log("c1")] == ["open_ticket", "escalate_ticket"]
    assert store.active_ticket("another") is None


def test_ticket_states_and_who_changed_them(store: SqlStore) -> None:
    ticket = store.open_ticket(ticket_draft("c2"))
    taken = store.update_ticket(ticket.id, state=TicketState.ASSIGNED, assigned_to="alice", actor="agent:alice")
    assert taken.state == "assigned" and taken.assigned_to == "alice"
    resolved = store.update_ticket(
        ticket.id, state=TicketState.RESOLVED, paused=False, note="refunded", actor="agent:alice"
    )
    assert resolved.resolved_at is not None and resolved.note == "refunded"
    assert store.active_ticket("c2") is None
    last = store.audit_log("c2")[-1]
    assert last.actor == "agent:alice" and last.changes["state"] == ["assigned", "resolved"]
    with pytest.raises(UnknownRecord):
        store.update_ticket(999_999, state=TicketState.RESOLVED)
    with pytest.raises(ValueError):
        store.update_ticket(ticket.id, state="lost")


def test_agent_messages_a_channel_could_not_push_wait_for_the_customer(store: SqlStore) -> None:
    ticket = store.open_ticket(ticket_draft("c3"))
    store.add_ticket_message(ticket.id, "agent", "pushed live", "Alice", delivered=True)
    queued = store.add_ticket_message(ticket.id, "agent", "for your next message", "Alice", delivered=False)
    assert store.get_ticket(ticket.id).first_agent_reply_at is not None
    assert [m.text for m in store.undelivered_messages("c3")] == ["for your next message"]
    store.mark_delivered([queued.id])
    assert store.undelivered_messages("c3") == []
    assert store.undelivered_messages("someone-else") == []


def test_a_review_approved_by_an_agent_is_written_as_theirs(store_url: str) -> None:
    strict = SqlStore(store_url, rules=replace(settings().rules, refund_review_above=Decimal("10")))
    plan = {"kind": "cancel", "order_id": PENDING, "reason": "no longer needed"}
    with pytest.raises(NeedsReview) as refused:
        apply_plan(strict, OWNER, plan, "c4", "req-1")
    before = export_store(strict)
    ticket = strict.open_ticket(ticket_draft("c4", reason="refund_review", paused=False, customer_id=OWNER))
    review = strict.submit_review("c4", OWNER, plan, refused.value, "en")
    assert review.state == "pending" and review.ticket_id == ticket.id and review.amount == refused.value.amount
    assert export_store(strict) == before  # nothing written until an agent decides

    approved = strict.decide_review(review.id, "alice", approve=True)
    assert approved.state == "approved" and approved.decided_by == "alice"
    assert strict.get_order(PENDING, OWNER).status == "cancelled"
    cancel = next(e for e in strict.audit_log("c4") if e.action == "cancel_order")
    assert cancel.actor == "agent:alice"
    with pytest.raises(UnknownRecord):
        strict.decide_review(review.id, "bob", approve=False, reason="too late")  # decided already


def test_a_declined_review_writes_nothing_and_an_impossible_one_stays_pending(store_url: str) -> None:
    strict = SqlStore(store_url, rules=replace(settings().rules, refund_review_above=Decimal("10")))
    plan = {"kind": "cancel", "order_id": PENDING, "reason": "no longer needed"}
    refused = NeedsReview("a refund of 12.00 is above 10.00", Decimal("12"))
    first = strict.submit_review("c5", OWNER, plan, refused, "fr")
    before = export_store(strict)
    declined = strict.decide_review(first.id, "alice", approve=False, reason="already shipped")
    assert declined.state == "declined" and declined.decision_reason == "already shipped"
    assert export_store(strict) == before
    # The order is cancelled meanwhile: approving the second review cannot cancel it again.
    second = strict.submit_review("c5", OWNER, plan, refused, "fr")
    strict.decide_review(strict.submit_review("c5", OWNER, plan, refused, "fr").id, "alice", approve=True)
    with pytest.raises(ChangeRefused):
        strict.decide_review(second.id, "alice", approve=True)
    assert strict.get_review(second.id).state == "pending"


def test_too_many_returns_in_a_period_go_to_review(store_url: str) -> None:
    strict = SqlStore(store_url, rules=replace(settings().rules, returns_review_count=1, returns_review_days=30))
    delivered = [
        (oid, o)
        for oid, o in read_seed()["orders"].items()
        if o["status"] == "delivered" and o["payment_history"][0]["payment_method_id"].startswith(("credit", "paypal"))
    ]
    customer = next(
        o["user_id"] for _, o in delivered if sum(1 for _, x in delivered if x["user_id"] == o["user_id"]) > 1
    )
    first, second = [(oid, o) for oid, o in delivered if o["user_id"] == customer][:2]

    def plan(order_id: str, order: dict) -> dict:
        method = order["payment_history"][0]["payment_method_id"]
        return {
            "kind": "return",
            "order_id": order_id,
            "item_ids": [order["items"][0]["item_id"]],
            "payment_method_id": method,
        }

    apply_plan(strict, customer, plan(*first), "c6", "r1")  # the first return is automatic
    with pytest.raises(NeedsReview, match="1 returns or exchanges in 30 days"):
        apply_plan(strict, customer, plan(*second), "c6", "r2")


def test_agent_sessions_expire_and_end(store: SqlStore) -> None:
    store.add_agent("alice", "Alice", "argon2-hash")
    now = now_utc()
    store.create_agent_session("alice", "h1", "csrf-1", now + dt.timedelta(hours=1))
    session = store.agent_session("h1", now)
    assert session is not None and session.agent.display_name == "Alice" and session.csrf_token == "csrf-1"
    assert store.agents_seen_since(now - dt.timedelta(seconds=1)) == 1
    assert store.agent_session("h1", now + dt.timedelta(hours=2)) is None  # expired
    store.end_agent_session("h1")
    assert store.agent_session("h1", now) is None
    assert store.agent_session("never-made", now) is None


def test_migration_0004_turns_handoff_requests_into_tickets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    config = schema.alembic_config(url)
    command.upgrade(config, "0003")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO handoff_requests (at, conversation_id, customer_id, reason, note, status) "
                "VALUES ('2026-11-30 10:00:00', 'old-1', 'noah_brown_6181', 'customer_request', 'help me', 'open')"
            )
        )
    command.upgrade(config, "head")
    assert "handoff_requests" not in inspect(engine).get_table_names()
    store = SqlStore(url)
    (ticket,) = store.list_tickets(TicketState.ACTIVE)
    assert (ticket.conversation_id, ticket.reason, ticket.customer_words) == ("old-1", "asked_for_human", "help me")
    command.downgrade(config, "0003")
    assert "tickets" not in inspect(create_engine(url)).get_table_names()

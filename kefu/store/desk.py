"""The human desk in SQL: tickets and their transcripts, the review queue, agents and feedback.

A mixin of :class:`kefu.store.sql_store.SqlStore` (it uses its ``session()`` and ``_audit``), kept
apart because it is the agents' side of the store, not the shop's orders. Every state change is
written to the audit log with who made it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, List, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kefu.store import models as m
from kefu.store.base import NeedsReview, UnknownRecord
from kefu.store.clock import as_utc, now_utc
from kefu.store.records import (
    Agent,
    AgentSession,
    FeedbackEntry,
    MessageSignals,
    Review,
    Ticket,
    TicketDraft,
    TicketMessage,
    TicketState,
)

if TYPE_CHECKING:
    from kefu.store.sql_store import SqlStore

REVIEW_STATES = ("pending", "approved", "declined")


def _moment(value: dt.datetime | None) -> dt.datetime | None:
    return as_utc(value) if value is not None else None


def _ticket(row: m.TicketRow) -> Ticket:
    return Ticket(
        id=row.id,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        conversation_id=row.conversation_id,
        channel=row.channel,
        customer_id=row.customer_id,
        language=row.language,
        reason=row.reason,
        request_type=row.request_type,
        state=row.state,
        paused=row.paused,
        sentiment_scores=tuple(row.sentiment_scores or ()),
        order_ids=tuple(row.order_ids or ()),
        order_value=row.order_value,
        summary=dict(row.summary or {}),
        customer_words=row.customer_words,
        customer_words_english=row.customer_words_english,
        machine_translated=row.machine_translated,
        assigned_to=row.assigned_to,
        note=row.note,
        first_agent_reply_at=_moment(row.first_agent_reply_at),
        resolved_at=_moment(row.resolved_at),
    )


def _message(row: m.TicketMessageRow) -> TicketMessage:
    return TicketMessage(row.id, as_utc(row.at), row.author, row.text, row.agent_name, row.delivered)


def _review(row: m.ReviewRow) -> Review:
    return Review(
        id=row.id,
        created_at=as_utc(row.created_at),
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        ticket_id=row.ticket_id,
        kind=row.kind,
        order_id=row.order_id,
        amount=row.amount,
        rule=row.rule,
        plan=dict(row.plan),
        language=row.language,
        state=row.state,
        decided_by=row.decided_by,
        decided_at=_moment(row.decided_at),
        decision_reason=row.decision_reason,
    )


def _agent(row: m.AgentRow) -> Agent:
    return Agent(row.name, row.display_name, row.password_hash, row.active, _moment(row.last_seen_at))


def _feedback(row: m.FeedbackRow) -> FeedbackEntry:
    return FeedbackEntry(
        row.id,
        as_utc(row.at),
        row.conversation_id,
        row.customer_id,
        row.kind,
        row.language,
        row.sentiment_score,
        row.text,
    )


class SqlDesk:
    """Tickets, reviews, agents and feedback on the SQL store (see :class:`kefu.store.base.Store`)."""

    # Tickets

    def open_ticket(self: SqlStore, draft: TicketDraft) -> Ticket:
        with self.session() as session:
            row = self._active_ticket_row(session, draft.conversation_id)
            if row is None:
                row = self._new_ticket_row(session, draft)
                action = "open_ticket"
            else:
                action = "escalate_ticket"
                if draft.paused and not row.paused:
                    row.paused, row.reason, row.updated_at = True, draft.reason, now_utc()
                    session.add(m.TicketMessageRow(ticket=row, at=now_utc(), author="system", text=draft.reason))
            session.flush()
            self._audit(
                session,
                draft.conversation_id,
                action,
                "ticket",
                str(row.id),
                {"reason": draft.reason, "paused": row.paused, "customer_id": draft.customer_id},
            )
            return _ticket(row)

    def _new_ticket_row(self: SqlStore, session: Session, draft: TicketDraft) -> m.TicketRow:
        moment = now_utc()
        order_value = self._largest_order_value(session, draft.customer_id, draft.order_ids)
        row = m.TicketRow(
            created_at=moment,
            updated_at=moment,
            conversation_id=draft.conversation_id,
            channel=draft.channel,
            customer_id=draft.customer_id,
            language=draft.language,
            reason=draft.reason,
            request_type=draft.request_type,
            state=TicketState.OPEN,
            paused=draft.paused,
            sentiment_scores=list(draft.sentiment_scores),
            order_ids=list(draft.order_ids),
            order_value=order_value,
            summary=dict(draft.summary),
            customer_words=draft.customer_words,
            customer_words_english=draft.customer_words_english,
            machine_translated=draft.machine_translated,
            note="",
        )
        session.add(row)
        for line in draft.transcript:
            session.add(
                m.TicketMessageRow(ticket=row, at=as_utc(line.at), author=line.author, text=line.text, delivered=True)
            )
        return row

    @staticmethod
    def _largest_order_value(session: Session, customer_id: str | None, order_ids: Sequence[str]) -> Decimal | None:
        if not customer_id or not order_ids:
            return None
        orders = session.scalars(
            select(m.OrderRow).where(m.OrderRow.id.in_(list(order_ids)), m.OrderRow.customer_id == customer_id)
        ).all()
        totals = [sum((i.price for i in order.items), Decimal(0)) for order in orders]
        return max(totals) if totals else None

    @staticmethod
    def _active_ticket_row(session: Session, conversation_id: str) -> m.TicketRow | None:
        return session.scalars(
            select(m.TicketRow)
            .where(m.TicketRow.conversation_id == conversation_id, m.TicketRow.state.in_(TicketState.ACTIVE))
            .order_by(m.TicketRow.id.desc())
        ).first()

    def active_ticket(self: SqlStore, conversation_id: str) -> Ticket | None:
        with self.session() as session:
            row = self._active_ticket_row(session, conversation_id)
            return _ticket(row) if row else None

    def get_ticket(self: SqlStore, ticket_id: int) -> Ticket | None:
        with self.session() as session:
            row = session.get(m.TicketRow, ticket_id)
            return _ticket(row) if row else None

    def list_tickets(self: SqlStore, states: Sequence[str]) -> List[Ticket]:
        with self.session() as session:
            rows = session.scalars(
                select(m.TicketRow).where(m.TicketRow.state.in_(list(states))).order_by(m.TicketRow.id)
            ).all()
            return [_ticket(r) for r in rows]

    def ticket_messages(self: SqlStore, ticket_id: int, after_id: int = 0) -> List[TicketMessage]:
        with self.session() as session:
            rows = session.scalars(
                select(m.TicketMessageRow)
                .where(m.TicketMessageRow.ticket_id == ticket_id, m.TicketMessageRow.id > after_id)
                .order_by(m.TicketMessageRow.id)
            ).all()
            return [_message(r) for r in rows]

    def add_ticket_message(
        self: SqlStore,
        ticket_id: int,
        author: str,
        text: str,
        agent_name: str | None = None,
        delivered: bool = True,
    ) -> TicketMessage:
        if author not in ("customer", "bot", "agent", "system"):
            raise ValueError(f"unknown author {author!r}")
        with self.session() as session:
            ticket = session.get(m.TicketRow, ticket_id)
            if ticket is None:
                raise UnknownRecord(f"no ticket {ticket_id}")
            moment = now_utc()
            row = m.TicketMessageRow(
                ticket=ticket, at=moment, author=author, agent_name=agent_name, text=text, delivered=delivered
            )
            session.add(row)
            ticket.updated_at = moment
            if author == "agent" and ticket.first_agent_reply_at is None:
                ticket.first_agent_reply_at = moment
            if author == "customer" and ticket.state == TicketState.WAITING:
                ticket.state = TicketState.ASSIGNED  # the customer answered the agent
            session.flush()
            return _message(row)

    def update_ticket(
        self: SqlStore,
        ticket_id: int,
        *,
        state: str | None = None,
        paused: bool | None = None,
        assigned_to: str | None = None,
        note: str | None = None,
        actor: str = "kefu",
    ) -> Ticket:
        if state is not None and state not in (*TicketState.ACTIVE, TicketState.RESOLVED):
            raise ValueError(f"unknown ticket state {state!r}")
        with self.session() as session:
            row = session.get(m.TicketRow, ticket_id, with_for_update=True)
            if row is None:
                raise UnknownRecord(f"no ticket {ticket_id}")
            changed: Dict[str, Any] = {}
            for key, value in (("state", state), ("paused", paused), ("assigned_to", assigned_to), ("note", note)):
                if value is not None and getattr(row, key) != value:
                    changed[key] = [getattr(row, key), value]
                    setattr(row, key, value)
            row.updated_at = now_utc()
            if state == TicketState.RESOLVED and row.resolved_at is None:
                row.resolved_at = row.updated_at
            self._audit(session, row.conversation_id, "update_ticket", "ticket", str(row.id), changed, actor)
            session.flush()
            return _ticket(row)

    def undelivered_messages(self: SqlStore, conversation_id: str) -> List[TicketMessage]:
        with self.session() as session:
            rows = session.scalars(
                select(m.TicketMessageRow)
                .join(m.TicketRow)
                .where(
                    m.TicketRow.conversation_id == conversation_id,
                    m.TicketMessageRow.author.in_(("agent", "bot")),
                    m.TicketMessageRow.delivered.is_(False),
                )
                .order_by(m.TicketMessageRow.id)
            ).all()
            return [_message(r) for r in rows]

    def mark_delivered(self: SqlStore, message_ids: Sequence[int]) -> None:
        if not message_ids:
            return
        with self.session() as session:
            session.execute(
                update(m.TicketMessageRow)
                .where(m.TicketMessageRow.id.in_(list(message_ids)))
                .values(delivered=True)
                .execution_options(synchronize_session=False)
            )

    # The review queue

    def submit_review(
        self: SqlStore,
        conversation_id: str,
        customer_id: str,
        plan: Dict[str, object],
        refused: NeedsReview,
        language: str,
    ) -> Review:
        with self.session() as session:
            ticket = self._active_ticket_row(session, conversation_id)
            row = m.ReviewRow(
                created_at=now_utc(),
                conversation_id=conversation_id,
                customer_id=customer_id,
                ticket_id=ticket.id if ticket else None,
                kind=str(plan.get("kind")),
                order_id=str(plan.get("order_id", "")),
                amount=refused.amount,
                rule=refused.rule,
                plan=dict(plan),
                language=language,
                state="pending",
            )
            session.add(row)
            session.flush()
            self._audit(
                session, conversation_id, "submit_review", "review", str(row.id), {"rule": refused.rule, "plan": plan}
            )
            return _review(row)

    def list_reviews(self: SqlStore, states: Sequence[str]) -> List[Review]:
        with self.session() as session:
            rows = session.scalars(
                select(m.ReviewRow).where(m.ReviewRow.state.in_(list(states))).order_by(m.ReviewRow.id)
            ).all()
            return [_review(r) for r in rows]

    def get_review(self: SqlStore, review_id: int) -> Review | None:
        with self.session() as session:
            row = session.get(m.ReviewRow, review_id)
            return _review(row) if row else None

    def decide_review(self: SqlStore, review_id: int, agent_name: str, approve: bool, reason: str = "") -> Review:
        review = self.get_review(review_id)
        if review is None or review.state != "pending":
            raise UnknownRecord(f"no pending review {review_id}")
        if approve:
            from kefu.shop.changes import apply_plan

            # The agent's approval is the review: the limits that sent it here do not apply again.
            reviewer = copy.copy(self)
            reviewer.rules = dataclasses.replace(
                self.rules, refund_review_above=Decimal("Infinity"), returns_review_count=0
            )
            reviewer.actor = f"agent:{agent_name}"
            apply_plan(reviewer, review.customer_id, review.plan, review.conversation_id, f"review:{review.id}")
        with self.session() as session:
            row = session.get(m.ReviewRow, review_id, with_for_update=True)
            if row is None or row.state != "pending":
                raise UnknownRecord(f"review {review_id} was decided meanwhile")
            row.state = "approved" if approve else "declined"
            row.decided_by, row.decided_at, row.decision_reason = agent_name, now_utc(), reason or None
            self._audit(
                session,
                row.conversation_id,
                "decide_review",
                "review",
                str(row.id),
                {"state": row.state, "reason": reason},
                f"agent:{agent_name}",
            )
            session.flush()
            return _review(row)

    # Agents and their console sessions

    def add_agent(self: SqlStore, name: str, display_name: str, password_hash: str) -> Agent:
        with self.session() as session:
            row = session.get(m.AgentRow, name)
            if row is None:
                row = m.AgentRow(name=name, created_at=now_utc())
                session.add(row)
            row.display_name, row.password_hash, row.active = display_name, password_hash, True
            session.flush()
            self._audit(session, None, "add_agent", "agent", name, {"display_name": display_name})
            return _agent(row)

    def get_agent(self: SqlStore, name: str) -> Agent | None:
        with self.session() as session:
            row = session.get(m.AgentRow, name)
            return _agent(row) if row else None

    def agents_seen_since(self: SqlStore, moment: dt.datetime) -> int:
        with self.session() as session:
            count = session.scalar(
                select(func.count())
                .select_from(m.AgentRow)
                .where(m.AgentRow.active.is_(True), m.AgentRow.last_seen_at >= as_utc(moment))
            )
            return int(count or 0)

    def create_agent_session(
        self: SqlStore, agent_name: str, token_hash: str, csrf_token: str, expires_at: dt.datetime
    ) -> None:
        with self.session() as session:
            # Expired sessions go when a new one starts: the table never grows without bound.
            session.execute(delete(m.AgentSessionRow).where(m.AgentSessionRow.expires_at < now_utc()))
            session.add(
                m.AgentSessionRow(
                    token_hash=token_hash,
                    agent_name=agent_name,
                    csrf_token=csrf_token,
                    created_at=now_utc(),
                    expires_at=as_utc(expires_at),
                )
            )

    def agent_session(self: SqlStore, token_hash: str, now: dt.datetime) -> AgentSession | None:
        with self.session() as session:
            row = session.get(m.AgentSessionRow, token_hash)
            if row is None or as_utc(row.expires_at) <= as_utc(now):
                return None
            agent = session.get(m.AgentRow, row.agent_name)
            if agent is None or not agent.active:
                return None
            agent.last_seen_at = as_utc(now)
            return AgentSession(_agent(agent), row.csrf_token, as_utc(row.expires_at))

    def end_agent_session(self: SqlStore, token_hash: str) -> None:
        with self.session() as session:
            session.execute(delete(m.AgentSessionRow).where(m.AgentSessionRow.token_hash == token_hash))

    # Feedback

    def record_feedback(
        self: SqlStore,
        conversation_id: str,
        customer_id: str | None,
        kind: str,
        language: str,
        sentiment_score: float | None,
        text: str,
    ) -> FeedbackEntry:
        with self.session() as session:
            row = m.FeedbackRow(
                at=now_utc(),
                conversation_id=conversation_id,
                customer_id=customer_id,
                kind=kind,
                language=language,
                sentiment_score=sentiment_score,
                text=text,
            )
            session.add(row)
            session.flush()
            return _feedback(row)

    def list_feedback(self: SqlStore, since: dt.datetime) -> List[FeedbackEntry]:
        with self.session() as session:
            rows = session.scalars(
                select(m.FeedbackRow).where(m.FeedbackRow.at >= as_utc(since)).order_by(m.FeedbackRow.id)
            ).all()
            return [_feedback(r) for r in rows]

    # Message signals (the daily report)

    def record_message_signals(self: SqlStore, signals: Sequence[MessageSignals]) -> None:
        """Many messages' signals in one transaction (kefu/reports/signal_writer.py)."""
        if not signals:
            return
        rows = [{**s.__dict__, "at": as_utc(s.at)} for s in signals]
        with self.session() as session:
            session.execute(m.MessageSignalRow.__table__.insert(), rows)  # one executemany, no ORM objects

    def message_signals(self: SqlStore, since: dt.datetime, until: dt.datetime) -> List[MessageSignals]:
        row = m.MessageSignalRow
        with self.session() as session:
            rows = session.scalars(
                select(row).where(row.at >= as_utc(since), row.at < as_utc(until)).order_by(row.id)
            ).all()
            return [
                MessageSignals(
                    as_utc(r.at),
                    r.conversation_id,
                    r.channel,
                    r.language,
                    r.intent,
                    r.request_type,
                    r.sentiment_score,
                    r.to_agent,
                )
                for r in rows
            ]

"""The daily operations report: what one UTC day of customer messages, tickets, reviews and feedback says.

:func:`build_daily` reads the store API (never SQL) and returns an immutable :class:`DailyReport` of
numbers only; :func:`render_markdown` and :func:`render_chart` turn it into files. Keeping the numbers
apart from the rendering lets tests check them exactly, and lets other outputs reuse them.

A "handoff" is a ticket whose reason asks a person to take the conversation over; tickets with the
reasons ``complaint`` and ``refund_review`` only record something for an agent while Kefu carries on,
so they are counted apart and never make a conversation "reached a human".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence, Set, Tuple

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from kefu.escalation.reasons import Reason, reason_label
from kefu.store.base import Store
from kefu.store.records import FeedbackEntry, MessageSignals, Review, Ticket, TicketState

UTC = dt.timezone.utc
REQUEST_TYPES = ("question", "request", "complaint", "feedback")
LANGUAGES = ("en", "zh", "fr", "es", "de")
UNCLASSIFIED = "unclassified"  # a message the request-type classifier gave no label
RECORD_REASONS = frozenset({Reason.COMPLAINT.value, Reason.REFUND_REVIEW.value})
TICKET_STATES = (*TicketState.ACTIVE, TicketState.RESOLVED)
REVIEW_STATES = ("pending", "approved", "declined")
HOURS = 24

AUTOMATION_DEFINITION = (
    "the share of the day's conversations (distinct conversation ids among the day's customer messages) "
    "that never reached a human: no handoff ticket was opened for the conversation that day, and none of "
    "its messages went to an agent because the conversation was paused. Tickets that only record a "
    "complaint or a refund review for an agent (reasons `complaint`, `refund_review`) are not handoffs."
)


@dataclass(frozen=True)
class Breakdown:
    """One row of a count table: messages with this key, and the distinct conversations they came from."""

    key: str
    messages: int
    conversations: int


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class FirstReply:
    """Minutes from a handoff ticket's creation to the first agent message; ``None`` when none was answered."""

    answered: int
    unanswered: int
    median_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True)
class ReviewCounts:
    """Submitted, approved and declined during the day; pending: submitted by, undecided at, midnight."""

    submitted: int
    approved: int
    declined: int
    pending: int


@dataclass(frozen=True)
class HourSentiment:
    """One UTC hour: its messages, how many had a sentiment score, and their mean (``None`` without any)."""

    hour: int
    messages: int
    scored: int
    mean: float | None


@dataclass(frozen=True)
class FeedbackCounts:
    feedback: int
    complaints: int


@dataclass(frozen=True)
class DailyReport:
    """Every number of one day's report; the rendering functions add no data of their own."""

    day: dt.date
    source: str
    messages: int
    conversations: int
    by_request_type: Tuple[Breakdown, ...]
    by_language: Tuple[Breakdown, ...]
    automated_conversations: int
    automation_rate: float | None
    handoffs_by_reason: Tuple[ReasonCount, ...]
    agent_records: int
    tickets_opened: int
    open_at_end: int
    open_handoffs_at_end: int
    first_reply: FirstReply
    reviews: ReviewCounts
    hours: Tuple[HourSentiment, ...]
    feedback: FeedbackCounts

    @property
    def handoffs(self) -> int:
        return sum(reason.count for reason in self.handoffs_by_reason)

    @property
    def reviews_seen(self) -> int:
        return self.reviews.submitted + self.reviews.approved + self.reviews.declined + self.reviews.pending


# Building the numbers


def day_window(day: dt.date) -> Tuple[dt.datetime, dt.datetime]:
    """The day as ``[start, end)`` in UTC: the store keeps every moment in UTC, so the day does too."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


def build_daily(store: Store, day: dt.date, source: str | None = None) -> DailyReport:
    """The report of ``day`` from what ``store`` holds; ``source`` names it (default: the store's URL)."""
    start, end = day_window(day)
    signals = store.message_signals(start, end)
    tickets = store.list_tickets(TICKET_STATES)
    todays = [t for t in tickets if start <= t.created_at < end]
    handoffs = [t for t in todays if is_handoff(t)]
    conversations = {s.conversation_id for s in signals}
    automated = conversations - reached_human(signals, handoffs)
    open_tickets = [t for t in tickets if open_at(t, end)]
    return DailyReport(
        day=day,
        source=source if source is not None else store_source(store),
        messages=len(signals),
        conversations=len(conversations),
        by_request_type=breakdown(signals, lambda s: s.request_type or UNCLASSIFIED, REQUEST_TYPES),
        by_language=breakdown(signals, lambda s: s.language, LANGUAGES),
        automated_conversations=len(automated),
        automation_rate=len(automated) / len(conversations) if conversations else None,
        handoffs_by_reason=handoffs_by_reason(handoffs),
        agent_records=len(todays) - len(handoffs),
        tickets_opened=len(todays),
        open_at_end=len(open_tickets),
        open_handoffs_at_end=sum(1 for t in open_tickets if is_handoff(t)),
        first_reply=first_reply(handoffs),
        reviews=review_counts(store.list_reviews(REVIEW_STATES), start, end),
        hours=hourly_sentiment(signals),
        feedback=feedback_counts(store.list_feedback(start), end),
    )


def breakdown(
    signals: Sequence[MessageSignals], key: Callable[[MessageSignals], str], known: Sequence[str]
) -> Tuple[Breakdown, ...]:
    """Messages and conversations per key: the known keys always (zeros included, so tables keep their
    shape from day to day), then any other key seen, alphabetically, with ``unclassified`` last."""
    messages: Dict[str, int] = {}
    conversations: Dict[str, Set[str]] = {}
    for signal in signals:
        value = key(signal)
        messages[value] = messages.get(value, 0) + 1
        conversations.setdefault(value, set()).add(signal.conversation_id)
    others = sorted(k for k in messages if k not in known and k != UNCLASSIFIED)
    keys = [*known, *others, *([UNCLASSIFIED] if UNCLASSIFIED in messages else [])]
    return tuple(Breakdown(k, messages.get(k, 0), len(conversations.get(k, ()))) for k in keys)


def is_handoff(ticket: Ticket) -> bool:
    """Whether the ticket brought a person into the conversation, judged by its reason (see module doc)."""
    return ticket.reason not in RECORD_REASONS


def reached_human(signals: Iterable[MessageSignals], handoffs: Iterable[Ticket]) -> Set[str]:
    """Conversations a person took part in: a handoff ticket was opened, or a message went to an agent."""
    paused = {s.conversation_id for s in signals if s.to_agent}
    return paused | {t.conversation_id for t in handoffs}


def handoffs_by_reason(handoffs: Iterable[Ticket]) -> Tuple[ReasonCount, ...]:
    """Handoffs per reason code, most frequent first (ties by code, so the order is stable)."""
    counts: Dict[str, int] = {}
    for ticket in handoffs:
        counts[ticket.reason] = counts.get(ticket.reason, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ReasonCount(code, reason_label(code), count) for code, count in ordered)


def open_at(ticket: Ticket, moment: dt.datetime) -> bool:
    """Whether the ticket was open at ``moment``: created before it and not resolved by then.

    The store keeps only the current state and when it was resolved, so a ticket resolved later (or
    not yet) counts as open, and a ticket that is active again now counts as open too.
    """
    if ticket.created_at >= moment:
        return False
    resolved = ticket.state == TicketState.RESOLVED and (ticket.resolved_at is None or ticket.resolved_at < moment)
    return not resolved


def first_reply(handoffs: Sequence[Ticket]) -> FirstReply:
    """Time to the first human reply of the handoffs, in minutes; tickets never answered are counted apart."""
    minutes = [
        (t.first_agent_reply_at - t.created_at).total_seconds() / 60
        for t in handoffs
        if t.first_agent_reply_at is not None
    ]
    return FirstReply(
        answered=len(minutes),
        unanswered=len(handoffs) - len(minutes),
        median_minutes=percentile(minutes, 0.5),
        p90_minutes=percentile(minutes, 0.9),
    )


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile with linear interpolation between the nearest ranks (numpy's default).

    Written out because ``statistics.quantiles`` refuses a single value, which a quiet day often has.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def review_counts(reviews: Iterable[Review], start: dt.datetime, end: dt.datetime) -> ReviewCounts:
    """What happened to reviews during the day, and the queue left at midnight (older reviews included)."""
    reviews = list(reviews)

    def decided(state: str) -> int:
        return sum(1 for r in reviews if r.state == state and r.decided_at is not None and start <= r.decided_at < end)

    return ReviewCounts(
        submitted=sum(1 for r in reviews if start <= r.created_at < end),
        approved=decided("approved"),
        declined=decided("declined"),
        pending=sum(1 for r in reviews if r.created_at < end and (r.decided_at is None or r.decided_at >= end)),
    )


def hourly_sentiment(signals: Iterable[MessageSignals]) -> Tuple[HourSentiment, ...]:
    """Each of the 24 UTC hours with its message count and mean sentiment; messages without a score
    count as messages but not in the mean, so a missing score never reads as neutral."""
    scores: List[List[float]] = [[] for _ in range(HOURS)]
    counts = [0] * HOURS
    for signal in signals:
        hour = signal.at.astimezone(UTC).hour
        counts[hour] += 1
        if signal.sentiment_score is not None:
            scores[hour].append(signal.sentiment_score)
    return tuple(HourSentiment(hour, counts[hour], len(scores[hour]), _mean(scores[hour])) for hour in range(HOURS))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def feedback_counts(entries: Iterable[FeedbackEntry], end: dt.datetime) -> FeedbackCounts:
    """Feedback and complaints recorded before ``end`` (the store lists them from the day's start on)."""
    kinds = [e.kind for e in entries if e.at < end]
    return FeedbackCounts(feedback=kinds.count("feedback"), complaints=kinds.count("complaint"))


def store_source(store: Store) -> str:
    """The store's URL without its password (the Store interface has no URL; the SQL store has one)."""
    url = getattr(store, "url", None)
    return redact_url(url) if isinstance(url, str) else type(store).__name__


def redact_url(url: str) -> str:
    """``url`` with any password removed, for a report that may be shared beyond the operators."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(unreadable store URL)"
    # URL.set() takes None for "unchanged", so the URL is rebuilt without the password instead.
    bare = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query)
    return bare.render_as_string(hide_password=False)


# Rendering


def report_name(day: dt.date) -> str:
    return f"daily-{day.isoformat()}.md"


def chart_name(day: dt.date) -> str:
    return f"daily-{day.isoformat()}.png"


def render_markdown(report: DailyReport) -> str:
    """The report as Markdown; the chart is linked by its file name, written next to the Markdown."""
    sections = [
        _header(report),
        _messages_section(report),
        _automation_section(report),
        _handoffs_section(report),
        _first_reply_section(report),
        _reviews_section(report),
        _sentiment_section(report),
        _feedback_section(report),
    ]
    return "\n\n".join(sections) + "\n"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _minutes(value: float | None) -> str:
    return f"{value:.1f} min" if value is not None else "n/a"


def _header(report: DailyReport) -> str:
    day = report.day.isoformat()
    return (
        f"# Kefu daily report: {day}\n\n"
        f"Data source: store `{report.source}`, {day} 00:00–24:00 UTC. "
        f"Read: {report.messages} customer messages in {report.conversations} conversations, "
        f"{report.tickets_opened} tickets opened, {report.reviews.submitted} reviews submitted "
        f"({report.reviews.pending} pending at midnight), "
        f"{report.feedback.feedback + report.feedback.complaints} feedback entries."
    )


def _breakdown_table(title: str, rows: Sequence[Breakdown], report: DailyReport) -> str:
    body = [(row.key, row.messages, row.conversations) for row in rows]
    body.append(("**Total**", report.messages, report.conversations))
    return f"### By {title.lower()}\n\n" + _table((title, "Messages", "Conversations"), body)


def _messages_section(report: DailyReport) -> str:
    if report.messages == 0:
        return "## Messages and conversations\n\nThere were no customer messages on this day."
    return (
        "## Messages and conversations\n\n"
        + _breakdown_table("Request type", report.by_request_type, report)
        + "\n\n"
        + _breakdown_table("Language", report.by_language, report)
        + "\n\nA conversation counts once under each request type or language it used, "
        "so a column of conversations can add up to more than the total."
    )


def _automation_section(report: DailyReport) -> str:
    if report.automation_rate is None:
        rate = "**Automation rate: n/a** (no conversations on this day)."
    else:
        rate = (
            f"**Automation rate: {report.automation_rate:.1%}** "
            f"({report.automated_conversations} of {report.conversations} conversations)."
        )
    return f"## Automation\n\n{rate}\n\nDefinition: {AUTOMATION_DEFINITION}"


def _handoffs_section(report: DailyReport) -> str:
    text = f"## Handoffs\n\n{report.handoffs} handoffs to a person on this day."
    if report.handoffs_by_reason:
        rows = [(r.label, f"`{r.code}`", r.count) for r in report.handoffs_by_reason]
        text += "\n\n" + _table(("Reason", "Code", "Handoffs"), rows)
    return (
        text + f"\n\nTickets recorded for agents without a handoff (complaints, refund reviews): "
        f"{report.agent_records}.\n\n"
        f"Tickets still open at the end of the day (created before midnight UTC, not resolved by then, "
        f"any day's): **{report.open_at_end}**, of which {report.open_handoffs_at_end} handoffs."
    )


def _first_reply_section(report: DailyReport) -> str:
    reply = report.first_reply
    return (
        "## Time to first human reply\n\n"
        "From the creation of each of the day's handoff tickets to the first agent message.\n\n"
        + _table(
            ("Answered", "Median", "90th percentile", "Still unanswered"),
            [(reply.answered, _minutes(reply.median_minutes), _minutes(reply.p90_minutes), reply.unanswered)],
        )
    )


def _reviews_section(report: DailyReport) -> str:
    reviews = report.reviews
    return (
        "## Reviews\n\n"
        "Submitted, approved and declined on this day; pending: in the queue at midnight UTC.\n\n"
        + _table(
            ("Submitted", "Approved", "Declined", "Pending"),
            [(reviews.submitted, reviews.approved, reviews.declined, reviews.pending)],
        )
    )


def _sentiment_section(report: DailyReport) -> str:
    rows = [
        (f"{h.hour:02d}:00", h.messages, h.scored, f"{h.mean:+.2f}" if h.mean is not None else "–")
        for h in report.hours
    ]
    return (
        "## Sentiment by hour (UTC)\n\n"
        f"![Mean sentiment and messages per hour]({chart_name(report.day)})\n\n"
        "Mean sentiment score (from -1, negative, to +1, positive) of the messages that had one.\n\n"
        + _table(("Hour", "Messages", "Scored", "Mean sentiment"), rows)
    )


def _feedback_section(report: DailyReport) -> str:
    feedback = report.feedback
    return "## Feedback and complaints\n\n" + _table(
        ("Feedback", "Complaints"), [(feedback.feedback, feedback.complaints)]
    )


def render_chart(report: DailyReport, path: Path) -> None:
    """Mean sentiment per hour (line, left axis) over the hour's message counts (bars, right axis), as PNG.

    It draws on a bare Agg canvas rather than pyplot, so it needs no display and changes no global
    matplotlib state of the process that calls it.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 5), dpi=120)
    FigureCanvasAgg(figure)
    mood = figure.add_subplot()
    counts = mood.twinx()
    hours = [h.hour for h in report.hours]
    bars = counts.bar(hours, [h.messages for h in report.hours], color="#9ecae1", width=0.8, label="Messages")
    means = [h.mean if h.mean is not None else math.nan for h in report.hours]
    (line,) = mood.plot(hours, means, color="#d6604d", marker="o", linewidth=2, label="Mean sentiment")
    mood.axhline(0, color="#888888", linewidth=0.8, linestyle="--")
    mood.set_zorder(counts.get_zorder() + 1)  # the line above the bars of the other axis
    mood.patch.set_visible(False)
    mood.set_ylim(-1.05, 1.05)
    mood.set_xlim(-0.6, HOURS - 0.4)
    mood.set_xticks(hours)
    mood.set_xticklabels([f"{h:02d}" for h in hours])
    mood.set_xlabel("Hour of the day (UTC)")
    mood.set_ylabel("Mean sentiment score (-1 to +1)")
    counts.set_ylabel("Customer messages")
    counts.set_ylim(0, max(1, max(h.messages for h in report.hours)) * 1.15)
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    mood.set_title(f"Kefu: customer sentiment and messages per hour, {report.day.isoformat()} (UTC)")
    mood.legend([line, bars], ["Mean sentiment", "Messages"], loc="upper left")
    if report.messages == 0:
        mood.text(
            0.5,
            0.6,
            "No customer messages on this day",
            transform=mood.transAxes,
            ha="center",
            va="center",
            fontsize=13,
            bbox={"facecolor": "white", "edgecolor": "#cccccc"},
        )
    figure.tight_layout()
    figure.savefig(path, format="png")

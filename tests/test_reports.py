"""The daily report (kefu/reports): exact numbers from rows written through the store API, and the command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import pytest

from kefu.reports.__main__ import main
from kefu.reports.daily import (
    Breakdown,
    DailyReport,
    FeedbackCounts,
    FirstReply,
    ReasonCount,
    ReviewCounts,
    build_daily,
    percentile,
    redact_url,
    render_chart,
    render_markdown,
)
from kefu.store import SqlStore, prepare_store
from kefu.store.base import NeedsReview
from kefu.store.records import MessageSignals, TicketState
from kefu.store.seed import read_seed
from tests.desk_fixtures import ticket_draft

DAY = dt.date(2026, 3, 10)
PENDING = next(oid for oid, o in read_seed()["orders"].items() if o["status"] == "pending")
OWNER = read_seed()["orders"][PENDING]["user_id"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.timezone.utc)


class Clock:
    """The desk's clock, set by the test: tickets, replies, reviews and feedback take its time."""

    def __init__(self) -> None:
        self.moment = at(0)

    def __call__(self) -> dt.datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr("kefu.store.desk.now_utc", fixed)
    return fixed


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kefu.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    prepared = prepare_store(store_url)
    yield prepared
    prepared.engine.dispose()


def signal(
    moment: dt.datetime,
    conversation_id: str,
    language: str,
    request_type: str | None,
    score: float | None,
    to_agent: bool = False,
) -> MessageSignals:
    return MessageSignals(moment, conversation_id, "rest", language, "some_intent", request_type, score, to_agent)


def write_messages(store: SqlStore) -> None:
    """Seven messages in five conversations on DAY, and one just before and one just after it."""
    messages = [
        signal(at(9, 5), "c1", "en", "question", 0.5),
        signal(at(9, 10), "c1", "en", "request", 0.1),
        signal(at(10, 0), "c2", "zh", "complaint", -0.8),
        signal(at(10, 30), "c2", "zh", "complaint", -0.6, to_agent=True),
        signal(at(14, 0), "c3", "fr", "question", None),
        signal(at(23, 30), "c4", "es", "complaint", -0.2),
        signal(at(12, 0), "c5", "de", None, 0.0),
        signal(at(23, 59, DAY - dt.timedelta(days=1)), "c6", "en", "question", 0.9),
        signal(at(0, 0, DAY + dt.timedelta(days=1)), "c7", "en", "question", 0.9),
    ]
    store.record_message_signals(messages[:2])  # a batch, as kefu/reports/signal_writer.py writes
    for message in messages[2:]:
        store.record_message_signals([message])


def open_ticket(store: SqlStore, clock: Clock, moment: dt.datetime, conversation_id: str, reason: str) -> int:
    clock.moment = moment
    paused = reason not in ("complaint", "refund_review")
    return store.open_ticket(ticket_draft(conversation_id, reason=reason, paused=paused)).id


def reply(store: SqlStore, clock: Clock, moment: dt.datetime, ticket_id: int) -> None:
    clock.moment = moment
    store.add_ticket_message(ticket_id, "agent", "hi", "Alice")


def resolve(store: SqlStore, clock: Clock, moment: dt.datetime, ticket_id: int) -> None:
    clock.moment = moment
    store.update_ticket(ticket_id, state=TicketState.RESOLVED, actor="agent:alice")


def write_tickets(store: SqlStore, clock: Clock) -> None:
    """Four handoffs on DAY (replies after 6, 20 and 60 minutes, one never), a complaint record, two older."""
    before = DAY - dt.timedelta(days=1)
    done_before = open_ticket(store, clock, at(22, 0, before), "c1", "asked_for_human")
    resolve(store, clock, at(22, 30, before), done_before)
    open_ticket(store, clock, at(8, 0, before), "c-old", "unanswered_question")  # still open
    severe = open_ticket(store, clock, at(10, 20), "c2", "severe_complaint")
    reply(store, clock, at(10, 26), severe)
    resolve(store, clock, at(11, 0), severe)
    asked = open_ticket(store, clock, at(14, 5), "c3", "asked_for_human")
    reply(store, clock, at(14, 25), asked)
    store.update_ticket(asked, state=TicketState.ASSIGNED, assigned_to="alice")
    open_ticket(store, clock, at(16, 0), "c9", "repeated_fallback")  # never answered
    late = open_ticket(store, clock, at(18, 0), "c10", "asked_for_human")
    reply(store, clock, at(19, 0), late)
    resolve(store, clock, at(19, 30), late)
    open_ticket(store, clock, at(23, 40), "c4", "complaint")  # a record for agents, not a handoff
    resolve(store, clock, at(0, 30, DAY + dt.timedelta(days=1)), asked)  # resolved after midnight: open at end


def write_reviews(store: SqlStore, clock: Clock) -> None:
    """Three reviews submitted on DAY (one approved, one declined, one left) and one older one pending."""
    plan = {"kind": "cancel", "order_id": PENDING, "reason": "no longer needed"}
    refused = NeedsReview("a refund above the limit", Decimal("12"))

    def submit(moment: dt.datetime) -> int:
        clock.moment = moment
        return store.submit_review("c1", OWNER, plan, refused, "en").id

    submit(at(15, 0, DAY - dt.timedelta(days=1)))
    approved, declined = submit(at(9, 30)), submit(at(10, 0))
    submit(at(13, 0))
    clock.moment = at(9, 45)
    store.decide_review(approved, "alice", approve=True)
    clock.moment = at(10, 15)
    store.decide_review(declined, "alice", approve=False, reason="already shipped")


def write_feedback(store: SqlStore, clock: Clock) -> None:
    for moment, kind in (
        (at(20, 0, DAY - dt.timedelta(days=1)), "feedback"),
        (at(11, 0), "feedback"),
        (at(12, 0), "complaint"),
        (at(12, 30), "complaint"),
        (at(1, 0, DAY + dt.timedelta(days=1)), "complaint"),
    ):
        clock.moment = moment
        store.record_feedback("c1", None, kind, "en", -0.5, "words")


@pytest.fixture
def busy_store(store: SqlStore, clock: Clock) -> SqlStore:
    write_messages(store)
    write_tickets(store, clock)
    write_reviews(store, clock)
    write_feedback(store, clock)
    return store


@pytest.fixture
def report(busy_store: SqlStore) -> DailyReport:
    return build_daily(busy_store, DAY)


def test_messages_and_conversations_by_request_type_and_language(report: DailyReport) -> None:
    assert (report.messages, report.conversations) == (7, 5)
    assert report.by_request_type == (
        Breakdown("question", 2, 2),
        Breakdown("request", 1, 1),
        Breakdown("complaint", 3, 2),
        Breakdown("feedback", 0, 0),
        Breakdown("unclassified", 1, 1),
    )
    assert report.by_language == (
        Breakdown("en", 2, 1),
        Breakdown("zh", 2, 1),
        Breakdown("fr", 1, 1),
        Breakdown("es", 1, 1),
        Breakdown("de", 1, 1),
    )


def test_automation_counts_handoffs_and_paused_messages_but_not_agent_records(report: DailyReport) -> None:
    # c2 reached a person (a handoff and a message to the agent), c3 a handoff; c4's complaint record
    # and c1's handoff of the day before leave c1, c4 and c5 automated.
    assert (report.automated_conversations, report.automation_rate) == (3, 0.6)


def test_handoffs_by_reason_and_tickets_open_at_midnight(report: DailyReport) -> None:
    assert report.handoffs_by_reason == (
        ReasonCount("asked_for_human", "Asked for a person", 2),
        ReasonCount("repeated_fallback", "Kefu did not understand", 1),
        ReasonCount("severe_complaint", "Severe complaint", 1),
    )
    assert (report.handoffs, report.agent_records, report.tickets_opened) == (4, 1, 5)
    # c-old (the day before), c3 (resolved after midnight), c9, and c4's complaint record.
    assert (report.open_at_end, report.open_handoffs_at_end) == (4, 3)


def test_time_to_first_human_reply(report: DailyReport) -> None:
    assert report.first_reply == FirstReply(answered=3, unanswered=1, median_minutes=20.0, p90_minutes=52.0)


def test_reviews_feedback_and_hourly_sentiment(report: DailyReport) -> None:
    assert report.reviews == ReviewCounts(submitted=3, approved=1, declined=1, pending=2)
    assert report.feedback == FeedbackCounts(feedback=1, complaints=2)
    hours = {h.hour: (h.messages, h.scored, h.mean) for h in report.hours if h.messages}
    assert hours == {
        9: (2, 2, pytest.approx(0.3)),
        10: (2, 2, -0.7),
        12: (1, 1, 0.0),
        14: (1, 0, None),
        23: (1, 1, -0.2),
    }
    assert [h.hour for h in report.hours] == list(range(24))


def test_markdown_names_its_source_and_every_section(report: DailyReport) -> None:
    text = render_markdown(report)
    assert text.startswith("# Kefu daily report: 2026-03-10\n\nData source: store `sqlite:///")
    assert "7 customer messages in 5 conversations" in text
    for expected in (
        "| complaint | 3 | 2 |",
        "| zh | 2 | 1 |",
        "**Automation rate: 60.0%** (3 of 5 conversations)",
        "Definition: the share of the day's conversations",
        "| Asked for a person | `asked_for_human` | 2 |",
        "| 3 | 20.0 min | 52.0 min | 1 |",
        "| 3 | 1 | 1 | 2 |",
        "| 10:00 | 2 | 2 | -0.70 |",
        "| 1 | 2 |",
        "![Mean sentiment and messages per hour](daily-2026-03-10.png)",
    ):
        assert expected in text, expected


def test_an_empty_day_still_makes_a_report_and_a_chart(store: SqlStore, tmp_path: Path) -> None:
    empty = build_daily(store, DAY)
    assert (empty.messages, empty.conversations, empty.automation_rate, empty.handoffs) == (0, 0, None, 0)
    assert empty.first_reply == FirstReply(0, 0, None, None)
    text = render_markdown(empty)
    assert "There were no customer messages on this day." in text
    assert "**Automation rate: n/a**" in text
    render_chart(empty, tmp_path / "empty.png")
    assert (tmp_path / "empty.png").read_bytes().startswith(PNG_MAGIC)


def test_the_command_writes_the_markdown_and_the_chart(
    busy_store: SqlStore, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["daily", "--date", "2026-03-10", "--out", str(out), "--store-url", store_url]) == 0
    markdown, chart = out / "daily-2026-03-10.md", out / "daily-2026-03-10.png"
    assert capsys.readouterr().out.split() == [str(markdown), str(chart)]
    assert "**Automation rate: 60.0%**" in markdown.read_text(encoding="utf-8")
    assert chart.read_bytes().startswith(PNG_MAGIC)


def test_the_command_reports_today_by_default(store: SqlStore, store_url: str, tmp_path: Path) -> None:
    before = dt.datetime.now(dt.timezone.utc).date()
    assert main(["daily", "--out", str(tmp_path), "--store-url", store_url]) == 0
    after = dt.datetime.now(dt.timezone.utc).date()
    assert {p.name for p in tmp_path.glob("daily-*")} & {f"daily-{before}.md", f"daily-{after}.md"}


@pytest.mark.parametrize("date", ["2026-13-01", "yesterday", "10/03/2026"])
def test_a_bad_date_exits_2_with_one_line(
    date: str, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["daily", "--date", date, "--store-url", store_url, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"bad date {date!r}" in err and "Traceback" not in err
    assert not list(tmp_path.glob("daily-*"))


def test_a_store_that_cannot_be_used_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "kefu.db"
    assert main(["daily", "--store-url", f"sqlite:///{missing}", "--out", str(tmp_path)]) == 2
    assert "no store at" in capsys.readouterr().err and not missing.exists()  # SQLite would have created it
    not_a_database = tmp_path / "junk.db"
    not_a_database.write_bytes(b"not a database at all" * 100)
    assert main(["daily", "--store-url", f"sqlite:///{not_a_database}", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m kefu.reports: error: store unavailable") and err.count("\n") == 1


def test_the_source_never_shows_a_password() -> None:
    assert redact_url("postgresql+psycopg2://kefu:s3cret@db:5432/kefu") == "postgresql+psycopg2://kefu@db:5432/kefu"
    assert redact_url("sqlite:////var/kefu.db") == "sqlite:////var/kefu.db"


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([6.0, 20.0, 60.0], 0.5) == 20.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5

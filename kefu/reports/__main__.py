"""Reports from the store: ``python -m kefu.reports daily [--date YYYY-MM-DD] [--out DIR] [--store-url URL]``.

Only argument parsing and file I/O live here; the numbers come from :mod:`kefu.reports.daily`. Every
mistake of the caller (a bad date, a store that cannot be reached) ends with one line on standard
error and exit code 2, never a traceback: the command runs from cron, whose mail should say what to fix.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import List, NoReturn

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from kefu.config import ConfigError
from kefu.reports.daily import build_daily, chart_name, render_chart, render_markdown, report_name
from kefu.store import SqlStore, StoreUnavailable, open_store

PROG = "python -m kefu.reports"
DEFAULT_OUT = Path("reports/daily")


class UsageError(Exception):
    """The command line or the store it names cannot be used; the message says why, in one line."""


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are raised, so that ``main`` prints them in one line and returns 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Operations reports built from the store.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    daily = commands.add_parser("daily", help="the day's messages, handoffs, reviews and sentiment")
    daily.add_argument("--date", help="the UTC day to report, YYYY-MM-DD (default: today, UTC)")
    daily.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    daily.add_argument("--store-url", help="database URL (default: kefu.yml store.url or KEFU_STORE_URL)")
    return parser


def parse_day(text: str | None) -> dt.date:
    """The day named by ``text``; today's UTC date when none is given (the report's days are UTC days)."""
    if text is None:
        return dt.datetime.now(dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"bad date {text!r}: expected YYYY-MM-DD, for example 2026-03-10") from None


def connect(url: str | None) -> SqlStore:
    """The store at ``url`` (or the configured one), checked to be readable before anything is written."""
    if url is not None:
        _require_database_file(url)
    try:
        store = open_store(url)
    except ArgumentError:
        raise UsageError("the store URL is not a database URL (for example sqlite:///var/kefu.db)") from None
    except ImportError as error:
        raise UsageError(f"the store URL needs a database driver that is not installed ({error.name})") from None
    store.check_health()
    return store


def _require_database_file(url: str) -> None:
    """Refuse an SQLite file that does not exist: SQLite would silently create an empty one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError("the store URL is not a database URL (for example sqlite:///var/kefu.db)") from None
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not Path(database).is_file():
        raise UsageError(f"no store at {database} (create it with: python -m kefu.store --url URL prepare)")


def write_daily(store: SqlStore, day: dt.date, out: Path) -> List[Path]:
    """Write the day's Markdown and chart into ``out``; return their paths."""
    report = build_daily(store, day)
    out.mkdir(parents=True, exist_ok=True)
    markdown, chart = out / report_name(day), out / chart_name(day)
    markdown.write_text(render_markdown(report), encoding="utf-8")
    render_chart(report, chart)
    return [markdown, chart]


def run_daily(args: argparse.Namespace) -> List[Path]:
    day = parse_day(args.date)
    store = connect(args.store_url)
    try:
        return write_daily(store, day, args.out)
    finally:
        store.engine.dispose()


def main(argv: List[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        paths = run_daily(args)
    except (UsageError, ConfigError) as error:
        return _fail(str(error))
    except StoreUnavailable as error:
        return _fail(f"store unavailable: {error}")
    except OSError as error:
        return _fail(f"cannot write the report: {error}")
    for path in paths:
        print(path)
    return 0


def _fail(message: str) -> int:
    first_line = (message.strip().splitlines() or ["failed"])[0]
    print(f"{PROG}: error: {first_line}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    # The store logs an unusable database itself; without logging set up, Python would print that
    # record as a second line next to the command's own message, which already says the same.
    logging.getLogger("kefu.store").addHandler(logging.NullHandler())
    sys.exit(main())

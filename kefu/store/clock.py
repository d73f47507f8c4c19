"""The store's clock: every moment it writes or compares is an aware UTC datetime."""

from __future__ import annotations

import datetime as dt


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken as UTC (what SQLite gives back).

    SQLite stores datetimes as text without their offset, so every value written or compared
    must be in the same zone for the comparison to mean the same as on PostgreSQL.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)

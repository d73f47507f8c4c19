"""When agents work, and what Kefu tells a customer who is waiting for one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kefu.escalation.settings import WEEKDAYS, WorkingHours


def is_open(hours: WorkingHours, now: dt.datetime) -> bool:
    local = now.astimezone(hours.timezone)
    return local.weekday() in hours.days and hours.open <= local.time() < hours.close


def next_opening(hours: WorkingHours, now: dt.datetime) -> dt.datetime:
    """The next moment agents start work (``now`` itself when they are working)."""
    if is_open(hours, now):
        return now
    local = now.astimezone(hours.timezone)
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        start = dt.datetime.combine(day, hours.open, tzinfo=hours.timezone)
        if day.weekday() in hours.days and start > local:
            return start
    raise AssertionError("working hours name at least one weekday")  # parse_escalation checks it


@dataclass(frozen=True)
class Expectation:
    """What the customer is told about the wait."""

    agents_now: bool  # inside working hours with an agent connected
    minutes: int  # the usual wait, when agents_now
    back_at: str  # e.g. "Monday 09:00 (UTC)", when not agents_now


def expectation(hours: WorkingHours, now: dt.datetime, agents_connected: int) -> Expectation:
    if is_open(hours, now) and agents_connected > 0:
        return Expectation(True, hours.usual_first_reply_minutes, "")
    opening = next_opening(hours, now)
    if opening == now:  # working hours, but nobody at the console yet: as soon as someone is
        return Expectation(False, hours.usual_first_reply_minutes, "")
    day = WEEKDAYS[opening.weekday()]
    return Expectation(False, 0, f"{day} {opening:%H:%M} ({hours.timezone.key})")

"""How amounts, dates and lists read in Kefu's replies (the responses' placeholders)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def day(date: dt.date | None) -> str:
    return date.strftime("%d %B %Y").lstrip("0") if date else "unknown"


def joined(parts: Iterable[str]) -> str:
    items = [p for p in parts if p]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]

"""Failed identifications counted across conversations, so guessing does not pay.

A conversation's own attempt counter resets with ``/restart`` or a new conversation; these
counts live in the store. A customer named in ``per_customer`` failures, or a source that made
``per_source`` failures, within ``cool_down_minutes`` cannot be identified in a chat until the
cool-down has passed, even with the right answers: an attacker learns nothing from trying on.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable

from kefu.config import LockoutSettings
from kefu.store.base import Store


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def customer_key(customer_id: str) -> str:
    return f"customer:{customer_id}"


def source_key(source: str) -> str:
    return f"source:{source}"


class IdentificationGuard:
    def __init__(self, store: Store, settings: LockoutSettings, clock: Callable[[], dt.datetime] = _now) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    def _since(self) -> dt.datetime:
        return self.clock() - dt.timedelta(minutes=self.settings.cool_down_minutes)

    def source_locked(self, source: str) -> bool:
        return self.store.failed_identifications(source_key(source), self._since()) >= self.settings.per_source

    def customer_locked(self, customer_id: str) -> bool:
        count = self.store.failed_identifications(customer_key(customer_id), self._since())
        return count >= self.settings.per_customer

    def record_failure(self, source: str, customer_ids: Iterable[str] = ()) -> None:
        """One failed attempt from ``source``, naming these customers (an email that matched, say)."""
        keys = [source_key(source), *(customer_key(c) for c in customer_ids if c)]
        self.store.record_failed_identification(keys, self.clock())
        # Failures older than the cool-down count for nothing: keep the table that small.
        self.store.prune_identification_failures(self._since())

    def record_success(self, customer_id: str) -> None:
        # The customer's own count starts again; the source's does not (it may be guessing others).
        self.store.clear_failed_identifications(customer_key(customer_id))

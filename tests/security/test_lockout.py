"""IdentificationGuard on the real store: limits per customer and per source, the cool-down, pruning."""

from __future__ import annotations

import datetime as dt

from kefu.config import LockoutSettings
from kefu.security.lockout import IdentificationGuard, customer_key, source_key
from kefu.store import SqlStore

LIMITS = LockoutSettings(per_customer=3, per_source=5, cool_down_minutes=15)
START = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_customer_is_paused_after_the_limit_and_free_after_the_cool_down(store: SqlStore) -> None:
    clock = Clock()
    guard = IdentificationGuard(store, LIMITS, clock)
    for source in ("ip:a", "ip:b", "ip:c"):  # three sources, one customer: the customer's count
        assert not guard.customer_locked("james_li_5688")
        guard.record_failure(source, ["james_li_5688"])
    assert guard.customer_locked("james_li_5688")
    assert not guard.customer_locked("omar_anderson_3203")
    clock.now += dt.timedelta(minutes=16)
    assert not guard.customer_locked("james_li_5688")


def test_a_source_is_paused_for_every_customer(store: SqlStore) -> None:
    guard = IdentificationGuard(store, LIMITS, Clock())
    for _ in range(5):
        guard.record_failure("ip:guesser")  # name + zip guesses name no customer
    assert guard.source_locked("ip:guesser")
    assert not guard.source_locked("ip:someone-else")


def test_success_clears_the_customer_not_the_source(store: SqlStore) -> None:
    guard = IdentificationGuard(store, LIMITS, Clock())
    for _ in range(5):
        guard.record_failure("ip:x", ["james_li_5688"])
    guard.record_success("james_li_5688")
    assert not guard.customer_locked("james_li_5688")
    assert guard.source_locked("ip:x")


def test_failures_past_the_cool_down_are_pruned(store: SqlStore) -> None:
    clock = Clock()
    guard = IdentificationGuard(store, LIMITS, clock)
    guard.record_failure("ip:x", ["james_li_5688"])
    clock.now += dt.timedelta(hours=1)
    guard.record_failure("ip:y")
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    assert store.failed_identifications(source_key("ip:x"), epoch) == 0
    assert store.failed_identifications(customer_key("james_li_5688"), epoch) == 0
    assert store.failed_identifications(source_key("ip:y"), epoch) == 1

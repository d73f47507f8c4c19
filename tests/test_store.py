"""The store API against a temporary SQLite database seeded from the shipped seed files."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from kefu.config import settings
from kefu.store import StoreUnavailable, normalize_email, normalize_order_id, open_store, prepare_store, schema
from kefu.store.models import Base, IdentificationFailureRow
from kefu.store.seed import SEED_DIR, derive_carrier, derive_dates, export_store, read_seed
from kefu.store.sql_store import SqlStore, now_utc
from tests.desk_fixtures import ticket_draft

REFERENCE = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
JAMES = "customer:james_li_5688"
SOURCE = "source:3f2a9c"


def test_export_reproduces_the_seed_exactly(store: SqlStore) -> None:
    assert export_store(store) == read_seed()


def test_migrations_create_exactly_the_model_tables(store_url: str) -> None:
    """Alembic's migrations and the SQLAlchemy models must describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(store_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_prepare_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    first = export_store(prepare_store(url))
    second = export_store(prepare_store(url))  # already seeded: nothing is added twice
    assert first == second
    assert len(second["orders"]) == len(read_seed()["orders"])


def test_reset_restores_the_seed_and_empties_the_audit_log(store: SqlStore, store_url: str) -> None:
    store.open_ticket(ticket_draft("c1"))
    store.record_failed_identification([JAMES], at=NOW)
    assert store.audit_log()
    assert export_store(store) == read_seed()  # failed attempts are not shop data: not exported
    reset = prepare_store(store_url, reset=True)
    assert reset.audit_log() == []
    assert reset.failed_identifications(JAMES, NOW - dt.timedelta(days=1)) == 0
    assert export_store(reset) == read_seed()


def test_migration_0003_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    schema.upgrade(url)
    command.downgrade(schema.alembic_config(url), "0002")
    assert "identification_failures" not in inspect(create_engine(url)).get_table_names()
    schema.upgrade(url)
    indexes = {i["name"] for i in inspect(create_engine(url)).get_indexes("identification_failures")}
    assert indexes == {"ix_identification_failures_key", "ix_identification_failures_at"}


def test_find_customer_by_email_is_case_and_space_insensitive(store: SqlStore) -> None:
    customer = store.find_customer_by_email("  Noah.Brown7922@EXAMPLE.com ")
    assert customer is not None
    assert customer.id == "noah_brown_6181"
    assert customer.address.zip == "80279"
    sources = {p.source for p in customer.payment_methods}
    assert sources == {"paypal", "credit_card"}
    card = next(p for p in customer.payment_methods if p.source == "credit_card")
    assert card.describe() == "Mastercard card ending in 9212"


def test_find_customer_by_name_and_zip(store: SqlStore) -> None:
    assert store.find_customer_by_name_and_zip("noah", "BROWN", "80279").id == "noah_brown_6181"
    # Several customers share a name: the zip code tells them apart, a wrong one finds nobody.
    assert store.find_customer_by_name_and_zip("Noah", "Brown", "10001") is None
    assert store.find_customer_by_name_and_zip("", "Brown", "80279") is None


def test_unknown_customer_and_empty_email(store: SqlStore) -> None:
    assert store.find_customer_by_email("nobody@example.com") is None
    assert store.find_customer_by_email("") is None
    assert store.get_customer("nobody_1") is None


def test_orders_are_scoped_to_their_customer(store: SqlStore) -> None:
    order = store.get_order("#W2611340", "james_li_5688")
    assert order is not None
    assert order.customer_id == "james_li_5688"
    assert order.total == Decimal("47.84") + Decimal("488.81")
    assert order.tracking_ids == ("357962501027",)
    # Another customer asking for it gets exactly what a missing order gives.
    assert store.get_order("#W2611340", "noah_brown_6181") is None
    assert store.get_order("#W0000000", "noah_brown_6181") is None


def test_list_orders_newest_first(store: SqlStore) -> None:
    orders = store.list_orders("james_li_5688")
    seed_ids = read_seed()["users"]["james_li_5688"]["orders"]
    assert sorted(o.id for o in orders) == sorted(seed_ids)
    dates = [o.ordered_on for o in orders]
    assert dates == sorted(dates, reverse=True)
    assert store.list_orders("nobody_1") == []


def test_customer_orders_are_the_listed_orders_in_full(store: SqlStore) -> None:
    for customer_id in ("james_li_5688", "noah_brown_6181"):
        one_by_one = [store.get_order(s.id, customer_id) for s in store.list_orders(customer_id)]
        assert store.customer_orders(customer_id) == one_by_one
        assert all(o.customer_id == customer_id for o in one_by_one)
    assert len(store.customer_orders("james_li_5688")) > 1
    assert store.customer_orders("nobody_1") == []


def test_derived_dates_follow_the_status() -> None:
    for order_id in ("#W1000000", "#W2611340", "#W9999999"):
        pending = derive_dates(order_id, "pending", REFERENCE)
        assert pending.shipped_on is None and pending.ordered_on <= REFERENCE
        processed = derive_dates(order_id, "processed", REFERENCE)
        assert processed.ordered_on < processed.shipped_on <= REFERENCE < processed.expected_delivery_on
        delivered = derive_dates(order_id, "delivered", REFERENCE)
        assert delivered.ordered_on < delivered.shipped_on < delivered.delivered_on < REFERENCE
        assert delivered.delivered_on == delivered.expected_delivery_on
        cancelled = derive_dates(order_id, "cancelled", REFERENCE)
        assert cancelled.delivered_on is None


def test_derivation_is_deterministic_and_spreads() -> None:
    ids = [f"#W{n:07d}" for n in range(200)]
    first = [derive_dates(i, "delivered", REFERENCE) for i in ids]
    assert first == [derive_dates(i, "delivered", REFERENCE) for i in ids]
    assert len({d.ordered_on for d in first}) > 50
    carriers = settings().store.seed.carriers
    assert {derive_carrier(str(n), carriers) for n in range(200)} == set(carriers)


def test_seeded_store_dates_match_the_configured_reference(store: SqlStore) -> None:
    order = store.get_order("#W2611340", "james_li_5688")
    expected = derive_dates("#W2611340", "processed", settings().store.seed.reference_date)
    assert order.ordered_on == expected.ordered_on
    assert order.fulfillments[0].expected_delivery_on == expected.expected_delivery_on


def test_products_and_variants(store: SqlStore) -> None:
    products = store.list_products()
    assert len(products) == len(read_seed()["products"])
    keyboard = store.get_product("1656367028")
    assert keyboard is not None and keyboard.name == "Mechanical Keyboard"
    seed_variants = read_seed()["products"]["1656367028"]["variants"]
    assert {v.item_id for v in keyboard.variants} == set(seed_variants)
    assert all(v.price == Decimal(str(seed_variants[v.item_id]["price"])) for v in keyboard.variants)
    assert len(keyboard.available_variants) == sum(v["available"] for v in seed_variants.values())


def test_money_is_exact(store: SqlStore) -> None:
    """Amounts go in and out as Decimal cents, with no float rounding on SQLite."""
    seed_orders = json.loads((SEED_DIR / "orders.json").read_text())
    for order_id in list(seed_orders)[:100]:
        seed = seed_orders[order_id]
        order = store.get_order(order_id, seed["user_id"])
        assert [p.amount for p in order.payments] == [Decimal(str(p["amount"])) for p in seed["payment_history"]]


def test_reads_write_nothing(store: SqlStore) -> None:
    before = export_store(store)
    store.find_customer_by_email("noah.brown7922@example.com")
    store.list_orders("noah_brown_6181")
    store.get_order("#W7678072", "noah_brown_6181")
    store.list_products()
    assert export_store(store) == before
    assert store.audit_log() == []


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-dir/kefu.db",
        "postgresql+psycopg2://kefu:kefu@127.0.0.1:9/kefu",
    ],
)
def test_unreachable_database_raises_store_unavailable(url: str) -> None:
    unreachable = open_store(url)
    with pytest.raises(StoreUnavailable):
        unreachable.find_customer_by_email("noah.brown7922@example.com")
    with pytest.raises(StoreUnavailable):
        unreachable.check_health()


# Failed identification attempts: counted in the store, across conversations.


def test_failed_identifications_are_counted_per_key(store: SqlStore) -> None:
    store.record_failed_identification([JAMES, SOURCE])
    store.record_failed_identification([JAMES])
    since = now_utc() - dt.timedelta(minutes=5)
    assert store.failed_identifications(JAMES, since) == 2
    assert store.failed_identifications(SOURCE, since) == 1
    assert store.failed_identifications("customer:noah_brown_6181", since) == 0
    # ``at`` defaults to now: nothing was counted in the future.
    assert store.failed_identifications(JAMES, now_utc() + dt.timedelta(minutes=1)) == 0


def test_failed_identifications_count_only_the_window(store: SqlStore) -> None:
    for hours in (30, 5, 1):
        store.record_failed_identification([JAMES], at=NOW - dt.timedelta(hours=hours))
    assert store.failed_identifications(JAMES, NOW - dt.timedelta(hours=2)) == 1
    assert store.failed_identifications(JAMES, NOW - dt.timedelta(hours=5)) == 2  # at or after
    assert store.failed_identifications(JAMES, NOW - dt.timedelta(hours=48)) == 3
    assert store.failed_identifications(JAMES, NOW) == 0


def test_failed_identification_times_compare_as_instants(store: SqlStore) -> None:
    """SQLite keeps no offset: 20:00 in Shanghai must be stored and compared as 12:00 UTC."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    store.record_failed_identification([JAMES], at=dt.datetime(2026, 11, 28, 20, 0, tzinfo=shanghai))
    second = dt.timedelta(seconds=1)
    assert store.failed_identifications(JAMES, NOW) == 1
    assert store.failed_identifications(JAMES, NOW + second) == 0
    assert store.failed_identifications(JAMES, dt.datetime(2026, 11, 28, 19, 59, tzinfo=shanghai)) == 1
    # A naive datetime is taken as UTC, on both backends.
    assert store.failed_identifications(JAMES, NOW.replace(tzinfo=None)) == 1
    assert store.failed_identifications(JAMES, (NOW + second).replace(tzinfo=None)) == 0


def test_a_key_given_twice_in_one_attempt_counts_once(store: SqlStore) -> None:
    store.record_failed_identification([JAMES, JAMES, "", SOURCE], at=NOW)
    store.record_failed_identification([JAMES], at=NOW)
    store.record_failed_identification([], at=NOW)
    since = NOW - dt.timedelta(minutes=1)
    assert store.failed_identifications(JAMES, since) == 2
    assert store.failed_identifications(SOURCE, since) == 1
    assert store.failed_identifications("", since) == 0


def test_failed_identification_keys_are_checked(store: SqlStore) -> None:
    with pytest.raises(TypeError):
        store.record_failed_identification(JAMES)  # one string, not a list of keys
    with pytest.raises(ValueError):
        store.record_failed_identification(["source:" + "f" * 128])  # SQLite would not refuse it
    since = NOW - dt.timedelta(days=1)
    assert store.failed_identifications("c", since) == 0  # no character was counted as a key
    assert store.failed_identifications("source:" + "f" * 128, since) == 0


def test_clearing_a_key_leaves_the_others(store: SqlStore) -> None:
    store.record_failed_identification([JAMES, SOURCE], at=NOW)
    store.record_failed_identification([JAMES], at=NOW)
    store.clear_failed_identifications(JAMES)
    store.clear_failed_identifications("customer:nobody_1")  # nothing to clear is not an error
    since = NOW - dt.timedelta(days=1)
    assert store.failed_identifications(JAMES, since) == 0
    assert store.failed_identifications(SOURCE, since) == 1
    store.record_failed_identification([JAMES], at=NOW)
    assert store.failed_identifications(JAMES, since) == 1  # counting starts again


def test_pruning_deletes_only_older_failures(store: SqlStore) -> None:
    for days in (10, 8, 1):
        store.record_failed_identification([JAMES], at=NOW - dt.timedelta(days=days))
    store.record_failed_identification([SOURCE], at=NOW - dt.timedelta(days=9))
    store.record_failed_identification([SOURCE], at=NOW - dt.timedelta(days=7))  # exactly at the limit: kept
    assert store.prune_identification_failures(NOW - dt.timedelta(days=7)) == 3
    long_ago = NOW - dt.timedelta(days=365)
    assert store.failed_identifications(JAMES, long_ago) == 1
    assert store.failed_identifications(SOURCE, long_ago) == 1
    assert store.prune_identification_failures(NOW - dt.timedelta(days=7)) == 0


def test_failed_identifications_outlive_the_store_that_counted_them(store_url: str) -> None:
    """A new conversation, even in another process, sees the attempts counted before."""
    first = open_store(store_url)
    first.record_failed_identification([JAMES, SOURCE], at=NOW)
    first.engine.dispose()
    second = open_store(store_url)
    try:
        since = NOW - dt.timedelta(hours=1)
        assert second.failed_identifications(JAMES, since) == 1
        second.record_failed_identification([JAMES], at=NOW)
        assert second.failed_identifications(JAMES, since) == 2
        second.clear_failed_identifications(JAMES)
        assert second.failed_identifications(SOURCE, since) == 1
    finally:
        second.engine.dispose()


# A corrupt store is an unavailable one.


def _corrupt_file(kind: str, path: Path, template_db: Path) -> None:
    if kind == "random bytes":
        path.write_bytes(random.Random(7).randbytes(64 * 1024))
    elif kind == "text":
        path.write_text("this is not a database\n" * 1000)
    else:  # a real database whose pages after the header were overwritten
        shutil.copy(template_db, path)
        with path.open("r+b") as damaged:
            damaged.seek(100)
            damaged.write(random.Random(7).randbytes(64 * 1024))


@pytest.mark.parametrize("kind", ["random bytes", "text", "damaged pages"])
def test_corrupt_sqlite_file_raises_store_unavailable(
    kind: str, tmp_path: Path, template_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "kefu.db"
    _corrupt_file(kind, path, template_db)
    corrupt = open_store(f"sqlite:///{path}")
    caplog.set_level(logging.ERROR, logger="kefu.store.sql_store")
    with pytest.raises(StoreUnavailable):
        corrupt.find_customer_by_email("noah.brown7922@example.com")
    with pytest.raises(StoreUnavailable):
        corrupt.check_health()
    with pytest.raises(StoreUnavailable):
        corrupt.record_failed_identification([JAMES])
    lines = [r.getMessage() for r in caplog.records if r.name == "kefu.store.sql_store"]
    assert len(lines) == 3
    # The error class and the file, on one line each; never the statement's values.
    assert all("DatabaseError" in line and str(path) in line and "\n" not in line for line in lines)
    assert not any("noah.brown7922" in line or JAMES in line for line in lines)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_health_check_fails_on_a_database_without_the_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        from tests.postgres import create_database

        admin_url, _template = request.getfixturevalue("postgres_template")
        url = create_database(admin_url, f"kefu_empty_{uuid.uuid4().hex[:12]}")
    empty = open_store(url)
    try:
        with pytest.raises(StoreUnavailable):
            empty.check_health()
    finally:
        empty.engine.dispose()


def test_a_refused_statement_is_not_reported_as_unavailable(store: SqlStore) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(IdentificationFailureRow(key=None, at=NOW))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("where is #W2611340?", "#W2611340"),
        ("order w2611340 please", "#W2611340"),
        ("W 2611340", "#W2611340"),
        ("#W261134", None),
        ("#W26113401", None),
        ("", None),
    ],
)
def test_normalize_order_id(text: str, expected: str) -> None:
    assert normalize_order_id(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my email is Noah.Brown7922@Example.com.", "noah.brown7922@example.com"),
        ("noah at example dot com", None),
        ("@@@", None),
    ],
)
def test_normalize_email(text: str, expected: str) -> None:
    assert normalize_email(text) == expected


# The store API as a contract, and the backend chosen by configuration


def test_the_store_interface_declares_every_call_the_assistant_makes() -> None:
    """Another backend implements Store alone: no read or write of SqlStore outside it."""
    import inspect as introspect

    from kefu.store.base import Store

    public = {name for name, member in introspect.getmembers(SqlStore) if callable(member) and name[0] != "_"}
    # session(): SQL's unit of work, used by the seed and the migrations' helpers only.
    assert public - Store.__abstractmethods__ == {"session"}
    for write in ("cancel_order", "return_items", "exchange_items", "change_order_items", "change_customer_address"):
        assert write in Store.__abstractmethods__


class CountingStore(SqlStore):
    """A shop's own backend, named in configuration."""

    opened: list = []

    def __init__(self, url: str) -> None:
        super().__init__(url)
        CountingStore.opened.append(url)


def test_the_backend_is_chosen_by_configuration(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu import config

    monkeypatch.setenv("KEFU_STORE_BACKEND", f"{__name__}.CountingStore")
    config.settings.cache_clear()
    try:
        chosen = open_store(store_url)
        assert isinstance(chosen, CountingStore) and CountingStore.opened[-1] == store_url
        assert chosen.get_customer("james_li_5688") is not None
    finally:
        monkeypatch.delenv("KEFU_STORE_BACKEND")
        config.settings.cache_clear()
    assert type(open_store(store_url)) is SqlStore


@pytest.mark.parametrize("path", ["kefu.store.no_such_module.Store", "kefu.store.base.normalize_email", "Store"])
def test_a_wrong_backend_is_refused_with_its_name(path: str, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu import config

    monkeypatch.setenv("KEFU_STORE_BACKEND", path)
    config.settings.cache_clear()
    try:
        with pytest.raises(config.ConfigError, match="store.backend"):
            open_store(store_url)
    finally:
        monkeypatch.delenv("KEFU_STORE_BACKEND")
        config.settings.cache_clear()

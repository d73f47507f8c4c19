"""The shop's database behind a typed API.

``open_store()`` returns the backend named by configuration (``store.url`` in ``kefu.yml``
or ``KEFU_STORE_URL``): an SQLite file by default, PostgreSQL or any SQLAlchemy URL in production.
"""

from __future__ import annotations

from pathlib import Path

from kefu.store.base import (
    Store,
    StoreError,
    StoreUnavailable,
    normalize_email,
    normalize_order_id,
)
from kefu.store.sql_store import SqlStore

__all__ = [
    "Store",
    "StoreError",
    "StoreUnavailable",
    "SqlStore",
    "open_store",
    "prepare_store",
    "normalize_email",
    "normalize_order_id",
]


def open_store(url: str | None = None) -> SqlStore:
    """The store at ``url``, or at the configured URL."""
    if url is None:
        from kefu.config import settings

        url = settings().store.url
    return SqlStore(url)


def prepare_store(url: str | None = None, reset: bool = False) -> SqlStore:
    """Migrate the schema and seed the store when it is empty (or always, with ``reset``)."""
    from kefu.config import settings
    from kefu.store import schema
    from kefu.store.seed import is_seeded, seed_store

    url = url or settings().store.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    schema.upgrade(url)
    store = open_store(url)
    if reset or not is_seeded(store):
        seed = settings().store.seed
        seed_store(store, seed.reference_date, seed.carriers, reset=reset)
    return store

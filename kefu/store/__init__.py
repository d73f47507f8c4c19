"""The shop's database behind a typed API.

``open_store()`` returns the backend named by configuration: ``store.backend`` (a ``Store``
class by module path, ``KEFU_STORE_BACKEND``) built with ``store.url`` (``KEFU_STORE_URL``);
by default Kefu's SQLAlchemy store on an SQLite file, PostgreSQL or any SQLAlchemy URL in
production.
"""

from __future__ import annotations

import importlib
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


def store_backend(path: str) -> type[Store]:
    """The ``Store`` subclass named by ``path`` ("package.module.ClassName")."""
    from kefu.config import ConfigError

    module_name, _, class_name = path.rpartition(".")
    try:
        backend = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(f"'store.backend': cannot import {path!r} ({error})") from error
    if not (isinstance(backend, type) and issubclass(backend, Store)):
        raise ConfigError(f"'store.backend': {path!r} is not a kefu.store.base.Store class")
    return backend


def open_store(url: str | None = None) -> Store:
    """The configured backend on ``url``, or on the configured URL."""
    from kefu.config import settings

    configured = settings().store
    return store_backend(configured.backend)(url or configured.url)


def prepare_store(url: str | None = None, reset: bool = False) -> SqlStore:
    """Migrate the SQL schema and seed the store when it is empty (or always, with ``reset``)."""
    from kefu.config import settings
    from kefu.store import schema
    from kefu.store.seed import is_seeded, seed_store

    url = url or settings().store.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    schema.upgrade(url)
    store = SqlStore(url)  # migrations and the seed are SQL's
    if reset or not is_seeded(store):
        seed = settings().store.seed
        seed_store(store, seed.reference_date, seed.carriers, reset=reset)
    return store

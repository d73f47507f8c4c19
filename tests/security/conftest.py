"""One Kefu started as `make run` starts it (scripts/serve.sh), attacked by every test here."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from kefu.security.audit import ServedKefu, shipped_settings
from kefu.store import SqlStore
from tests.conftest import serve_copy, store_of

# The shop's key for signed customer tokens in these tests (KEFU_CUSTOMER_TOKEN_SECRET).
TOKEN_SECRET = "shop-token-secret-for-tests-0123456789"


@pytest.fixture(scope="session")
def served(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedKefu]:
    # The shipped settings, but a source limit no test reaches by accident: every test talks
    # from 127.0.0.1. The per-source lockout has its own test on the action (test_lockout.py).
    settings = shipped_settings()
    settings["authentication"]["lockout"]["per_source"] = 1000
    kefu = serve_copy(template_db, tmp_path_factory, "served", settings, {"KEFU_CUSTOMER_TOKEN_SECRET": TOKEN_SECRET})
    yield kefu
    kefu.stop()


@pytest.fixture(scope="session")
def served_store(served: ServedKefu) -> Iterator[SqlStore]:
    yield from store_of(served)

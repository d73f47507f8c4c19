"""Shared fixtures: temporary stores seeded once and copied, and a live Kefu for conversations."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from kefu.evaluation.harness import restore_sqlite
from kefu.store import SqlStore, open_store, prepare_store


def pytest_configure(config: pytest.Config) -> None:
    """In-process Sanic servers (the channel tests) in any order: Sanic 21 rewrites some of its
    methods when an app starts, and only in test mode keeps the originals for the next app."""
    from sanic import Sanic

    Sanic.test_mode = True


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own network chatter is refused on these machines: off, as the environment notes say.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (the system executable: no browser download).

    One per module: Playwright's sync API holds the thread's event loop while it runs, and the
    tests after a browser module run their own loops."""
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("KEFU_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def serve_copy(
    template_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    settings: Dict[str, Any],
    env: Dict[str, str] | None = None,
    mode: str = "run",
) -> Any:
    """Kefu as `make run` starts it (a ServedKefu; ``mode="production"``: as `make run-production`
    does), on a copy of the seeded store, with these settings: the trained model must exist."""
    from kefu.config import PROJECT_ROOT
    from kefu.security.audit import ServedKefu

    if not (PROJECT_ROOT / "models" / "kefu.tar.gz").exists():
        pytest.fail("models/kefu.tar.gz is missing: run `make train` first")
    work = tmp_path_factory.mktemp(name)
    shutil.copy(template_db, work / "kefu.db")
    return ServedKefu.with_settings(f"sqlite:///{work / 'kefu.db'}", work, settings, env, mode)


def store_of(kefu: Any) -> Iterator[SqlStore]:
    """For a fixture: the store of a served Kefu (a ServedKefu), closed after."""
    store = open_store(kefu.env["KEFU_STORE_URL"])
    yield store
    store.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file; tests copy it instead of seeding again (2 s each)."""
    path = tmp_path_factory.mktemp("template") / "kefu.db"
    prepare_store(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[str, str]]:
    """A PostgreSQL server with a migrated, seeded template database."""
    from tests.postgres import create_database, postgres_server, unavailable_reason

    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the PostgreSQL backend: {reason}")
        pytest.skip(reason)
    with postgres_server() as admin_url:
        template = f"kefu_template_{uuid.uuid4().hex[:8]}"
        seeded = prepare_store(create_database(admin_url, template))
        seeded.engine.dispose()  # a template database must have no open connection
        yield admin_url, template


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, template_db: Path, tmp_path: Path) -> Iterator[str]:
    """A fresh seeded store for one test, on each backend Kefu supports."""
    if request.param == "sqlite":
        path = tmp_path / "kefu.db"
        shutil.copy(template_db, path)
        yield f"sqlite:///{path}"
        return
    from tests.postgres import create_database

    admin_url, template = request.getfixturevalue("postgres_template")
    yield create_database(admin_url, f"kefu_test_{uuid.uuid4().hex[:12]}", template=template)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = open_store(store_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def counted(store: SqlStore) -> Iterator[SqlStore]:
    """Message signals counted in this process (kefu/reports/signal_writer.py) go to the test's store."""
    from kefu.reports.signal_writer import SignalWriter, use_signal_writer

    use_signal_writer(SignalWriter(lambda: store))
    yield store


@pytest.fixture(scope="session")
def live_store_path(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "kefu.db"
    shutil.copy(template_db, path)
    return path


@pytest.fixture(scope="session")
def live_store_url(live_store_path: Path) -> str:
    return f"sqlite:///{live_store_path}"


@pytest.fixture(scope="session")
def live(live_store_url: str, live_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The trained model and a live action server on a temporary store."""
    from kefu.evaluation.harness import ActionServer, Assistant

    server = ActionServer(live_store_url, tmp_path_factory.mktemp("logs") / "actions.log")
    try:
        assistant = Assistant(server.webhook, live_store_url)
        yield Live(assistant, open_store(live_store_url), live_store_path)
        assistant.close()
    finally:
        server.stop()


class Live:
    def __init__(self, assistant: object, store: SqlStore, path: Path) -> None:
        self.assistant = assistant
        self.store = store
        self.path = path

    def restore(self, template_db: Path) -> None:
        """The live store back at the seed, while the action server and the signal writer hold it open."""
        self.assistant.flush_signals()  # type: ignore[attr-defined]
        restore_sqlite(template_db, self.path)

    def conversation(self) -> Conversation:
        return Conversation(self.assistant, f"test-{uuid.uuid4().hex[:12]}")


class Conversation:
    """One customer's conversation: ``say`` returns Kefu's answer as one string."""

    def __init__(self, assistant: object, sender: str) -> None:
        self.assistant = assistant
        self.sender = sender

    def say(self, text: str) -> str:
        return "\n".join(self.assistant.say(self.sender, text))  # type: ignore[attr-defined]

    def slot(self, name: str) -> object:
        return self.assistant.tracker(self.sender)["slots"].get(name)  # type: ignore[attr-defined]

"""One Kefu as `make run` starts it, with the agent console, an agent account and settings for
handoff tests: agents work around the clock (the wait message does not depend on the hour CI
runs) and refunds above 100 go to the review queue."""

from __future__ import annotations

import os
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from kefu.config import PROJECT_ROOT
from kefu.security.audit import EVERY_DAY, HttpReply, ServedKefu, http, shipped_settings
from kefu.store import SqlStore
from tests.conftest import serve_copy, store_of

AGENT, AGENT_NAME, PASSWORD = "alice", "Alice", "correct horse battery"


def desk_settings() -> Dict[str, Any]:
    """The shipped settings with agents at work around the clock and no source lockout that a
    test from 127.0.0.1 reaches by accident."""
    settings = shipped_settings()
    settings["authentication"]["lockout"]["per_source"] = 1000
    settings["escalation"]["hours"].update(EVERY_DAY)
    return settings


@pytest.fixture(scope="module")
def desk(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedKefu]:
    settings = desk_settings()
    settings["rules"]["refund_review_above"] = 100.0
    kefu = serve_copy(template_db, tmp_path_factory, "desk", settings)
    add_agent(kefu)
    yield kefu
    kefu.stop()


def add_agent(kefu: ServedKefu) -> None:
    """The agent account alice, made as a shop makes one (`python -m kefu.console add-agent`)."""
    made = subprocess.run(
        [sys.executable, "-m", "kefu.console", "add-agent", AGENT, "--display-name", AGENT_NAME, "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=dict(os.environ, KEFU_STORE_URL=kefu.env["KEFU_STORE_URL"], KEFU_CONFIG=kefu.env["KEFU_CONFIG"]),
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    if made.returncode != 0:
        kefu.stop()
    assert made.returncode == 0, made.stderr


@pytest.fixture(scope="module")
def desk_store(desk: ServedKefu) -> Iterator[SqlStore]:
    yield from store_of(desk)


class ConsoleClient:
    """The console's JSON API as the page uses it: a session cookie and the CSRF header."""

    def __init__(self, kefu: ServedKefu) -> None:
        self.base = f"{kefu.url}/webhooks/console"
        self.cookie = ""
        self.csrf = ""

    def login(self, name: str = AGENT, password: str = PASSWORD) -> HttpReply:
        reply = http("POST", f"{self.base}/api/login", {"name": name, "password": password})
        if reply.status == 200:
            jar: SimpleCookie = SimpleCookie(reply.headers.get("set-cookie", ""))
            self.cookie = f"kefu_console={jar['kefu_console'].value}"
            self.csrf = reply.body["csrf"]
        return reply

    def get(self, path: str) -> HttpReply:
        return http("GET", f"{self.base}/{path}", headers={"Cookie": self.cookie} if self.cookie else {})

    def post(self, path: str, body: Dict[str, Any] | None = None, csrf: bool = True) -> HttpReply:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return http("POST", f"{self.base}/{path}", body or {}, headers=headers)

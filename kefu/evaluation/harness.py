"""Run Kefu for real from a test or a benchmark: the trained model, a live action server, a temporary store.

Conversations go through Rasa's own message processing (NLU, policies, forms, the action
server over HTTP), so a test sees exactly what a customer on the REST channel would see.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

from kefu.config import PROJECT_ROOT

MODEL_PATH = PROJECT_ROOT / "models" / "kefu.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process serving {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def quiet_rasa_logs() -> None:
    """Rasa logs every parse and action at debug level through structlog; a benchmark needs none of it."""
    import logging

    import structlog

    logging.getLogger().setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def restore_sqlite(template: Path, path: Path) -> None:
    """The SQLite store at ``path`` back to ``template``'s content, while servers hold it open.

    Copying the file over an open SQLite database corrupts it ("database disk image is
    malformed") when another connection writes meanwhile; SQLite's backup API takes the locks.
    """
    source, target = sqlite3.connect(template), sqlite3.connect(path, timeout=30)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


# The shared secret of the test action servers (what KEFU_ACTION_TOKEN is in a deployment).
TEST_ACTION_TOKEN = "test-action-token-" + "x" * 16


def action_headers(token: str = TEST_ACTION_TOKEN) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ActionServer:
    """Kefu's action server (secret-checked rasa_sdk) on a free port, using the store at ``store_url``."""

    def __init__(self, store_url: str, log_path: Path, env: Dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = dict(os.environ, KEFU_STORE_URL=store_url, KEFU_ACTION_TOKEN=TEST_ACTION_TOKEN, **(env or {}))
        self._log = open(log_path, "w")  # noqa: SIM115 - open for the server's lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kefu.security.action_server", "--port", str(self.port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(f"http://127.0.0.1:{self.port}/health", 60, self.process)

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class Assistant:
    """The trained model answering in-process, calling a live action server."""

    def __init__(self, action_webhook: str, store_url: str, model_path: Path = MODEL_PATH) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        from kefu.reports.signal_writer import SignalWriter
        from kefu.store import open_store

        # Rasa's process counts each message for the daily report: on the action server's store
        # (made the process's writer whenever this assistant speaks: several can be alive).
        self.signals = SignalWriter(lambda: open_store(store_url))

        if not model_path.exists():
            raise FileNotFoundError(f"{model_path} is missing: run `make train` first")
        self.loop = asyncio.new_event_loop()
        endpoint = EndpointConfig(action_webhook, headers=action_headers())
        self.agent = Agent.load(str(model_path), action_endpoint=endpoint)

    def say(self, sender: str, text: str) -> List[str]:
        """Send one message; return the texts Kefu answers with."""
        from kefu.reports.signal_writer import signal_writer, use_signal_writer

        if signal_writer() is not self.signals:
            use_signal_writer(self.signals)
        replies = self.loop.run_until_complete(self.agent.handle_text(text, sender_id=sender))
        return [r.get("text", "") for r in replies or [] if r.get("text")]

    def flush_signals(self) -> None:
        assert self.signals.flush(), "message signals still waiting after 10 s"

    def tracker(self, sender: str) -> Dict[str, Any]:
        tracker = self.loop.run_until_complete(self.agent.processor.fetch_tracker_with_initial_session(sender))
        return tracker.current_state()

    def close(self) -> None:
        self.loop.close()

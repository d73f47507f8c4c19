"""Message signals for the daily report, written off the event loop, a batch a transaction.

Rasa's process reads every customer message's signals (kefu/rasa_speedups.py); writing each one
in its own transaction on the event loop would make every customer wait on the database. The
writer queues them and one thread writes what has gathered. A signal is a count for a report:
when the store is down the batch is dropped with a warning, and the conversation goes on.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from typing import Callable, List

from kefu.store import Store, StoreUnavailable
from kefu.store.records import MessageSignals

logger = logging.getLogger(__name__)

# Signals waiting beyond this are dropped (the store is too slow or gone): memory stays bounded.
MAX_WAITING = 10_000
MAX_BATCH = 500
GATHER_SECONDS = 1.0


class SignalWriter:
    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open_store = open_store
        self._store: Store | None = None
        self._waiting: queue.Queue[MessageSignals] = queue.Queue(MAX_WAITING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, signals: MessageSignals) -> None:
        """Queue one message's signals; never blocks."""
        self._start()
        try:
            self._waiting.put_nowait(signals)
        except queue.Full:
            logger.warning("message signals dropped: %d are waiting for the store", MAX_WAITING)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._waiting.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._waiting.unfinished_tasks

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_forever, name="kefu-signals", daemon=True)
                self._thread.start()

    def _write_forever(self) -> None:
        while True:
            batch = [self._waiting.get()]
            # A commit costs far more than a row: under load, one a GATHER_SECONDS.
            deadline = time.monotonic() + GATHER_SECONDS
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._waiting.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            self._write(batch)
            for _ in batch:
                self._waiting.task_done()

    def _write(self, batch: List[MessageSignals]) -> None:
        try:
            if self._store is None:
                self._store = self._open_store()
            self._store.record_message_signals(batch)
        except StoreUnavailable:
            logger.warning("signals of %d messages not counted: store unavailable", len(batch))
        except Exception:  # a report's count must never stop the writer
            logger.exception("signals of %d messages not counted", len(batch))


_writer: SignalWriter | None = None


def signal_writer() -> SignalWriter:
    """The process's writer, on the configured store (``KEFU_STORE_URL`` or kefu.yml)."""
    if _writer is None:
        from kefu.store import open_store

        use_signal_writer(SignalWriter(open_store))
    assert _writer is not None
    return _writer


def use_signal_writer(writer: SignalWriter) -> None:
    """Make ``writer`` the process's (an in-process assistant on another store: tests, benchmarks)."""
    global _writer
    if _writer is not None:
        _writer.flush()
    _writer = writer


@atexit.register
def _flush_at_exit() -> None:
    if _writer is not None:
        _writer.flush()

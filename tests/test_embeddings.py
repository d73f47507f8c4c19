"""The shared e5 encoder under concurrency: callers waiting at once share one engine call, and
every caller gets exactly the vectors it would have got alone."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List

import numpy as np
import pytest

from kefu import embeddings

TEXTS = [
    "where is my order?",
    "hi",
    "noah.brown7922@example.com 80279",
    "Je voudrais retourner la bouilloire",
    "我的订单到哪里了？",
    "the first one",
    "I want to cancel my order #W7602708, I ordered it by mistake",
    "¿Dónde está mi pedido?",
]


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    """The real engine, with the size of each of its calls recorded."""
    model = embeddings.encoder()
    calls: List[int] = []
    real_query = model.query

    def counted(texts: List[str]) -> Any:
        calls.append(len(texts))
        return real_query(texts)

    monkeypatch.setattr(model, "query", counted)
    return calls


def call_together(caller: Callable[[str], None], arguments: List[str]) -> None:
    """``caller`` on each argument, in threads released at the same moment, so they wait together."""
    start = threading.Barrier(len(arguments))

    def released(argument: str) -> None:
        start.wait()
        caller(argument)

    threads = [threading.Thread(target=released, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_callers_share_engine_calls_and_get_their_own_vectors(engine_calls: List[int]) -> None:
    alone = {text: embeddings.embed_queries([text])[0] for text in TEXTS}
    engine_calls.clear()
    results: Dict[str, np.ndarray] = {}

    def caller(text: str) -> None:
        results[text] = embeddings.embed_queries([text])

    call_together(caller, TEXTS)
    assert sorted(results) == sorted(TEXTS)
    for text in TEXTS:
        assert results[text].shape == (1, embeddings.DIMENSIONS)
        np.testing.assert_allclose(results[text][0], alone[text], atol=1e-6)
    assert sum(engine_calls) == len(TEXTS)  # every text encoded once
    assert len(engine_calls) < len(TEXTS)  # and at least two of them in one call


def test_an_engine_error_reaches_every_caller_of_its_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    model = embeddings.encoder()

    def broken(texts: List[str]) -> Any:
        raise RuntimeError("engine failed")

    monkeypatch.setattr(model, "query", broken)
    with pytest.raises(RuntimeError, match="engine failed"):
        embeddings.embed_queries(["hi"])
    assert embeddings._pending == []  # nothing left waiting for a batch that failed


def test_passages_and_queries_waiting_together_keep_their_own_role() -> None:
    alone = {
        "query": embeddings.embed_queries(["return policy"]),
        "passage": embeddings.embed_passages(["return policy"]),
    }
    assert not np.allclose(alone["query"], alone["passage"])  # e5's role prefixes differ
    encode = {"query": embeddings.embed_queries, "passage": embeddings.embed_passages}
    roles = ["query", "passage"] * 4
    results: List[tuple] = []

    def caller(role: str) -> None:
        results.append((role, encode[role](["return policy"])))

    call_together(caller, roles)
    assert len(results) == len(roles)
    for role, vectors in results:
        np.testing.assert_allclose(vectors, alone[role], atol=1e-6)

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


@pytest.fixture(autouse=True)
def no_kept_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text reaches the engine unless a test keeps vectors itself."""
    monkeypatch.setattr(embeddings, "recent", embeddings.RecentVectors(0))


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


# --- vectors of short texts kept ---


def test_a_short_text_seen_lately_is_not_encoded_again(
    monkeypatch: pytest.MonkeyPatch, engine_calls: List[int]
) -> None:
    monkeypatch.setattr(embeddings, "recent", embeddings.RecentVectors(16))
    first = embeddings.embed_queries(["hi", "where is my order?"])
    again = embeddings.embed_queries(["where is my order?", "the first one", "hi"])
    assert engine_calls == [2, 1]  # only "the first one" was new
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[2], first[0])
    again[0][:] = 0  # a caller changing its array does not change what is kept
    np.testing.assert_array_equal(embeddings.embed_queries(["where is my order?"])[0], first[1])


def test_long_texts_and_the_other_role_go_to_the_engine(
    monkeypatch: pytest.MonkeyPatch, engine_calls: List[int]
) -> None:
    monkeypatch.setattr(embeddings, "recent", embeddings.RecentVectors(16))
    long_text = "my email is noah.brown7922@example.com and my zip code is 80279, where is it?"
    assert len(long_text) > embeddings.CACHED_MAX_CHARS
    embeddings.embed_queries([long_text])
    embeddings.embed_queries([long_text])
    query = embeddings.embed_queries(["return policy"])
    passage = embeddings.embed_passages(["return policy"])
    assert engine_calls == [1, 1, 1]  # the passage went to model.passage, not counted here
    assert not np.allclose(query, passage)


def test_the_least_recently_used_vector_leaves_first(engine_calls: List[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "recent", embeddings.RecentVectors(2))
    for text in ("a", "b", "a", "c", "a", "b"):
        embeddings.embed_queries([text])
    assert engine_calls == [1, 1, 1, 1]  # a, b, c, then b again (pushed out by c; a was used)


def test_a_mistyped_setting_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_E5_CACHE", "lots")
    with pytest.raises(ValueError, match="KEFU_E5_CACHE must be a whole number"):
        embeddings._cache_size()

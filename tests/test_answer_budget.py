"""A free question's time budget and the answer cache (issue #17).

A customer asking a policy question while others chat must not wait for the small model's
queue: past ``answer_budget_s`` the shop's best passage is the answer. The same question over
the same passages is answered from the cache, and an answer that depended on the moment (the
model was busy) is never kept.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List, Sequence

import pytest

from kefu.answering import (
    EXTRACTIVE,
    GENERATED,
    TIME_BUDGET,
    Answer,
    Answerer,
    AnswerSettings,
    answer_async,
)
from kefu.config import ConfigError
from kefu.generation.base import Generation, GenerationTimeout, Generator
from kefu.generation.llama_cpp import LlamaCppGenerator
from kefu.generation.settings import parse_ai_settings
from tests.test_generation import PASSAGE, tiny_index

ANSWER = "It takes 5 to 7 business days."


class TimedGenerator(Generator):
    """Needs ``delay`` seconds for a completion and, as llama.cpp does, gives up at its timeout."""

    name = "timed"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.timeouts: List[float] = []

    def generate(self, prompt: str, max_tokens: int = 64, stop: Sequence[str] = ("\n",), timeout: float = 20.0):
        self.timeouts.append(timeout)
        if self.delay > timeout:
            time.sleep(timeout)
            raise GenerationTimeout(f"no complete answer within {timeout:g} s")
        time.sleep(self.delay)
        return Generation(ANSWER, tokens=8, seconds=self.delay, backend=self.name)


def test_an_answer_past_its_budget_is_the_shops_passage() -> None:
    answerer = Answerer(tiny_index(), TimedGenerator(delay=2.0), settings=AnswerSettings(budget_s=0.2))
    started = time.monotonic()
    answer = answerer.answer("how long does a refund take?", "en")
    assert answer.kind == EXTRACTIVE and answer.text == PASSAGE
    assert answer.reason.startswith(TIME_BUDGET)
    assert time.monotonic() - started < 1.0


def test_the_generator_gets_only_what_is_left_of_the_budget() -> None:
    generator = TimedGenerator(delay=0.0)
    Answerer(tiny_index(), generator, settings=AnswerSettings(budget_s=1.5, timeout_s=20)).answer("refund?", "en")
    assert 1.0 < generator.timeouts[0] <= 1.5


def test_a_question_queued_behind_the_model_keeps_its_budget() -> None:
    # One generation at a time: the second question waits 0.4 s for the first, then has 0.2 s
    # left, which is less than the model needs, so it gets the passage at 0.6 s instead of a
    # worded answer at 0.8 s.
    answerer = Answerer(tiny_index(), TimedGenerator(delay=0.4), settings=AnswerSettings(budget_s=0.6))

    async def two_customers() -> list:
        return await asyncio.gather(
            answer_async("how long does a refund take?", "en", answerer=answerer, concurrency=1),
            answer_async("when will I get my money back?", "en", answerer=answerer, concurrency=1),
        )

    started = time.monotonic()
    answers = asyncio.run(two_customers())
    elapsed = time.monotonic() - started
    assert sorted(a.kind for a in answers) == [EXTRACTIVE, GENERATED]
    assert elapsed < 0.75, elapsed


def test_the_same_question_is_answered_once() -> None:
    generator = TimedGenerator(delay=0.0)
    answerer = Answerer(tiny_index(), generator, settings=AnswerSettings(cache_size=8))
    first = answerer.answer("How long does a refund take?", "en")
    again = answerer.answer("  how long does a   REFUND take? ", "en")
    assert first.kind == again.kind == GENERATED and again.text == first.text
    assert len(generator.timeouts) == 1
    answerer.answer("How long does a refund take?", "fr")  # another language, another answer
    answerer.answer("How long does a refund take?", "en", facts=["#W1234567 refund 42.10"])
    assert len(generator.timeouts) == 3


def test_an_answer_given_because_the_model_was_busy_is_not_kept() -> None:
    generator = TimedGenerator(delay=1.0)
    answerer = Answerer(tiny_index(), generator, settings=AnswerSettings(budget_s=0.1, cache_size=8))
    assert answerer.answer("refund?", "en").kind == EXTRACTIVE
    generator.delay = 0.0
    assert answerer.answer("refund?", "en").kind == GENERATED


def test_the_cache_keeps_only_its_size() -> None:
    generator = TimedGenerator(delay=0.0)
    answerer = Answerer(tiny_index(), generator, settings=AnswerSettings(cache_size=2))
    for question in ("a?", "b?", "c?", "a?"):
        answerer.answer(question, "en")
    assert len(generator.timeouts) == 4  # "a?" was the oldest of three and left the cache


class SlowLlama:
    """Stands in for llama_cpp.Llama: one token every ``pause`` seconds, ``tokens`` in all."""

    def __init__(self, pause: float, tokens: int) -> None:
        self.pause, self.tokens = pause, tokens

    def create_completion(self, prompt: str, **kwargs: object) -> Iterator[dict]:
        for _ in range(self.tokens):
            time.sleep(self.pause)
            yield {"choices": [{"text": " word"}]}


def test_llama_cpp_gives_up_at_its_timeout_instead_of_answering_half_a_sentence() -> None:
    generator = LlamaCppGenerator("unused.gguf")
    generator._model = SlowLlama(pause=0.05, tokens=100)
    started = time.monotonic()
    with pytest.raises(GenerationTimeout):
        generator.generate("prompt", max_tokens=100, timeout=0.3)
    assert time.monotonic() - started < 0.6
    generator._model = SlowLlama(pause=0.0, tokens=3)
    assert generator.generate("prompt", timeout=0.3).text == "word word word"


def test_llama_cpp_counts_the_wait_for_a_busy_model() -> None:
    generator = LlamaCppGenerator("unused.gguf")
    generator._model = SlowLlama(pause=0.0, tokens=1)
    busy = threading.Thread(target=lambda: (generator._lock.acquire(), time.sleep(0.6), generator._lock.release()))
    busy.start()
    time.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(GenerationTimeout):
        generator.generate("prompt", timeout=0.2)
    assert time.monotonic() - started < 0.45
    busy.join()


def test_budget_and_cache_settings() -> None:
    generation = parse_ai_settings({}, env={}).generation
    assert generation.answer_budget_s == 2.5 and generation.cache_size == 256
    assert parse_ai_settings({}, env={"KEFU_ANSWER_BUDGET": "0"}).generation.answer_budget_s == 0.0
    with pytest.raises(ConfigError, match="answer_budget_s"):
        parse_ai_settings({"generation": {"answer_budget_s": -1}}, env={})


def test_warming_up_loads_the_model_and_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu import answering

    generator = TimedGenerator(delay=0.0)
    monkeypatch.setattr(answering, "_answerer", Answerer(tiny_index(), generator))
    answering.warm_up()
    assert len(generator.timeouts) == 1  # one short completion: the model is loaded

    def broken() -> Answerer:
        raise RuntimeError("no model here")

    monkeypatch.setattr(answering, "default_answerer", broken)
    answering.warm_up()  # logged, not raised: the first question meets the error and is answered


def test_time_the_message_already_waited_counts_against_the_budget() -> None:
    generator = TimedGenerator(delay=0.3)
    answerer = Answerer(tiny_index(), generator, settings=AnswerSettings(budget_s=1.0))
    answer = asyncio.run(answer_async("refund?", "en", answerer=answerer, concurrency=1, waited_s=0.9))
    assert answer.kind == EXTRACTIVE and answer.reason.startswith(TIME_BUDGET)
    assert generator.timeouts and generator.timeouts[0] <= 0.1
    fresh = asyncio.run(answer_async("refund time?", "en", answerer=answerer, concurrency=1, waited_s=0.0))
    assert fresh.kind == GENERATED


def test_the_answer_action_reads_the_wait_from_the_message_event() -> None:
    from rasa_sdk import Tracker

    from actions.answers import waited_since_message

    events = [{"event": "user", "timestamp": time.time() - 1.5, "text": "refund?"}, {"event": "action"}]
    tracker = Tracker("c", {}, {"text": "refund?"}, events, False, None, {}, "action_listen")
    assert 1.4 < waited_since_message(tracker) < 3.0
    assert waited_since_message(Tracker("c", {}, {}, [], False, None, {}, "action_listen")) == 0.0
    # The channel's stamp comes first: Rasa records the message only after the NLU queue.
    stamped = {"text": "refund?", "metadata": {"kefu_received_at": time.time() - 4.0}}
    tracker = Tracker("c", {}, stamped, events, False, None, {}, "action_listen")
    assert 3.9 < waited_since_message(tracker) < 6.0


class OneAtATimeGenerator(Generator):
    """Holds the model while it reads (``delay`` s, whatever the timeout), as llama.cpp does."""

    name = "one-at-a-time"

    def __init__(self, delay: float) -> None:
        self.delay, self.started = delay, 0
        self._model = threading.Lock()

    def generate(self, prompt: str, max_tokens: int = 64, stop: Sequence[str] = ("\n",), timeout: float = 20.0):
        if not self._model.acquire(timeout=timeout):
            raise GenerationTimeout("busy")
        try:
            self.started += 1
            time.sleep(self.delay)
            return Generation(ANSWER, tokens=8, seconds=self.delay, backend=self.name)
        finally:
            self._model.release()


def test_questions_whose_time_is_spent_do_not_start_the_model() -> None:
    # The model is free again at 0.5 s, after every customer's 0.3 s: a question still queued
    # then must not start a completion nobody waits for.
    generator = OneAtATimeGenerator(delay=0.5)
    answerer = Answerer(tiny_index(), generator, settings=AnswerSettings(budget_s=0.3))
    answers: List[Answer] = []
    started = time.monotonic()
    customers = [threading.Thread(target=lambda q=q: answers.append(answerer.answer(q, "en"))) for q in "abcd"]
    for customer in customers:
        customer.start()
    for customer in customers:
        customer.join(5)
    assert time.monotonic() - started < 0.8
    assert [a.kind for a in answers] == [EXTRACTIVE] * 4
    time.sleep(1.5)  # the first completion finishes in the background
    assert generator.started == 1  # the others never reached the model


def test_the_wait_for_a_worker_counts_against_the_budget() -> None:
    # The second question waits 0.4 s for the one worker, has 0.2 s left of 0.6, and falls
    # back instead of waiting for the model another 0.4 s.
    answerer = Answerer(tiny_index(), TimedGenerator(delay=0.4), settings=AnswerSettings(budget_s=0.6))
    from kefu import answering

    slow_pool = ThreadPoolExecutor(max_workers=1)

    async def scenario() -> list:
        loop = asyncio.get_running_loop()
        busy = loop.run_in_executor(slow_pool, time.sleep, 0.4)
        original = answering._pool, answering.default_answerer
        answering._pool = lambda workers: slow_pool  # type: ignore[assignment]
        answering.default_answerer = lambda store=None: answerer  # type: ignore[assignment]
        try:
            # As the action calls it: the process's answerer, fetched through the busy worker.
            answer = await answer_async("refund?", "en", concurrency=1)
        finally:
            answering._pool, answering.default_answerer = original  # type: ignore[assignment]
        await busy
        return [answer]

    started = time.monotonic()
    (answer,) = asyncio.run(scenario())
    assert answer.kind == EXTRACTIVE and time.monotonic() - started < 0.75


def test_a_model_that_cannot_stop_does_not_keep_the_customer_past_the_budget() -> None:
    answerer = Answerer(tiny_index(), OneAtATimeGenerator(delay=1.5), settings=AnswerSettings(budget_s=0.3))
    started = time.monotonic()
    answer = answerer.answer("how long does a refund take?", "en")
    assert answer.kind == EXTRACTIVE and answer.reason.startswith(TIME_BUDGET)
    assert time.monotonic() - started < 0.8
    quick = Answerer(tiny_index(), OneAtATimeGenerator(delay=0.05), settings=AnswerSettings(budget_s=0.3))
    assert quick.answer("refund?", "en").kind == GENERATED

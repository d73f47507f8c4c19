"""Question + language -> retrieve -> few-shot prompt -> generate -> guard -> typed answer.

It composes the libraries below it (kefu.knowledge, kefu.generation, kefu.translation), none
of which imports it: translation builds on the generator, so this pipeline, which uses both,
sits above them.

The result is one of three kinds, and the caller renders each in its own way:

- ``generated``: the model's answer, every checkable fact of which is in the given passages;
- ``extractive``: the generated answer failed the guard (or was empty), so the best passage
  itself is the answer, as the shop wrote it;
- ``unknown``: nothing relevant was found or the model said the facts do not answer; the text
  is empty and the caller says so with an authored response and offers a human.

Transaction confirmations and order data never come from here: those are templates filled
from the store. Store facts may be passed in ``facts`` so an answer can use them, and the guard
accepts them as sources.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

from kefu.generation.base import Deadline, Generation, GenerationError, GenerationTimeout, Generator
from kefu.generation.grounding import GroundingReport, check_grounding
from kefu.generation.prompts import EXAMPLES, answer_prompt, is_unknown
from kefu.generation.settings import GeneratorSettings
from kefu.knowledge.documents import Passage
from kefu.knowledge.index import Hit, KnowledgeIndex, min_score
from kefu.translation.base import Translator

logger = logging.getLogger(__name__)

GENERATED, EXTRACTIVE, UNKNOWN = "generated", "extractive", "unknown"


@dataclass(frozen=True)
class Answer:
    kind: str  # generated | extractive | unknown
    text: str  # in ``language``; empty when unknown
    language: str  # language of ``text`` (the customer's, unless translation was refused)
    sources: Tuple[Passage, ...] = ()
    raw: str = ""  # the model's own answer before the guard (what "guard off" would say)
    grounding: GroundingReport | None = None
    generation: Generation | None = None
    machine_translated: bool = False
    reason: str = ""  # why the answer is extractive or unknown, for logs and benchmarks
    scores: Tuple[float, ...] = field(default=())


@dataclass(frozen=True)
class AnswerSettings:
    k: int = 2  # passages given to the model: more dilutes a 270M model's attention
    thresholds: dict | None = None  # per language; None: the tuned defaults of kefu.knowledge.index
    max_tokens: int = 64
    timeout_s: float = 20.0
    guard: bool = True
    # The customer's wait for the model, queue included; past it the best passage is the answer.
    # 0: only timeout_s bounds a generation.
    budget_s: float = 0.0
    # Answers kept for the same question over the same passages (0: none).
    cache_size: int = 0

    @classmethod
    def configured(cls, generation: GeneratorSettings) -> AnswerSettings:
        """The answering limits of kefu.yml's ``generation:`` section."""
        return cls(
            max_tokens=generation.max_tokens,
            timeout_s=generation.timeout_s,
            guard=generation.guard,
            budget_s=generation.answer_budget_s,
            cache_size=generation.cache_size,
        )


# Reasons of answers that depend on the moment (the model was busy or failed), never cached.
TIME_BUDGET = "time budget"
_TRANSIENT = (TIME_BUDGET, "generator failed")


class AnswerCache:
    """The last ``size`` answers by question, language, passages and store facts.

    Customers ask the same few policy questions all day, and a greedy completion of the same
    prompt is the same text: the second asker gets the first one's answer without the model.
    Keyed on the passages found as well as the words, so an edited document is never answered
    from an older version. Thread-safe: answers are computed in a worker pool.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(question: str, language: str, passages: Sequence[Passage], facts: Sequence[str]) -> tuple:
        words = " ".join(question.casefold().split())
        return (words, language, tuple((p.id, p.text) for p in passages), tuple(facts))

    def get(self, key: tuple) -> Answer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: Answer) -> None:
        if self.size <= 0 or answer.reason.startswith(_TRANSIENT):
            return
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)


class Answerer:
    def __init__(
        self,
        index: KnowledgeIndex,
        generator: Generator,
        translator: Translator | None = None,
        settings: AnswerSettings = AnswerSettings(),
    ) -> None:
        self.index = index
        self.generator = generator
        self.translator = translator
        self.settings = settings
        self.cache = AnswerCache(settings.cache_size)

    def _answer_language(self, language: str) -> str:
        """Generate in the customer's language when the shop wrote documents in it, else in English."""
        return language if language in self.index.languages and language in EXAMPLES else "en"

    def _retrieve(self, question: str, language: str) -> List[Hit]:
        return self.index.search(question, language, k=self.settings.k)

    def answer(
        self, question: str, language: str, facts: Sequence[str] = (), deadline: Deadline | None = None
    ) -> Answer:
        """The answer to ``question``; ``deadline`` (else settings.budget_s from now) bounds the model."""
        if deadline is None and self.settings.budget_s > 0:
            deadline = Deadline(self.settings.budget_s)
        hits = self._retrieve(question, language)
        scores = tuple(round(h.score, 4) for h in hits)
        if not hits or hits[0].score < min_score(language, self.settings.thresholds):
            return Answer(UNKNOWN, "", language, reason="no relevant passage", scores=scores)
        passages = tuple(h.passage for h in hits)
        key = AnswerCache.key(question, language, passages, facts)
        cached = self.cache.get(key)
        if cached is None:
            cached = self._generate(question, language, passages, facts, deadline, scores)
            self.cache.put(key, cached)
        return cached

    def _generate(
        self,
        question: str,
        language: str,
        passages: Tuple[Passage, ...],
        facts: Sequence[str],
        deadline: Deadline | None,
        scores: Tuple[float, ...],
    ) -> Answer:
        sources = [p.embedding_text for p in passages] + list(facts)
        working = self._answer_language(language)
        prompt = answer_prompt(question, sources, working)
        if deadline is not None and deadline.expired():
            return self._extractive(passages, language, "", None, None, f"{TIME_BUDGET}: spent waiting", scores)
        try:
            generation = self._generate_within(prompt, deadline)
        except GenerationTimeout as error:
            return self._extractive(passages, language, "", None, None, f"{TIME_BUDGET}: {error}", scores)
        except GenerationError as error:
            return self._extractive(passages, language, "", None, None, f"generator failed: {error}", scores)
        raw = generation.text
        if is_unknown(raw):
            return Answer(UNKNOWN, "", language, passages, raw, None, generation, reason="model: not in facts")
        report = check_grounding(raw, sources)
        if self.settings.guard and not report.grounded:
            reason = f"unsupported facts {report.unsupported}"
            return self._extractive(passages, language, raw, report, generation, reason, scores)
        text, lang, machine = self._localise(raw, working, language, sources)
        return Answer(GENERATED, text, lang, passages, raw, report, generation, machine, scores=scores)

    def _generate_within(self, prompt: str, deadline: Deadline | None) -> Generation:
        """The completion, or GenerationTimeout once ``deadline`` has passed.

        A backend stops between two tokens at its timeout, but not while it reads the prompt
        (llama.cpp's prefill of a few hundred tokens took 4 s on a loaded core): under a time
        budget the customer is not kept waiting for it. The abandoned completion finishes in the
        background, holding the model, so the questions behind it fall back at once; a call
        that only starts after its deadline does not start the model at all.
        """

        def call() -> Generation:
            timeout = self.settings.timeout_s if deadline is None else min(self.settings.timeout_s, deadline.remaining)
            if timeout <= 0:
                raise GenerationTimeout("the customer's time was spent before the model was free")
            return self.generator.generate(prompt, max_tokens=self.settings.max_tokens, stop=("\n",), timeout=timeout)

        if deadline is None:
            return call()
        future = _generation_pool().submit(call)
        try:
            return future.result(timeout=deadline.remaining)
        except concurrent.futures.TimeoutError as error:
            raise GenerationTimeout(
                f"no answer within {deadline.seconds:.2f} s (the model was still reading)"
            ) from error

    def _extractive(self, passages, language, raw, report, generation, reason, scores) -> Answer:
        best = passages[0]
        text, lang, machine = self._localise(best.text, best.language, language, [best.text])
        return Answer(EXTRACTIVE, text, lang, passages, raw, report, generation, machine, reason, scores)

    def _localise(self, text: str, source: str, target: str, sources: Sequence[str]) -> Tuple[str, str, bool]:
        """Translate into the customer's language; keep the original if translation breaks a fact."""
        if source == target or self.translator is None:
            return text, source, False
        try:
            translated = self.translator.translate(text, source, target)
        except Exception:  # a failed translation must not lose a correct answer
            return text, source, False
        # Both ways: a translation may neither add a fact nor drop one (a 270M model often
        # translates the first sentence of a passage only).
        added = not check_grounding(translated.text, [text, *sources]).grounded
        dropped = not check_grounding(text, [translated.text]).grounded
        if added or dropped:
            return text, source, False
        return translated.text, target, translated.machine


# --- process-wide answerer and the async helper for the action server ---

_lock = threading.Lock()
_answerer: Answerer | None = None
_executor: ThreadPoolExecutor | None = None
# One semaphore per event loop (asyncio primitives belong to the loop that first uses them).
_semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def default_answerer(store=None) -> Answerer:
    """Built on first use from kefu.yml: the knowledge index, the generator and the translator."""
    global _answerer
    with _lock:
        if _answerer is None:
            from kefu.generation.factory import default_generator
            from kefu.generation.settings import ai_settings
            from kefu.knowledge import default_index
            from kefu.translation.factory import default_translator

            settings = ai_settings()
            _answerer = Answerer(
                default_index(store),
                default_generator(),
                default_translator(),
                AnswerSettings.configured(settings.generation),
            )
        return _answerer


def warm_up() -> None:
    """Build the index and load the model now, so the first customer's question does not wait
    for them (a cold start took 18 s here: passages embedded, the GGUF loaded). Never raises:
    a failure here is met again, and answered, on the first question."""
    started = time.monotonic()
    try:
        answerer = default_answerer()
        answerer.generator.generate("Q: ok?\nA:", max_tokens=1, timeout=60)
        logger.info("free answers ready in %.1f s", time.monotonic() - started)
    except Exception:  # noqa: BLE001 - warming is a courtesy
        logger.warning("could not prepare free answers in advance", exc_info=True)


def warm_up_in_background() -> None:
    """``warm_up`` in a thread of its own when kefu.yml's ``generation.warm_up`` is on."""
    from kefu.generation.settings import ai_settings

    if ai_settings().generation.warm_up:
        threading.Thread(target=warm_up, name="kefu-warm-up", daemon=True).start()


_generations: ThreadPoolExecutor | None = None


def _generation_pool() -> ThreadPoolExecutor:
    """Threads for bounded completions: one may still run after its caller left, one more waits."""
    global _generations
    with _lock:
        if _generations is None:
            _generations = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kefu-generate")
        return _generations


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kefu-answer")
        return _executor


async def answer_async(
    question: str,
    language: str,
    facts: Sequence[str] = (),
    answerer: Answerer | None = None,
    concurrency: int | None = None,
    max_waiting: int = 16,
    waited_s: float = 0.0,
) -> Answer:
    """``Answerer.answer`` in a worker thread, so the action server's event loop keeps serving.

    ``waited_s``: how long the customer has waited already (counted against the time budget).
    At most ``concurrency`` generations run at once (one CPU model gains nothing from more),
    and at most ``max_waiting`` requests queue for them; beyond that the answer is ``unknown``
    at once ("busy"), because a customer is better served by a human than by a long wait.
    """
    loop = asyncio.get_running_loop()
    if concurrency is None:
        from kefu.generation.settings import ai_settings

        concurrency = ai_settings().generation.concurrency
    semaphore = _semaphores.setdefault(loop, asyncio.Semaphore(max_waiting))
    if semaphore.locked():
        return Answer(UNKNOWN, "", language, reason="busy")
    # The budget is the customer's whole wait: what the message already waited (``waited_s``)
    # and every wait from here on (for a free worker, for the model) count.
    started = time.monotonic()
    async with semaphore:
        target = answerer or await loop.run_in_executor(_pool(concurrency), default_answerer)
        budget = target.settings.budget_s
        spent = min(max(waited_s, 0.0) + time.monotonic() - started, budget)
        deadline = Deadline(budget - spent) if budget > 0 else None
        pool = _pool(concurrency)
        return await loop.run_in_executor(pool, target.answer, question, language, tuple(facts), deadline)

"""Generator backends, the grounding guard, the answering pipeline and its settings (issue #5)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List, Sequence

import numpy as np
import pytest

from kefu.answering import EXTRACTIVE, GENERATED, UNKNOWN, Answerer, AnswerSettings, answer_async
from kefu.config import ConfigError
from kefu.generation.base import Generation, GenerationError, GenerationTimeout, Generator
from kefu.generation.grounding import check_grounding, extract_facts
from kefu.generation.openai_http import OpenAIGenerator
from kefu.generation.prompts import answer_prompt
from kefu.generation.settings import parse_ai_settings
from kefu.knowledge.documents import Passage
from kefu.knowledge.index import KnowledgeIndex
from kefu.translation.base import Translation, Translator

# --- the grounding guard ---

PASSAGE = "A refund to a credit card takes 5 to 7 business days. Orders of $50 or more ship free."


def test_an_invented_number_is_caught() -> None:
    report = check_grounding("Refunds take 14 business days.", [PASSAGE])
    assert not report.grounded and report.unsupported == ["num:14"]


def test_numbers_present_in_the_passage_pass() -> None:
    assert check_grounding("It takes 5 to 7 business days; shipping is free from $50.", [PASSAGE]).grounded


@pytest.mark.parametrize(
    "answer, source",
    [
        ("5-7 days", "5 to 7 days"),
        ("5 à 7 jours", "5 to 7 days"),
        ("$10", "10.00 USD"),
        ("1,000 dollars", "$1000"),
        ("三十天内", "within 30 days"),
        ("十四天", "14 days"),
        ("fourteen days", "14 days"),
        ("order W1234567", "order #W1234567"),
        ("9:00 to 18:00", "周一至周五9:00至18:00"),
        ("Write to HELP@example-shop.com", "write to help@example-shop.com"),
        ("delivered on 2026-11-28", "delivered 2026-11-28"),
    ],
)
def test_normalised_facts_match(answer: str, source: str) -> None:
    assert check_grounding(answer, [source]).grounded, (extract_facts(answer), extract_facts(source))


@pytest.mark.parametrize(
    "answer, source",
    [
        ("order #W7654321", "order #W1234567"),
        ("tracking 123456789012", "tracking 123456789013"),
        ("delivered 2026-11-29", "delivered 2026-11-28"),
        ("email support@example-shop.com", "email help@example-shop.com"),
        ("costs $10.50", "costs $10"),
    ],
)
def test_invented_ids_dates_amounts_and_emails_are_caught(answer: str, source: str) -> None:
    assert not check_grounding(answer, [source]).grounded


def test_weekday_names_and_pronouns_are_not_numbers() -> None:
    assert extract_facts("周一至周五，换一个颜色") == {"day:mon", "day:fri"}  # days, but no number
    assert extract_facts("the black one is available") == set()


# --- the answering pipeline, on a fake index and fake generators ---


class FixedGenerator(Generator):
    name = "fixed"

    def __init__(self, text: str, delay: float = 0.0) -> None:
        self.text, self.delay, self.prompts = text, delay, []

    def generate(self, prompt: str, max_tokens: int = 64, stop: Sequence[str] = ("\n",), timeout: float = 20.0):
        self.prompts.append(prompt)
        time.sleep(self.delay)
        return Generation(self.text, tokens=len(self.text.split()), seconds=self.delay or 0.01, backend=self.name)


def tiny_index(score: float = 0.9) -> KnowledgeIndex:
    """Two passages; every query scores ``score`` against the first and 0 against the second."""
    passages = [
        Passage("en/refunds#time", "en", "Refunds / How long", PASSAGE, "test"),
        Passage("en/contact#email", "en", "Contact / Email", "Write to help@example-shop.com.", "test"),
    ]
    vectors = np.eye(2, 384, dtype=np.float32)
    query = np.zeros((1, 384), dtype=np.float32)
    query[0, 0] = score
    return KnowledgeIndex(passages, vectors, lambda texts: query)


def test_a_grounded_answer_is_generated_with_its_sources() -> None:
    answer = Answerer(tiny_index(), FixedGenerator("It takes 5 to 7 business days.")).answer("refund?", "en")
    assert answer.kind == GENERATED and answer.text == "It takes 5 to 7 business days."
    assert answer.sources[0].id == "en/refunds#time" and answer.grounding.grounded


def test_an_invented_fact_falls_back_to_the_passage() -> None:
    answer = Answerer(tiny_index(), FixedGenerator("It takes 10 days.")).answer("refund?", "en")
    assert answer.kind == EXTRACTIVE and answer.text == PASSAGE
    assert answer.raw == "It takes 10 days." and answer.grounding.unsupported == ["num:10"]


def test_with_the_guard_off_the_invented_answer_goes_out() -> None:
    settings = AnswerSettings(guard=False)
    answer = Answerer(tiny_index(), FixedGenerator("It takes 10 days."), settings=settings).answer("refund?", "en")
    assert answer.kind == GENERATED and answer.text == "It takes 10 days."


def test_nothing_relevant_gives_a_typed_unknown_without_generating() -> None:
    generator = FixedGenerator("anything")
    answer = Answerer(tiny_index(score=0.5), generator).answer("weather in Paris?", "en")
    assert answer.kind == UNKNOWN and answer.text == "" and not generator.prompts


def test_the_model_saying_unknown_gives_unknown() -> None:
    assert Answerer(tiny_index(), FixedGenerator("UNKNOWN")).answer("trains?", "en").kind == UNKNOWN


def test_store_facts_can_ground_an_answer() -> None:
    generator = FixedGenerator("Order #W1234567 was refunded $42.10.")
    answer = Answerer(tiny_index(), generator).answer("my refund?", "en", facts=["#W1234567 refund 42.10"])
    assert answer.kind == GENERATED


def test_the_prompt_is_few_shot_in_the_customers_language() -> None:
    prompt = answer_prompt("退款要多久？", ["退款 / 时间：5到7个工作日。"], "zh")
    assert prompt.count("问题：") == 0 and prompt.count("问题:") == 4 and prompt.endswith("回答:")


def test_answer_async_does_not_block_the_event_loop() -> None:
    answerer = Answerer(tiny_index(), FixedGenerator("It takes 5 to 7 business days.", delay=0.3))

    async def scenario() -> tuple[int, list]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        answers = await asyncio.gather(*(answer_async("refund?", "en", answerer=answerer) for _ in range(2)))
        task.cancel()
        return ticks, answers

    ticks, answers = asyncio.run(scenario())
    assert all(a.kind == GENERATED for a in answers)
    assert ticks > 20  # the loop kept running during 0.6 s of generation


# --- settings ---


def test_settings_default_to_the_local_model_when_sections_are_absent() -> None:
    ai = parse_ai_settings({}, env={})
    assert ai.generation.backend == "llama_cpp" and ai.generation.guard
    assert ai.translation.backend == "generator"


def test_environment_overrides_the_file() -> None:
    raw = {"generation": {"backend": "llama_cpp", "timeout_s": 10}}
    env = {"KEFU_GENERATOR_BACKEND": "openai", "KEFU_GENERATOR_URL": "http://gpu:8000/v1", "KEFU_GENERATOR_GUARD": "0"}
    ai = parse_ai_settings(raw, env=env)
    assert ai.generation.backend == "openai" and ai.generation.url == "http://gpu:8000/v1"
    assert ai.generation.timeout_s == 10.0 and ai.generation.guard is False


@pytest.mark.parametrize(
    "raw",
    [
        {"generation": {"backend": "gpt-9"}},
        {"generation": {"backend": "openai"}},  # no url
        {"generation": {"max_token": 5}},  # typo
        {"translation": {"backend": "google"}},
    ],
)
def test_bad_settings_are_refused(raw: dict) -> None:
    with pytest.raises(ConfigError):
        parse_ai_settings(raw, env={})


# --- OpenAI-compatible HTTP backend against a local server ---


@pytest.fixture()
def completion_server() -> Iterator[tuple[str, List[dict], dict]]:
    requests: List[dict] = []
    behaviour = {"delay": 0.0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            time.sleep(behaviour["delay"])
            payload = {"choices": [{"text": " Within 30 days.\nQuestion: more"}], "usage": {"completion_tokens": 5}}
            data = json.dumps(payload).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test): nothing to answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests, behaviour
    finally:
        server.shutdown()
        server.server_close()


def test_openai_backend_sends_a_bounded_greedy_completion(completion_server) -> None:
    url, requests, _ = completion_server
    result = OpenAIGenerator(url, model="gemma", api_key="k").generate("Q: refund?\nA:", max_tokens=12, stop=["\n"])
    assert result.text == "Within 30 days." and result.tokens == 5 and result.backend == "openai"
    sent = requests[0]
    assert sent["path"] == "/v1/completions" and sent["auth"] == "Bearer k"
    assert sent["body"] == {
        "prompt": "Q: refund?\nA:",
        "max_tokens": 12,
        "temperature": 0,
        "stop": ["\n"],
        "model": "gemma",
    }


def test_openai_backend_falls_back_to_the_local_model_on_timeout(completion_server) -> None:
    url, _, behaviour = completion_server
    behaviour["delay"] = 1.0
    fallback = FixedGenerator("local answer")
    generator = OpenAIGenerator(url, fallback=fallback)
    started = time.monotonic()
    result = generator.generate("prompt", timeout=0.2)
    assert result.text == "local answer" and generator.failures == 1
    assert time.monotonic() - started < 0.9  # the slow server was not waited for
    with pytest.raises(GenerationTimeout):
        OpenAIGenerator(url).generate("prompt", timeout=0.2)


def test_openai_backend_without_a_server_fails_cleanly() -> None:
    with pytest.raises(GenerationError):
        OpenAIGenerator("http://127.0.0.1:9").generate("prompt", timeout=1)


# --- transformers causal LM on a tiny model built here ---


def build_tiny_causal_lm(folder: Path) -> Path:
    """A random 2-layer GPT-2 with a word-level tokenizer trained on a few lines."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    corpus = ["refunds take 5 to 7 business days", "returns within 30 days", "question answer facts"]
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[EOS]"]))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", eos_token="[EOS]")
    config = transformers.GPT2Config(
        vocab_size=fast.vocab_size, n_positions=64, n_embd=16, n_layer=2, n_head=2, eos_token_id=1, bos_token_id=1
    )
    transformers.set_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_transformers_backend_loads_a_local_model_by_path(tmp_path: Path) -> None:
    from kefu.generation.transformers_lm import TransformersGenerator

    folder = build_tiny_causal_lm(tmp_path / "tiny-gpt2")
    generator = TransformersGenerator(folder)
    result = generator.generate("refunds take", max_tokens=6, stop=["\n"], timeout=10)
    assert isinstance(result.text, str) and 1 <= result.tokens <= 6 and result.backend == "transformers"
    again = generator.generate("refunds take", max_tokens=6, timeout=10)
    assert again.text == result.text  # greedy: the same prompt gives the same completion


def test_transformers_backend_reports_a_missing_model(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from kefu.generation.transformers_lm import TransformersGenerator

    with pytest.raises(GenerationError):
        TransformersGenerator(tmp_path / "nothing-here").generate("x", max_tokens=2)


# --- llama.cpp on the packaged gemma-3-270m ---


def test_llama_cpp_backend_completes_a_few_shot_prompt() -> None:
    from kefu.generation.llama_cpp import LlamaCppGenerator, llama_cpp_available

    reason = llama_cpp_available()
    if reason:
        pytest.skip(reason)
    prompt = answer_prompt(
        "How long do refunds take?", ["Refunds / How long: Refunds take 5 to 7 business days."], "en"
    )
    result = LlamaCppGenerator().generate(prompt, max_tokens=16, stop=["\n"], timeout=30)
    assert result.text and "\n" not in result.text and 0 < result.tokens <= 16


def test_an_invented_weekday_is_caught_in_any_language() -> None:
    assert not check_grounding("星期一至星期六", ["周一至周五 9:00至18:00"]).grounded
    assert check_grounding("du lundi au vendredi", ["Monday to Friday"]).grounded


class UpperTranslator(Translator):
    name = "fake-mt"

    def __init__(self, output: str) -> None:
        self.output = output

    def _translate(self, text: str, source: str, target: str) -> Translation:
        return Translation(self.output, machine=True, backend=self.name)


def test_a_translation_that_drops_or_adds_a_fact_is_not_used() -> None:
    generator = FixedGenerator("It takes 5 to 7 business days.")
    good = Answerer(tiny_index(), generator, UpperTranslator("Cela prend 5 à 7 jours ouvrés.")).answer("?", "fr")
    assert good.text == "Cela prend 5 à 7 jours ouvrés." and good.language == "fr" and good.machine_translated
    dropped = Answerer(tiny_index(), generator, UpperTranslator("Cela prend 5 jours.")).answer("?", "fr")
    assert dropped.text == "It takes 5 to 7 business days." and dropped.language == "en"

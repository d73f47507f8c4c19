"""Translator backends: passthrough, few-shot with the generator, transformers seq2seq (issue #5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pytest

from kefu.generation.base import Generation, Generator
from kefu.generation.settings import TranslatorSettings
from kefu.translation.base import TranslationError
from kefu.translation.factory import build_translator
from kefu.translation.generator_prompted import GeneratorPromptedTranslator, build_prompt
from kefu.translation.passthrough import PassthroughTranslator


class EchoGenerator(Generator):
    name = "echo"

    def __init__(self, text: str) -> None:
        self.text, self.prompts = text, []

    def generate(self, prompt: str, max_tokens: int = 64, stop: Sequence[str] = ("\n",), timeout: float = 20.0):
        self.prompts.append(prompt)
        return Generation(self.text, tokens=3, seconds=0.01, backend=self.name)


def test_passthrough_returns_the_text_unmarked() -> None:
    result = PassthroughTranslator().translate("退货", "zh", "en")
    assert result.text == "退货" and not result.machine and result.backend == "passthrough"


def test_same_language_is_never_translated() -> None:
    generator = EchoGenerator("should not be used")
    result = GeneratorPromptedTranslator(generator).translate("Hello", "en", "en")
    assert result.text == "Hello" and not result.machine and not generator.prompts


def test_generator_prompted_translation_is_few_shot_and_marked_as_machine() -> None:
    generator = EchoGenerator("I want to return it.")
    result = GeneratorPromptedTranslator(generator).translate("我想\n退货。", "zh", "en")
    assert result.text == "I want to return it." and result.machine
    prompt = generator.prompts[0]
    assert prompt.count("Chinese: ") == 4 and prompt.endswith("Chinese: 我想 退货。\nEnglish:")


def test_prompts_exist_for_every_pair_of_supported_languages() -> None:
    for source in ("en", "zh", "fr", "es", "de"):
        for target in ("en", "zh", "fr", "es", "de"):
            if source != target:
                assert build_prompt("x", source, target).endswith(":")
    with pytest.raises(TranslationError):
        build_prompt("x", "en", "ja")


def test_factory_builds_each_backend() -> None:
    assert build_translator(TranslatorSettings(backend="passthrough")).name == "passthrough"
    prompted = build_translator(TranslatorSettings(backend="generator"), EchoGenerator("x"))
    assert prompted.name == "generator_prompted:echo"
    with pytest.raises(TranslationError):
        build_translator(TranslatorSettings(backend="seq2seq"))  # no model configured


def build_tiny_marian(folder: Path) -> Path:
    """A random Marian model with sentencepiece vocabularies trained here, saved like a hub model."""
    pytest.importorskip("torch")
    spm = pytest.importorskip("sentencepiece")
    transformers = pytest.importorskip("transformers")
    work = folder.parent / "spm"
    work.mkdir(parents=True, exist_ok=True)
    lines = [
        "where is my order",
        "I want to return the shoes",
        "the refund takes five to seven days",
        "wo ist meine bestellung",
        "ich möchte die schuhe zurückgeben",
        "die erstattung dauert fünf bis sieben tage",
    ] * 20
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(lines), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(work / "spm"), vocab_size=40, model_type="unigram", hard_vocab_limit=False,
        character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1, minloglevel=2,
    )  # fmt: skip
    processor = spm.SentencePieceProcessor(model_file=str(work / "spm.model"))
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for piece in (processor.id_to_piece(i) for i in range(processor.get_piece_size())):
        vocab.setdefault(piece, len(vocab))
    (work / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = transformers.MarianTokenizer(
        vocab=str(work / "vocab.json"), source_spm=str(work / "spm.model"), target_spm=str(work / "spm.model")
    )
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=64, pad_token_id=2, eos_token_id=0, decoder_start_token_id=2,
        forced_eos_token_id=0,
    )  # fmt: skip
    transformers.set_seed(0)
    transformers.MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_seq2seq_translates_with_a_marian_model_loaded_by_path(tmp_path: Path) -> None:
    from kefu.translation.seq2seq import Seq2SeqTranslator

    folder = build_tiny_marian(tmp_path / "opus-mt-tiny-en-de")
    translator = build_translator(TranslatorSettings(backend="seq2seq", models={"en-de": str(folder)}))
    assert isinstance(translator, Seq2SeqTranslator)
    result = translator.translate("where is my order", "en", "de")
    assert isinstance(result.text, str) and result.machine and result.backend == "seq2seq:opus-mt-tiny-en-de"
    assert translator.translate("where is my order", "en", "de").text == result.text  # loaded once, greedy
    with pytest.raises(TranslationError):
        translator.translate("wo ist", "de", "en")  # Marian is one pair: no model for the reverse


def test_seq2seq_reports_a_missing_model(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from kefu.translation.seq2seq import Seq2SeqTranslator

    with pytest.raises(TranslationError):
        Seq2SeqTranslator(tmp_path / "missing").translate("hello", "en", "de")


def test_free_text_is_kept_in_the_original_and_in_english() -> None:
    from kefu.translation.free_text import keep_bilingual

    kept = keep_bilingual("鞋子太小了", "zh", GeneratorPromptedTranslator(EchoGenerator("The shoes are too small")))
    assert kept.original == "鞋子太小了" and kept.english == "The shoes are too small" and kept.machine
    assert kept.as_slot()["language"] == "zh"
    assert keep_bilingual("too small", "en", PassthroughTranslator()).english == "too small"

    class Broken(PassthroughTranslator):
        def _translate(self, text: str, source: str, target: str):
            raise TranslationError("model missing")

    failed = keep_bilingual("trop petit", "fr", Broken())
    assert failed.original == "trop petit" and failed.english is None

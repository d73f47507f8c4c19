"""Build the configured translator (``translation:`` in kefu.yml, see kefu/generation/settings.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Tuple

from kefu.config import settings_version
from kefu.generation.base import Generator
from kefu.generation.settings import TranslatorSettings, ai_settings
from kefu.translation.base import Translator


def build_translator(settings: TranslatorSettings, generator: Generator | None = None) -> Translator:
    if settings.backend == "passthrough":
        from kefu.translation.passthrough import PassthroughTranslator

        return PassthroughTranslator()
    if settings.backend == "seq2seq":
        from kefu.translation.seq2seq import Seq2SeqTranslator

        return Seq2SeqTranslator(settings.model, settings.models)
    if generator is None:
        from kefu.generation.factory import default_generator

        generator = default_generator()
    from kefu.translation.generator_prompted import GeneratorPromptedTranslator

    return GeneratorPromptedTranslator(generator, max_tokens=settings.max_tokens, timeout=settings.timeout_s)


def default_translator() -> Translator:
    """The translator of kefu.yml on the process-wide generator, built again only when the settings change."""
    return _translator(settings_version())


@lru_cache(maxsize=2)
def _translator(version: Tuple[Any, ...]) -> Translator:
    return build_translator(ai_settings().translation)

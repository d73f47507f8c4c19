"""Build generators from settings; the configured one is made once per process, lazily."""

from __future__ import annotations

import threading

from kefu.generation.base import Generator
from kefu.generation.settings import GeneratorSettings, ai_settings

_lock = threading.Lock()
_default: Generator | None = None


def build_local(backend: str, settings: GeneratorSettings) -> Generator:
    if backend == "llama_cpp":
        from kefu.generation.llama_cpp import LlamaCppGenerator

        return LlamaCppGenerator(settings.model or None, threads=settings.threads or None)
    if backend == "transformers":
        from kefu.generation.transformers_lm import TransformersGenerator

        return TransformersGenerator(settings.model)
    raise ValueError(f"not a local generator backend: {backend!r}")


def build_generator(settings: GeneratorSettings) -> Generator:
    """The configured backend; an HTTP backend gets the local fallback it names."""
    if settings.backend != "openai":
        return build_local(settings.backend, settings)
    from kefu.generation.openai_http import OpenAIGenerator

    fallback = None
    if settings.fallback and settings.fallback != "openai":
        # The fallback runs the packaged model: generation.model names the served model here.
        fallback = build_local(settings.fallback, GeneratorSettings(threads=settings.threads))
    return OpenAIGenerator(settings.url, settings.model, settings.api_key, fallback)


def default_generator() -> Generator:
    """The process-wide generator from kefu.yml; models load on the first generate call."""
    global _default
    with _lock:
        if _default is None:
            _default = build_generator(ai_settings().generation)
        return _default

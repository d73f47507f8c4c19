"""Settings of the generator and translator: ``generation:`` and ``translation:`` in kefu.yml.

Both sections are optional: without them Kefu runs gemma-3-270m by llama.cpp and translates
with it. Environment variables override the file (KEFU_GENERATOR_BACKEND, ...) so a deployment
with a GPU server switches backend without editing files, as for the store URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from kefu.config import ConfigError, read_settings_file, settings_version

GENERATOR_BACKENDS = ("llama_cpp", "transformers", "openai")
TRANSLATOR_BACKENDS = ("seq2seq", "generator", "passthrough")


@dataclass(frozen=True)
class GeneratorSettings:
    backend: str = "llama_cpp"
    model: str = ""  # GGUF path (llama_cpp), hub id or folder (transformers), served name (openai)
    url: str = ""  # base URL of an OpenAI-compatible server, e.g. http://gpu-host:8000/v1
    api_key: str = ""
    fallback: str = "llama_cpp"  # backend used when the server fails or times out; "" for none
    max_tokens: int = 64
    timeout_s: float = 20.0
    threads: int = 0  # llama.cpp threads; 0: half the cores
    concurrency: int = 1  # generations at once in the async helper (one CPU model: 1)
    # A free question's wait for the model, queue included; past it the best passage answers.
    answer_budget_s: float = 2.5
    cache_size: int = 256  # answers kept for the same question over the same passages
    warm_up: bool = True  # index and model ready when the action server starts, not at the first question
    guard: bool = True  # the grounding guard; off only to measure it


@dataclass(frozen=True)
class TranslatorSettings:
    backend: str = "generator"
    model: str = ""  # seq2seq hub id or folder (Marian, NLLB, M2M100)
    models: Dict[str, str] = field(default_factory=dict)  # per pair, "zh-en": folder (Marian is one pair)
    max_tokens: int = 160
    timeout_s: float = 30.0


@dataclass(frozen=True)
class AISettings:
    generation: GeneratorSettings
    translation: TranslatorSettings


ENV_GENERATOR = {
    "KEFU_GENERATOR_BACKEND": "backend",
    "KEFU_GENERATOR_MODEL": "model",
    "KEFU_GENERATOR_URL": "url",
    "KEFU_GENERATOR_API_KEY": "api_key",
    "KEFU_GENERATOR_FALLBACK": "fallback",
    "KEFU_GENERATOR_TIMEOUT": "timeout_s",
    "KEFU_GENERATOR_GUARD": "guard",
    "KEFU_ANSWER_BUDGET": "answer_budget_s",
}
ENV_TRANSLATOR = {"KEFU_TRANSLATOR_BACKEND": "backend", "KEFU_TRANSLATOR_MODEL": "model"}


def _coerce(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            return type(default)(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"'{where}' must be a number, not {value!r}") from error
    if isinstance(default, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"'{where}' must be a mapping")
        return {str(k): str(v) for k, v in value.items()}
    return "" if value is None else str(value)


def _section(cls, raw: Mapping[str, Any], env: Mapping[str, str], env_names: Dict[str, str], name: str):
    defaults = cls()
    unknown = set(raw) - set(defaults.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown keys in '{name}': {sorted(unknown)}")
    values = {key: _coerce(raw[key], getattr(defaults, key), f"{name}.{key}") for key in raw}
    for variable, key in env_names.items():
        if env.get(variable):
            values[key] = _coerce(env[variable], getattr(defaults, key), variable)
    return cls(**values)


def parse_ai_settings(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> AISettings:
    env = os.environ if env is None else env
    generation = _section(GeneratorSettings, raw.get("generation") or {}, env, ENV_GENERATOR, "generation")
    translation = _section(TranslatorSettings, raw.get("translation") or {}, env, ENV_TRANSLATOR, "translation")
    if generation.backend not in GENERATOR_BACKENDS:
        raise ConfigError(f"'generation.backend' must be one of {GENERATOR_BACKENDS}, not {generation.backend!r}")
    if generation.fallback and generation.fallback not in GENERATOR_BACKENDS:
        raise ConfigError(f"'generation.fallback' must be one of {GENERATOR_BACKENDS} or empty")
    if translation.backend not in TRANSLATOR_BACKENDS:
        raise ConfigError(f"'translation.backend' must be one of {TRANSLATOR_BACKENDS}")
    if generation.answer_budget_s < 0 or generation.cache_size < 0:
        raise ConfigError("'generation.answer_budget_s' and 'generation.cache_size' must be 0 or more")
    if generation.backend == "openai" and not generation.url:
        raise ConfigError("'generation.url' is required by the openai backend (or set KEFU_GENERATOR_URL)")
    return AISettings(generation=generation, translation=translation)


def load_ai_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> AISettings:
    """Read the two sections from kefu.yml (or KEFU_CONFIG); absent sections take the defaults."""
    return parse_ai_settings(read_settings_file(path), env)


def ai_settings() -> AISettings:
    """kefu.yml's two sections, read again only when the file or the environment changes."""
    return _ai_settings(settings_version())


@lru_cache(maxsize=4)
def _ai_settings(version: Tuple[Any, ...]) -> AISettings:
    return load_ai_settings()

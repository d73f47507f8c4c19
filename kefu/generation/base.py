"""The generator interface: one prompt in, one bounded completion out.

Backends (llama.cpp, transformers, an OpenAI-compatible server) differ in how they load and
run a model; callers only see ``Generator.generate``. Every call is bounded twice, in tokens
and in seconds, because a customer waits for the answer and a runaway completion must not
hold a worker.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass
from typing import Sequence


class GenerationError(RuntimeError):
    """A backend could not produce a completion (model missing, server down, timeout)."""


class GenerationTimeout(GenerationError):
    """The completion did not finish within its time budget."""


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: int  # completion tokens, as counted by the backend's tokenizer
    seconds: float
    backend: str = ""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


class Generator(abc.ABC):
    """A text-completion model. Implementations must be safe to call from several threads."""

    name: str = "generator"

    @abc.abstractmethod
    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        stop: Sequence[str] = ("\n",),
        timeout: float = 20.0,
    ) -> Generation:
        """Complete ``prompt`` greedily, stopping at any of ``stop``, ``max_tokens`` or ``timeout``."""


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Truncate at the first stop sequence: not every backend applies stops itself."""
    cut = len(text)
    for marker in stop:
        index = text.find(marker) if marker else -1
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


class Deadline:
    """A wall-clock budget shared by the steps of one generation."""

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.seconds = seconds

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed)

    def expired(self) -> bool:
        return self.elapsed >= self.seconds

"""The translator interface: dynamic text from one language to another, marked when machine-made.

Fixed responses have authored variants per language in the domain; a translator only covers
what cannot be authored in advance (product names and options, generated answers, passages
without a version in the customer's language). ``Translation.machine`` lets the caller mark
machine-translated text so a customer knows it is not the shop's own wording.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

# Language codes Kefu speaks (ISO 639-1) and their English names, used in prompts and reports.
LANGUAGES = {"en": "English", "zh": "Chinese", "fr": "French", "es": "Spanish", "de": "German"}


class TranslationError(RuntimeError):
    """A backend could not translate (model missing, unsupported pair, timeout)."""


@dataclass(frozen=True)
class Translation:
    text: str
    machine: bool  # False when the text was returned as it came (same language, passthrough)
    backend: str


class Translator(abc.ABC):
    name: str = "translator"

    def translate(self, text: str, source: str, target: str) -> Translation:
        """Translate ``text``; text already in ``target`` comes back unchanged and unmarked."""
        if source == target or not text.strip():
            return Translation(text=text, machine=False, backend=self.name)
        return self._translate(text, source, target)

    @abc.abstractmethod
    def _translate(self, text: str, source: str, target: str) -> Translation: ...


def language_name(code: str) -> str:
    try:
        return LANGUAGES[code]
    except KeyError as error:
        raise TranslationError(f"unsupported language {code!r}; Kefu speaks {sorted(LANGUAGES)}") from error

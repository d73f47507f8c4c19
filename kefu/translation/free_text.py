"""Customer free text that a flow stores or hands to a human: kept in the original and in English.

A complaint or a return reason is evidence: the customer's own words must survive unchanged,
and agents who do not read the customer's language need an English version beside them,
marked as machine-made. A failed translation keeps the original alone rather than losing it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict

from kefu.translation.base import Translator


@dataclass(frozen=True)
class BilingualText:
    original: str
    language: str
    english: str | None  # None when the translation failed
    machine: bool  # True when ``english`` was machine-translated
    backend: str = ""

    def as_slot(self) -> Dict[str, object]:
        """A plain dict, for a Rasa slot or the store's audit log."""
        return asdict(self)


def keep_bilingual(text: str, language: str, translator: Translator) -> BilingualText:
    if language == "en":
        return BilingualText(text, language, text, machine=False)
    try:
        translated = translator.translate(text, language, "en")
    except Exception:  # the original is what matters; an agent can still read it or ask
        return BilingualText(text, language, None, machine=False)
    return BilingualText(text, language, translated.text, translated.machine, translated.backend)

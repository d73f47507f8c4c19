"""The small words that choose ("all", "both", "the original card", "the second one") in every
supported language, from cues.yml."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

import yaml

CUES_PATH = Path(__file__).with_name("cues.yml")
# Scripts written without spaces between words: their cues are found anywhere in the text.
UNSPACED_LANGUAGES = frozenset({"zh"})


def _alternatives(language: str, patterns: Iterable[str]) -> List[str]:
    if language in UNSPACED_LANGUAGES:
        return [f"(?:{p})" for p in patterns]
    return [rf"(?<![\w'])(?:{p})(?![\w'])" for p in patterns]


@lru_cache(maxsize=1)
def _raw() -> Dict[str, Any]:
    return yaml.safe_load(CUES_PATH.read_text(encoding="utf-8"))


@cache
def cue(name: str) -> re.Pattern:
    """One pattern for a cue of cues.yml in all its languages (for lower-cased text)."""
    by_language = _raw()[name]
    return re.compile("|".join(a for lang, patterns in by_language.items() for a in _alternatives(lang, patterns)))


@lru_cache(maxsize=1)
def _ordinals() -> Tuple[re.Pattern, ...]:
    by_language = _raw()["ordinals"]
    places = max(len(places) for places in by_language.values())
    return tuple(
        re.compile(
            "|".join(
                a
                for lang, ordered in by_language.items()
                if place < len(ordered)
                for a in _alternatives(lang, ordered[place])
            )
        )
        for place in range(places)
    )


@cache
def spaced_cue(name: str) -> re.Pattern:
    """The cue with spaces (or the text's ends) around its Latin-script words: a list's "and"
    must not be found in "e-reader" or "Wi-Fi"."""
    by_language = _raw()[name]
    return re.compile(
        "|".join(
            f"(?:{p})" if lang in UNSPACED_LANGUAGES else rf"(?<!\S)(?:{p})(?!\S)"
            for lang, patterns in by_language.items()
            for p in patterns
        )
    )


def says(name: str, text: str) -> bool:
    """Whether the text holds the cue ``name`` ("whole_order", "several", ...)."""
    return bool(cue(name).search((text or "").lower()))


def before_cue(name: str, text: str) -> str:
    """The text up to the first place the cue ``name`` is said (all of it when it is not)."""
    found = cue(name).search((text or "").lower())
    return text[: found.start()] if found else text


def ordinal_in(text: str) -> int | None:
    """The 0-based place "the second one" / "la deuxième" / "第二个" names, the smallest first."""
    lowered = (text or "").lower()
    return next((place for place, pattern in enumerate(_ordinals()) if pattern.search(lowered)), None)

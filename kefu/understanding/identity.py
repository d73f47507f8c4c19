"""A customer's name as they introduce themselves, in the languages of introductions.yml."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Tuple

import yaml

INTRODUCTIONS_PATH = Path(__file__).with_name("introductions.yml")
# A name word: a capital letter, then letters, apostrophes or hyphens ("O'Neil", "Jean-Luc").
_NAME_WORD = r"[^\W\d_a-z][\w'-]*"


@lru_cache(maxsize=1)
def _introductions() -> Tuple[re.Pattern, ...]:
    cues: Dict[str, list] = yaml.safe_load(INTRODUCTIONS_PATH.read_text(encoding="utf-8"))
    patterns = []
    for words in cues.values():
        for cue in sorted(words, key=len, reverse=True):
            spaced = r"\s+".join(re.escape(part) for part in cue.split())
            # The cue in any case ("I'm", "i'm"); the name capitalised.
            # First and last name: a third capitalised word is more often "From" than a middle name.
            name = _NAME_WORD + r"\s+" + _NAME_WORD
            patterns.append(re.compile(r"(?<!\w)(?i:" + spaced + r")\s+(" + name + r")(?![\w'-])"))
    return tuple(patterns)


def introduced_name(text: str) -> str | None:
    """The full name after "my name is", "je m'appelle"...: two capitalised words."""
    for pattern in _introductions():
        match = pattern.search(text or "")
        if match:
            return " ".join(match.group(1).split())
    return None

"""Why a customer cancels, read from their words in any supported language (reasons.yml)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Sequence, Tuple

import yaml

REASONS_PATH = Path(__file__).with_name("reasons.yml")


@lru_cache(maxsize=1)
def _cues() -> Tuple[Tuple[str, re.Pattern], ...]:
    raw: Dict[str, Dict[str, list]] = yaml.safe_load(REASONS_PATH.read_text(encoding="utf-8"))
    return tuple(
        (reason, re.compile("|".join(f"(?:{p})" for words in by_language.values() for p in words)))
        for reason, by_language in raw.items()
    )


def reason_in(text: str, allowed: Sequence[str]) -> str | None:
    """The first of ``allowed`` (kefu.yml's cancel reasons) that the text names or describes."""
    lowered = (text or "").lower()
    for reason in allowed:
        if reason in lowered:
            return reason
    for reason, pattern in _cues():
        if reason in allowed and pattern.search(lowered):
            return reason
    return None

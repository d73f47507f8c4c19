"""Long answers cut into messages a messenger accepts (Telegram 4096, Facebook 2000, Twilio 1600).

A cut falls at the last paragraph break that fits, else the last line break, else the last
sentence end (``.`` ``!`` ``?`` before a space, or ``。`` ``！`` ``？`` anywhere: Chinese has no
spaces), else the last space; only a single word longer than the limit is cut inside. Chunks are
pieces of the text in order with the whitespace at each cut dropped: nothing is lost, nothing
is reordered, and no chunk is empty.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, List, Pattern, Tuple

# Each boundary is (pattern, whether the cut falls at the match's start or end). The whitespace
# around a cut is dropped, so a paragraph break is cut at its start and a sentence after its mark.
_BOUNDARIES: Tuple[Tuple[Pattern[str], bool], ...] = (
    (re.compile(r"\n[^\S\n]*\n"), False),
    (re.compile(r"\n"), False),
    (re.compile(r"[.!?]+[\"'”’)\]」』）]*(?=\s)|[。！？]+[\"'”’)\]」』）]*"), True),
    (re.compile(r"\s"), False),
)


def split_text(text: str, limit: int, units: Callable[[str], int] | None = None) -> List[str]:
    """``text`` in chunks of at most ``limit``; ``units`` sizes one character (one each if None).

    Telegram counts UTF-16 code units, so an emoji there is two (``utf16_units``).
    """
    if limit < 1:
        raise ValueError(f"a message limit must be at least 1, not {limit}")
    measure = units or (lambda _: 1)
    chunks: List[str] = []
    rest = text.strip()
    while rest:
        end = _window(rest, limit, measure)
        cut = len(rest) if end == len(rest) else _cut(rest, end)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return chunks


def utf16_units(char: str) -> int:
    """How many UTF-16 code units a character takes (two beyond the Basic Multilingual Plane)."""
    return 2 if ord(char) > 0xFFFF else 1


def _window(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The length of the longest start of ``text`` whose size is at most ``limit`` (at least one
    character: one larger than the limit alone still moves the cutting on)."""
    size = 0
    for index, char in enumerate(text):
        size += measure(char)
        if size > limit:
            return max(index, 1)
    return len(text)


def _cut(text: str, end: int) -> int:
    """Where to cut ``text`` so that the first chunk fits in ``text[:end]``: the best boundary."""
    for pattern, after in _BOUNDARIES:
        # One character past the window: a sentence may end right at its edge, before a space.
        matches = pattern.finditer(text, 0, end + 1)
        cuts = [match.end() if after else match.start() for match in matches]
        # Something must stay before the cut (the text starts without whitespace, so any cut
        # after 0 leaves some), and what is before it must fit.
        usable = [cut for cut in cuts if 0 < cut <= end]
        if usable:
            return usable[-1]
    return _hard_cut(text, end)


def _hard_cut(text: str, end: int) -> int:
    """A cut inside one over-long word, not between a letter and its combining accent."""
    cut = end
    while cut > 1 and unicodedata.combining(text[cut]):
        cut -= 1
    return cut

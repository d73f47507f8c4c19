"""A customer's message in the catalogue's words, whatever language it is written in.

The catalogue names products and option values in English, and the rules that find them in a
message (kefu/understanding/matching.py) read English words. Rather than teach every rule five
languages, the message is rewritten once: the product names the NLU found (the ``product``
entity, with the characters it covers and its catalogue name) and the option words of
option_words.yml become the catalogue's words. "la brosse à dents électrique existe en noir ?"
reads "la Electric Toothbrush existe en black ?", and every English rule understands it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Tuple

import yaml

from kefu.nlu import HAN_RANGE, SUPPORTED_LANGUAGES

OPTION_WORDS_PATH = Path(__file__).with_name("option_words.yml")
# English is the catalogue's own language: the file lists the others.
LANGUAGES = tuple(code for code in SUPPORTED_LANGUAGES if code != "en")
_HAN = re.compile(f"[{HAN_RANGE}]")

Span = Tuple[int, int, str]


def _key(word: str) -> str:
    return " ".join(word.lower().split())


def load_option_words(path: Path = OPTION_WORDS_PATH) -> Dict[str, str]:
    """Every word of the file (lower case, single spaces) -> its catalogue value.

    A word under an unknown language or under two values is refused with the file's name:
    an operator's slip must not silently change what customers are understood to ask for.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: Dict[str, str] = {}
    for value, by_language in raw.items():
        for language, listed in (by_language or {}).items():
            if language not in LANGUAGES:
                raise ValueError(f"{path.name}: {value}: unknown language {language!r}, use {', '.join(LANGUAGES)}")
            for word in listed or ():
                key = _key(str(word))
                if found.setdefault(key, str(value)) != str(value):
                    raise ValueError(f"{path.name}: {word!r} is listed for {found[key]!r} and for {value!r}")
    return found


def _pattern(word: str) -> str:
    body = r"\s+".join(re.escape(part) for part in word.split())
    # Chinese has no spaces between words: its words are found inside the text.
    return body if _HAN.search(word) else rf"(?<!\w){body}(?!\w)"


@lru_cache(maxsize=1)
def _option_reader() -> Tuple[re.Pattern[str], Dict[str, str]]:
    table = load_option_words()
    # The catalogue values themselves are read too, and left as written: being longer, "rose
    # gold" is then taken before the French "rose" (pink) inside it.
    table.update({_key(value): value for value in set(table.values()) if _key(value) not in table})
    # Longest first: at one place in the text the longest word wins ("bleu marine", not "bleu").
    alternatives = "|".join(_pattern(w) for w in sorted(table, key=len, reverse=True))
    return re.compile(alternatives, re.IGNORECASE), table


def _spaced(value: str, text: str, start: int, end: int) -> str:
    """``value`` to put in place of text[start:end], kept apart from letters next to it.

    Inside Chinese text the English words need spaces, or "T恤黑色" would read "T-Shirtblack".
    """
    before = " " if start > 0 and text[start - 1].isalnum() else ""
    after = " " if end < len(text) and text[end].isalnum() else ""
    return f"{before}{value}{after}"


def _option_words_replaced(text: str) -> str:
    pattern, table = _option_reader()

    def catalogue_value(match: re.Match[str]) -> str:
        written = match.group(0)
        value = table[_key(written)]
        if _key(value) == _key(written):
            return written
        return _spaced(value, match.string, match.start(), match.end())

    return pattern.sub(catalogue_value, text)


def _product_spans(text: str, entities: Iterable[Mapping[str, Any]]) -> List[Span]:
    """(start, end, catalogue name) of the NLU's product entities, without overlaps."""
    spans: List[Span] = []
    for entity in entities:
        start, end, value = entity.get("start"), entity.get("end"), entity.get("value")
        if entity.get("entity") != "product" or not isinstance(value, str) or not value.strip():
            continue
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end, value.strip()))
    # The lookup tables of several languages can find names inside each other ("brosse à
    # dents" in "brosse à dents électrique"): the longest name is the one meant.
    chosen: List[Span] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(span[1] <= other[0] or span[0] >= other[1] for other in chosen):
            chosen.append(span)
    return sorted(chosen)


def in_catalogue_words(text: str, entities: Iterable[Mapping[str, Any]] = (), language: str | None = None) -> str:
    """``text`` with product names and option words replaced by the catalogue's (English) ones.

    ``entities`` are the parsed message's (only ``product`` ones are used: their ``start`` /
    ``end`` span is replaced by their ``value``), ``language`` its detected language code.
    Option words of option_words.yml are replaced wherever they stand as whole words (Latin
    script, any case) or appear at all (Chinese). A message the NLU reads as English is
    returned as it is: English is already the catalogue's language.
    """
    if not text or language == "en":
        return text or ""
    pieces: List[str] = []
    at = 0
    for start, end, value in _product_spans(text, entities):
        pieces += [_option_words_replaced(text[at:start]), _spaced(value, text, start, end)]
        at = end
    pieces.append(_option_words_replaced(text[at:]))
    return "".join(pieces)

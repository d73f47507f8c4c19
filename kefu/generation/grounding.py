"""The grounding guard: every checkable fact in a generated answer must be in what the model was given.

A small model invents numbers fluently ("returns within 14 days"), and in customer service a
wrong number is worse than no answer. The guard extracts the facts it can check mechanically
(numbers, amounts, dates, times, order ids, tracking ids, emails) from the answer and from the
passages and facts given to the model, normalises both sides the same way ("5-7" and "5 to 7",
"$10" and "10.00", "三十" and "30") and reports every fact of the answer that the sources lack.
It cannot check words ("free", "never"); the benchmark measures what that leaves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterable, List, Set

# Boundaries are written as ASCII look-arounds: \b fails between a Chinese character and a digit.
ORDER_ID = re.compile(r"#?(?<![A-Za-z0-9])(W\d{7})(?![0-9])", re.IGNORECASE)
# ASCII only: in Chinese text \w would swallow the words before the address.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
TIME = re.compile(r"(?<![\d.])(\d{1,2})[:h](\d{2})(?!\d)")
# Digits with thousands separators or a decimal part; a sign is never read ("5-7" is a range).
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# "one" is left out as 一 is: mostly a pronoun or article ("the black one"), not a claim.
WORD_NUMBERS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "ninety": 90, "hundred": 100,
}  # fmt: skip
WORD_NUMBER = re.compile(r"\b(" + "|".join(WORD_NUMBERS) + r")\b", re.IGNORECASE)
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# Weekdays (周五, 星期五, 礼拜五) are names, not numbers.
# Weekdays are facts too ("agents work Monday to Saturday" is as wrong as a wrong hour).
WEEKDAYS = {
    "mon": ["monday", "lundi", "lunes", "montag", "周一", "星期一", "礼拜一"],
    "tue": ["tuesday", "mardi", "martes", "dienstag", "周二", "星期二", "礼拜二"],
    "wed": ["wednesday", "mercredi", "miércoles", "mittwoch", "周三", "星期三", "礼拜三"],
    "thu": ["thursday", "jeudi", "jueves", "donnerstag", "周四", "星期四", "礼拜四"],
    "fri": ["friday", "vendredi", "viernes", "freitag", "周五", "星期五", "礼拜五"],
    "sat": ["saturday", "samedi", "sábado", "samstag", "周六", "星期六", "礼拜六"],
    "sun": ["sunday", "dimanche", "domingo", "sonntag", "周日", "周天", "星期日", "星期天", "礼拜天"],
}
ZH_NUMBER = re.compile(r"(?<![周期拜])[零〇一二两三四五六七八九十百千]+")


@dataclass(frozen=True)
class GroundingReport:
    checked: List[str] = field(default_factory=list)  # the answer's facts, normalised
    unsupported: List[str] = field(default_factory=list)  # those absent from every source

    @property
    def grounded(self) -> bool:
        return not self.unsupported


def zh_to_int(text: str) -> int | None:
    """Chinese numerals below 10,000 (三十, 十四, 一百二十, 五) as an int; None if not a number."""
    if not text or any(c not in ZH_DIGITS and c not in "十百千" for c in text):
        return None
    total, digit = 0, None
    for char in text:
        if char in ZH_DIGITS:
            digit = ZH_DIGITS[char]
            continue
        unit = {"十": 10, "百": 100, "千": 1000}[char]
        total += (1 if digit is None else digit) * unit  # 十四: the leading 一 is implicit
        digit = None
    return total + (digit or 0)


def canonical_number(raw: str) -> str | None:
    """'1,000' -> '1000', '10.00' -> '10', '5,99' -> '5.99' (a comma before 3 digits groups thousands)."""
    parts = re.split(r"([.,])", raw)
    text = ""
    for i in range(0, len(parts) - 1, 2):
        digits, sep = parts[i], parts[i + 1]
        follow = parts[i + 2]
        grouping = sep == "," and len(follow) == 3 or sep == "." and len(follow) == 3 and raw.count(".") > 1
        text += digits + ("" if grouping else ".")
    text += parts[-1]
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    normal = value.normalize()
    return format(normal, "f") if normal == normal.to_integral() else str(normal)


def extract_facts(text: str) -> Set[str]:
    """Normalised checkable facts: 'order:W1234567', 'email:..', 'date:2026-11-28', 'num:30', 'day:fri'."""
    facts: Set[str] = set()
    # Ids, emails and dates first, then blanked out so their digits are not re-read as numbers.
    for pattern, kind in ((ORDER_ID, "order"), (EMAIL, "email")):
        for match in pattern.finditer(text):
            value = match.group(1).upper() if kind == "order" else match.group(0).lower()
            facts.add(f"{kind}:{value}")
        text = pattern.sub(" ", text)
    for y, m, d in ISO_DATE.findall(text):
        facts.add(f"date:{int(y):04d}-{int(m):02d}-{int(d):02d}")
    text = ISO_DATE.sub(" ", text)
    for hour, minute in TIME.findall(text):
        facts.add(f"time:{int(hour)}:{minute}")
    text = TIME.sub(" ", text)
    for raw in NUMBER.findall(text):
        number = canonical_number(raw)
        if number is not None:
            facts.add(f"num:{number}")
    for word in WORD_NUMBER.findall(text):
        facts.add(f"num:{WORD_NUMBERS[word.lower()]}")
    lowered = text.lower()
    for day, names in WEEKDAYS.items():
        if any(name in lowered for name in names):
            facts.add(f"day:{day}")
    for zh in ZH_NUMBER.findall(text):
        value = zh_to_int(zh)
        # A lone 一 is usually "a/one" (一个, 一次), not a claim worth checking.
        if value is not None and zh not in {"一", "两"}:
            facts.add(f"num:{value}")
    return facts


def check_grounding(answer: str, sources: Iterable[str]) -> GroundingReport:
    """Which facts of ``answer`` appear in none of ``sources`` (passages, store facts, the question)."""
    given: Set[str] = set()
    for source in sources:
        given |= extract_facts(source)
    claimed = extract_facts(answer)
    return GroundingReport(checked=sorted(claimed), unsupported=sorted(claimed - given))

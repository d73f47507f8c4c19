"""Long answers cut for the messengers: at paragraphs, then lines, sentences, words; nothing lost.

hypothesis is not among Kefu's packages, so the properties are checked on seeded random texts
(the same ones on every run) built from the pieces that matter: spaces, line and paragraph
breaks, Latin and Chinese sentence marks, Chinese text without spaces, emoji, combining accents.
"""

from __future__ import annotations

import random
from typing import Callable, List

import pytest

from kefu.channels.splitting import split_text, utf16_units


def one(_: str) -> int:
    return 1


def check(text: str, chunks: List[str], limit: int, units: Callable[[str], int] = one) -> None:
    """Every chunk fits, none is empty or padded, and they are the text's pieces in order with
    only whitespace between them: nothing lost, nothing moved."""
    assert all(chunk and chunk == chunk.strip() for chunk in chunks)
    assert all(sum(map(units, chunk)) <= limit or len(chunk) == 1 for chunk in chunks)
    position = 0
    for chunk in chunks:
        found = text.index(chunk, position)
        assert text[position:found].strip() == "", "text between chunks was lost"
        position = found + len(chunk)
    assert text[position:].strip() == ""


def test_a_short_answer_is_one_message_and_nothing_is_no_message() -> None:
    assert split_text("Your order #W2378156 was delivered.", 2000) == ["Your order #W2378156 was delivered."]
    assert split_text("  padded \n", 2000) == ["padded"]
    assert split_text("", 10) == [] and split_text(" \n\n\t ", 10) == []


def test_paragraphs_go_first_and_as_many_as_fit_share_a_message() -> None:
    text = "First paragraph.\n\nSecond one, a bit longer.\n\nThird."
    assert split_text(text, 45) == ["First paragraph.\n\nSecond one, a bit longer.", "Third."]
    assert split_text(text, 30) == ["First paragraph.", "Second one, a bit longer.", "Third."]


def test_then_lines_then_sentences_then_words() -> None:
    assert split_text("Your orders:\n1. #W1 delivered\n2. #W2 pending", 30) == [
        "Your orders:\n1. #W1 delivered",
        "2. #W2 pending",
    ]
    # A sentence end before a word boundary, though the window could hold more words.
    assert split_text("One two three. Four five six seven.", 22) == ["One two three.", "Four five six seven."]
    assert split_text("Is it here? Yes! It is.", 12) == ["Is it here?", "Yes! It is."]
    assert split_text("no sentence marks here at all", 12) == ["no sentence", "marks here", "at all"]
    # A dot inside a number or an address is not a sentence end.
    assert split_text("Refunds take 3.5 days via pay.example.com today", 20) == [
        "Refunds take 3.5",
        "days via",
        "pay.example.com",
        "today",
    ]


def test_chinese_is_cut_after_its_sentence_marks_without_spaces() -> None:
    text = "您的订单已发货。预计三天内送达！还有其他问题吗？我们随时为您服务。"
    chunks = split_text(text, 17)
    assert chunks == ["您的订单已发货。预计三天内送达！", "还有其他问题吗？我们随时为您服务。"]
    # Closing quotes stay with their sentence.
    assert split_text("他说：“好的。”然后离开了。", 8) == ["他说：“好的。”", "然后离开了。"]


def test_only_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_text("see https://shop.example.com/orders/W2378156/tracking now", 20) == [
        "see",
        "https://shop.example",
        ".com/orders/W2378156",
        "/tracking now",
    ]
    # Chinese without any mark: cut at the limit (every character is a word there).
    assert split_text("我们随时为您服务我们随时为您服务", 6) == ["我们随时为您", "服务我们随时", "为您服务"]
    # A combining accent stays with its letter.
    assert split_text("cafe\u0301cafe\u0301", 4) == ["caf", "e\u0301ca", "fe\u0301"]


def test_telegram_counts_utf16_units_so_an_emoji_is_two() -> None:
    text = "🙂" * 10
    chunks = split_text(text, 8, utf16_units)
    assert chunks == ["🙂" * 4, "🙂" * 4, "🙂" * 2]
    check(text, chunks, 8, utf16_units)


@pytest.mark.parametrize("limit", [4096, 2000, 1600])
def test_a_ten_thousand_character_answer(limit: int) -> None:
    rng = random.Random(limit)
    paragraphs = []
    while sum(map(len, paragraphs)) < 10_000:
        english = " ".join(f"Item {rng.randint(1, 999)} ships within {rng.randint(1, 9)} days." for _ in range(12))
        chinese = "".join(f"第{rng.randint(1, 99)}件商品将在{rng.randint(1, 9)}天内发货。" for _ in range(10))
        paragraphs.append(rng.choice([english, chinese]))
    text = "\n\n".join(paragraphs)[:10_000]
    chunks = split_text(text, limit)
    check(text, chunks, limit)
    # Packed, not scattered: about as few messages as the limit allows.
    assert len(chunks) <= -(-len(text) // limit) + 2
    # Each message but the last ends at a paragraph or a sentence.
    assert all(chunk[-1] in ".。" for chunk in chunks[:-1])


PIECES = [
    "word",
    "longerword",
    "中文",
    "句子",
    ".",
    "!",
    "?",
    "。",
    "！",
    "？",
    "”",
    " ",
    " ",
    " ",
    "\n",
    "\n\n",
    "🙂",
    "e\u0301",
    "x" * 30,
]


def test_random_texts_keep_every_character_in_order() -> None:
    for seed in range(2000):
        rng = random.Random(seed)
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 120)))
        limit = rng.randint(1, 60)
        try:
            check(text, split_text(text, limit), limit)
            check(text, split_text(text, max(limit, 2), utf16_units), max(limit, 2), utf16_units)
        except AssertionError as error:
            raise AssertionError(f"seed {seed}: {text!r} at {limit}") from error


def test_a_limit_below_one_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_text("hello", 0)

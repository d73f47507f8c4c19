"""Few-shot prompts for grounded answers with a base model (gemma-3-270m has no chat template).

The worked examples are about a fictional shop's loyalty points and pickup hours: topics and
numbers that are not in Kefu's policies, so an answer that copies an example's number is
caught by the grounding guard instead of passing as a fact.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

UNKNOWN_MARKERS = ("UNKNOWN", "未知")

# (facts, question, answer) per language; two examples answer, one shows when not to.
EXAMPLES: Dict[str, List[Tuple[str, str, str]]] = {
    "en": [
        (
            "Loyalty points / Earning points: Every dollar spent earns 2 points. Points expire after 18 months.",
            "How long do my points last?",
            "Your points expire 18 months after you earn them.",
        ),
        (
            "Store pickup / Pickup hours: Orders can be picked up from 8:00 to 20:00, Monday to Saturday.",
            "Can I pick up my order on Sunday?",
            "No, pickup is only possible Monday to Saturday, from 8:00 to 20:00.",
        ),
        (
            "Store pickup / Pickup hours: Orders can be picked up from 8:00 to 20:00, Monday to Saturday.",
            "Do you sell train tickets?",
            "UNKNOWN",
        ),
    ],
    "zh": [
        (
            "会员积分 / 获得积分：每消费1美元获得2积分。积分在18个月后过期。",
            "我的积分能用多久？",
            "您的积分在获得18个月后过期。",
        ),
        (
            "门店自提 / 自提时间：周一至周六8:00至20:00可以自提订单。",
            "周日可以自提吗？",
            "不可以，自提时间为周一至周六8:00至20:00。",
        ),
        (
            "门店自提 / 自提时间：周一至周六8:00至20:00可以自提订单。",
            "你们卖火车票吗？",
            "未知",
        ),
    ],
}
LABELS = {"en": ("Facts", "Question", "Answer"), "zh": ("资料", "问题", "回答")}


def _one_line(text: str) -> str:
    # The completion stops at a newline, so facts and questions must each be one line.
    return " ".join(text.split())


def answer_prompt(question: str, facts: Sequence[str], language: str) -> str:
    """The few-shot prompt in ``language`` (en or zh; others use English and are translated)."""
    lang = language if language in EXAMPLES else "en"
    facts_label, question_label, answer_label = LABELS[lang]
    blocks = [f"{facts_label}: {f}\n{question_label}: {q}\n{answer_label}: {a}\n" for f, q, a in EXAMPLES[lang]]
    given = " ".join(_one_line(f) for f in facts)
    blocks.append(f"{facts_label}: {given}\n{question_label}: {_one_line(question)}\n{answer_label}:")
    return "\n".join(blocks)


def is_unknown(answer: str) -> bool:
    return not answer.strip() or any(marker in answer for marker in UNKNOWN_MARKERS)

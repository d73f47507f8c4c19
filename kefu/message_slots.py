"""What each customer message's parse puts in the conversation's slots.

The NLU pipeline (kefu/nlu) writes ``language``, ``sentiment`` and ``request_type`` into every
parse; these functions turn them into slot values, with the rules that need the conversation:
an unreliable language guess never switches its language, a client's declared language counts
only when it is new, negative messages in a row are counted. They are pure (the parse, the
slots, what the client declared), so Rasa's own process runs them for every message
(kefu/rasa_speedups.py) instead of a round trip to the action server.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, Mapping, Sequence

from kefu.nlu import SUPPORTED_LANGUAGES

# "Change my address" is an order's delivery address unless the customer names the account's
# own (default) address; the NLU taxonomy has one intent for both, the flows differ.
ACCOUNT_ADDRESS = re.compile(
    r"\b(account|profile|default|saved|future orders|all my orders|compte|cuenta|perfil|konto)\b"
    r"|账户|账号|默认",
    re.IGNORECASE,
)


def newly_declared_language(declared: Sequence[str | None]) -> str | None:
    """The language the client declares with its latest message, when it is new in the
    conversation (first message, or the customer switched): a client that repeats it with every
    message must not undo what the customer's own writing chose since.

    ``declared`` holds the declaration of each customer message so far, oldest first.
    """
    if not declared or declared[-1] is None:
        return None
    return declared[-1] if len(declared) == 1 or declared[-2] != declared[-1] else None


def signal_slots(
    parse: Mapping[str, Any], slot: Callable[[str], Any], declared: Sequence[str | None]
) -> Dict[str, Any]:
    """The slot values the message's parse sets: only those that change or are per message."""
    values: Dict[str, Any] = {}
    language = _conversation_language(parse_part(parse, "language"), declared)
    if language is not None and language != slot("language"):
        values["language"] = language
    sentiment = parse_part(parse, "sentiment")
    if sentiment.get("label"):
        values["sentiment"] = sentiment["label"]
        streak = float(slot("negative_streak") or 0)
        values["negative_streak"] = streak + 1 if sentiment["label"] == "negative" else 0.0
    if isinstance(sentiment.get("score"), (int, float)):
        values["sentiment_score"] = float(sentiment["score"])
    request_type = parse_part(parse, "request_type").get("label")
    if request_type:
        values["request_type"] = request_type
    return values


def pending_request(value: Any, text: str) -> Any:
    """The request a ``pending_request`` mapping filled, told apart where one intent covers two."""
    if value == "change_shipping_address" and ACCOUNT_ADDRESS.search(text or ""):
        return "set_up_shipping_address"
    return value


def _conversation_language(detected: Mapping[str, Any], declared: Sequence[str | None]) -> str | None:
    # The written text's language when it is clear, else the one the customer chose in the
    # widget or their messenger declares (the edge keeps only the shop's languages there).
    code = detected.get("code") if detected.get("reliable") else None
    if code not in SUPPORTED_LANGUAGES:
        code = newly_declared_language(declared)
    return code if code in SUPPORTED_LANGUAGES else None


def parse_part(parse: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """One of the NLU's additions to the parse (``language``, ``sentiment``...), {} when absent."""
    value = parse.get(key)
    return value if isinstance(value, Mapping) else {}

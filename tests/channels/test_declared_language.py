"""The language a client declares (the widget's switch, Telegram's language_code) and the
conversation's language: the edge keeps only the shop's languages, the slot takes it when the
text's own language is unclear and the declaration is new."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from kefu.channels.edge import LANGUAGE_METADATA, BadMessage, ChannelEdge, check_sender, declared_language
from kefu.security.settings import SecuritySettings
from kefu.store import SqlStore
from tests.test_message_slots import extract, said


@pytest.mark.parametrize(
    ("tag", "code"),
    [("zh-CN", "zh"), ("fr", "fr"), ("DE", "de"), ("es_MX", "es"), ("en-GB", "en"), ("it", None), ("", None)],
)
def test_a_language_tag_becomes_one_of_the_shops_languages(tag: str, code: str | None) -> None:
    assert declared_language(tag) == code


def test_the_edge_writes_the_declared_language_itself() -> None:
    edge = ChannelEdge(SecuritySettings(), "k" * 32)
    assert edge.metadata({"language": "zh-TW"}, "ip", "1.2.3.4")[LANGUAGE_METADATA] == "zh"
    # A client cannot write Kefu's key directly, nor declare a language the shop does not speak.
    assert LANGUAGE_METADATA not in edge.metadata({LANGUAGE_METADATA: "fr", "language": "ja"}, "ip", "1.2.3.4")


@pytest.mark.parametrize("sender", ["telegram:123456", "Facebook:998877", "whatsapp:+15550001111", "sms:+1555"])
def test_a_rest_client_cannot_name_a_messengers_conversation(sender: str) -> None:
    with pytest.raises(BadMessage, match="messenger"):
        check_sender(sender, SecuritySettings())


UNCLEAR = {"code": "en", "confidence": 0.3, "reliable": False}


def language_slot(declared: List[str | None], detected: Dict[str, Any], slot: str) -> str | None:
    """The language slot Rasa's slot extraction sets after these messages (tests/test_message_slots.py)."""
    messages = [said("hi", metadata={LANGUAGE_METADATA: d} if d else {}, language=detected) for d in declared]
    return extract(messages, language=slot)[0].get("language")


def test_the_first_message_takes_the_declared_language_when_the_text_is_unclear(counted: SqlStore) -> None:
    assert language_slot(["zh"], UNCLEAR, "en") == "zh"


def test_switching_the_widget_to_another_language_switches_the_conversation(counted: SqlStore) -> None:
    assert language_slot(["en", "de"], UNCLEAR, "en") == "de"


def test_a_declaration_repeated_with_every_message_does_not_undo_the_customers_writing(counted: SqlStore) -> None:
    # The customer wrote French (the slot is fr); their app still says "en" with every message.
    assert language_slot(["en", "en"], UNCLEAR, "fr") is None


def test_the_texts_own_clear_language_wins_over_the_declared_one(counted: SqlStore) -> None:
    clear_spanish = {"code": "es", "confidence": 0.99, "reliable": True}
    assert language_slot(["zh"], clear_spanish, "en") == "es"

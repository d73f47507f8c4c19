"""A tokenizer for mixed-language shops: whitespace words, jieba words inside Chinese text."""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from kefu import rasa_resilience, rasa_speedups
from kefu.nlu import HAN_RANGE

# The Rasa server imports this module when it loads Kefu's model (every Kefu pipeline starts with
# this tokenizer; the action server never imports it): the moment to apply the server fix of
# kefu/rasa_speedups.py, the action-response schema checked once instead of on every reply, and
# kefu/rasa_resilience.py, NLU off the event loop and a reply on every failure.
rasa_speedups.apply()
rasa_resilience.apply()

# Chinese runs are what jieba segments.
_HAN_OR_NOT = re.compile(f"[{HAN_RANGE}]+|[^{HAN_RANGE}]+")
_HAN_CHAR = re.compile(f"[{HAN_RANGE}]")
# Full-width punctuation is not a word anywhere; the whitespace rules only know ASCII spacing.
_CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")

# Emoji proper: Rasa's pattern (U+24C2 to U+1F251) also covers full-width letters, Hangul and
# CJK symbols, which it deleted, so "ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？" failed to tokenize at all.
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]+")

_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():  # -> jieba module, initialised once (it builds its prefix dictionary)
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(60)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def split_han(word: str) -> List[str]:
    """Split a whitespace word into jieba words for its Chinese runs, keeping other runs whole."""
    if not _HAN_CHAR.search(word):
        return [word]
    parts: List[str] = []
    for run in _HAN_OR_NOT.findall(word):
        if _HAN_CHAR.match(run):
            parts.extend(piece for piece in _segmenter().cut(run, HMM=True) if piece.strip())
        elif run.strip():
            parts.append(run)
    return parts


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualTokenizer(WhitespaceTokenizer):
    """Rasa's whitespace rules, then jieba inside every run of Chinese characters.

    One tokenizer serves all five languages, so one model handles a conversation that
    switches language, and the sparse featurizers see Chinese words, not whole sentences.
    """

    @staticmethod
    def not_supported_languages() -> List[str] | None:
        return None

    @staticmethod
    def required_packages() -> List[str]:
        return ["jieba"]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualTokenizer:
        return cls(config)

    def remove_emoji(self, text: str) -> str:
        # A word that is all emoji is dropped, as Rasa does; Rasa's pattern also covers CJK
        # ideographs and full-width forms and would drop those too.
        return "" if _EMOJI.fullmatch(text) else text

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute)
        spaced = Message(data={attribute: _CJK_PUNCTUATION.sub(" ", text)})
        words: List[str] = []
        try:
            for token in super().tokenize(spaced, attribute):
                words.extend(split_han(token.text))
            if not words:
                words = [text]
            return self._apply_token_pattern(self._convert_words_to_tokens(words, text))
        except ValueError:
            # A word Rasa's rules changed beyond finding it in the text again: never fail the
            # message, read it as whitespace words (offsets found left to right).
            return self._convert_words_to_tokens(text.split() or [text], text)

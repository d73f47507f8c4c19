"""Which of the shop's languages a message is written in, and how sure that is."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.nlu import HAN_RANGE, SUPPORTED_LANGUAGES

LANGUAGE = "language"
_HAN = re.compile(f"[{HAN_RANGE}]")
_LETTER = re.compile(r"[^\W\d_]")
# Emails, web addresses and order ids are written the same in every language, and their
# letters look English to lingua: a Chinese customer answering with "li.na@example.com" must
# keep the conversation in Chinese.
_LANGUAGE_NEUTRAL = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|#?\b[Ww]\d{7}\b")


def _lingua_detector(codes: List[str]):  # -> lingua.LanguageDetector
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds ``language: {code, confidence, reliable}`` to every message.

    Lingua is restricted to the supported languages: in all-language mode it misreads short
    text. A message is ``reliable`` only when it has enough letters and lingua is confident;
    otherwise the conversation keeps its language (the slot is only updated by reliable
    results, see actions/signals.py), because "ok", "Merci" or "refund pls" say little.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "languages": list(SUPPORTED_LANGUAGES),
            # Fewer letters than this never switch the conversation's language...
            "min_letters": 8,
            # ...nor does a top confidence below this one.
            "min_confidence": 0.5,
            # A message with Chinese characters needs fewer of them: each is a word.
            "min_han_characters": 2,
        }

    @staticmethod
    def required_packages() -> List[str]:
        # Rasa imports these names and also looks them up as distributions, and lingua's
        # distribution is "lingua-language-detector": its import error is clear enough.
        return []

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._codes: List[str] = list(self._config["languages"])
        self._detector = _lingua_detector(self._codes)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config)

    def detect(self, text: str) -> Dict[str, Any]:
        """The most likely language of ``text`` with its confidence and reliability."""
        text = _LANGUAGE_NEUTRAL.sub(" ", text)
        han = len(_HAN.findall(text))
        if han and "zh" in self._codes and han * 2 >= len(_LETTER.findall(text)) - han:
            # Mostly Chinese: lingua agrees, but this needs no model and holds for two characters.
            return {"code": "zh", "confidence": 1.0, "reliable": han >= self._config["min_han_characters"]}
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return {"code": self._codes[0], "confidence": 0.0, "reliable": False}
        best = values[0]
        code = best.language.iso_code_639_1.name.lower()
        reliable = (
            len(_LETTER.findall(text)) >= self._config["min_letters"] and best.value >= self._config["min_confidence"]
        )
        return {"code": code, "confidence": round(float(best.value), 4), "reliable": reliable}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text: str | None = message.get(TEXT)
            if text:
                message.set(LANGUAGE, self.detect(text), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training does not need the language; detection is cheap but pointless there.
        return training_data

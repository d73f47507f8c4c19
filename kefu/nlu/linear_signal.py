"""The shared engine of Kefu's message-level classifiers: logistic regression on e5 vectors.

Sentiment and request type are properties of the whole message, they must work in five
languages with a few hundred examples each, and they run on every message: a linear model
on the multilingual sentence embedding (plus a few hand-made features per component) is
accurate enough, trains in seconds and predicts in microseconds.
"""

from __future__ import annotations

import abc
import pickle
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from kefu import embeddings
from kefu.nlu.e5_featurizer import message_vectors
from kefu.nlu.labelled_data import LabelledExample, file_fingerprint, load_labelled

_MODEL_FILE = "classifier.pkl"


class LinearSignalClassifier(GraphComponent, abc.ABC):
    """Trains on a labelled-examples file; adds ``{label, confidence, ...}`` to each message."""

    # Set by subclasses.
    output_key: str = ""
    data_key: str = ""
    labels: Tuple[str, ...] = ()
    # Settings that change the feature vector: stored with the model, restored on load.
    feature_keys: Tuple[str, ...] = ()

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # The team's labelled examples (see kefu/nlu/labelled_data.py for the format).
            "examples_path": "",
            # Inverse regularisation strength of the logistic regression.
            "C": 1.0,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        # Rasa's training hook may pass the configuration without the defaults merged in.
        return file_fingerprint({**cls.get_default_config(), **config}["examples_path"])

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LogisticRegression | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearSignalClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearSignalClassifier:
        with model_storage.read_from(resource) as directory:
            saved = pickle.loads((directory / _MODEL_FILE).read_bytes())
        # Features are built as at training time, whatever the defaults of this code say now.
        return cls({**config, **saved["feature_config"]}, model_storage, resource, saved["model"])

    # -- features ---------------------------------------------------------------------------

    @abc.abstractmethod
    def extra_features(self, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """Hand-made features beside the embedding, shape (len(texts), k)."""

    def _features(self, vectors: np.ndarray, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        return np.hstack([vectors, self.extra_features(texts, languages)])

    # -- training and prediction -------------------------------------------------------------

    def examples(self) -> List[LabelledExample]:
        return load_labelled(self._config["examples_path"], self.data_key, list(self.labels))

    def fit(self, examples: Sequence[LabelledExample]) -> None:
        texts = [e.text for e in examples]
        features = self._features(embeddings.embed_queries(texts), texts, [e.language for e in examples])
        model = LogisticRegression(C=float(self._config["C"]), max_iter=2000, class_weight="balanced")
        model.fit(features, [e.label for e in examples])
        self._model = model

    def train(self, training_data: TrainingData) -> Resource:
        # The NLU training data has no such labels: the component learns from its own file.
        self.fit(self.examples())
        with self._model_storage.write_to(self._resource) as directory:
            saved = {"model": self._model, "feature_config": {k: self._config.get(k) for k in self.feature_keys}}
            (directory / _MODEL_FILE).write_bytes(pickle.dumps(saved))
        return self._resource

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """Class probabilities, columns in the order of ``self.labels``."""
        if self._model is None:
            raise RuntimeError(f"{type(self).__name__} is not trained")
        raw = self._model.predict_proba(self._features(vectors, texts, languages))
        order = [list(self._model.classes_).index(label) for label in self.labels]
        return raw[:, order]

    @abc.abstractmethod
    def describe(self, probabilities: np.ndarray) -> Dict[str, Any]:
        """The output of one message from its class probabilities."""

    def process(self, messages: List[Message]) -> List[Message]:
        messages_with_text = [m for m in messages if m.get("text")]
        if not messages_with_text or self._model is None:
            return messages
        texts = [m.get("text") for m in messages_with_text]
        languages = [(m.get("language") or {}).get("code", "en") for m in messages_with_text]
        probabilities = self.probabilities(message_vectors(messages_with_text), texts, languages)
        for message, row in zip(messages_with_text, probabilities, strict=False):
            message.set(self.output_key, self.describe(row), add_to_output=True)
        return messages

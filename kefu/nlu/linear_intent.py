"""Kefu's intent classifier: a linear model on words, character n-grams and e5 vectors."""

from __future__ import annotations

import pickle
from typing import Any, Dict, List, Sequence

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from kefu.nlu.e5_featurizer import message_vectors

_FILE = "linear_intent.pkl"
# Output key: what each classifier said before the blend (for designers and the benchmark).
INTENT_VOTES = "intent_votes"
_VOTES_LISTED = 5


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """A calibrated linear SVM on tf-idf words, tf-idf character n-grams and the e5 vector.

    Customers of one shop say the same few dozen things in endless wordings. On Kefu's data
    a linear model on sparse n-grams plus the multilingual sentence vector generalises to
    unseen wordings and to other languages better than DIET with the same e5 features (which
    fits its training phrasings closely; README, "NLU"), and it trains in seconds, so a
    designer's edit costs nothing. Probabilities come from Platt scaling fitted on
    cross-validated decisions, so the FallbackClassifier's threshold keeps its meaning.

    When another intent classifier (DIET, say) is placed before it in the pipeline, the two
    rankings are blended: ``earlier_weight`` of the earlier confidence, the rest of this one's.
    ``intent_votes`` in the output shows each classifier's own top intents.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Character n-grams inside word boundaries: typos, inflections, Chinese characters.
            "char_ngram_range": [2, 4],
            # Character n-grams seen in fewer training messages are noise.
            "char_min_df": 2,
            # Word n-grams over the pipeline's tokens (jieba words in Chinese).
            "word_ngram_range": [1, 2],
            # Scale of the e5 vector against the unit-length tf-idf blocks.
            "e5_weight": 2.0,
            # SVM regularisation (larger fits the training phrasings more closely).
            "C": 1.0,
            # Folds of the cross-validation that fits the probability calibration.
            "calibration_folds": 3,
            # Share of an earlier classifier's confidence in the blend (when there is one).
            "earlier_weight": 0.5,
            # Intents listed in the ranking, as Rasa's classifiers do.
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        fitted: Dict[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._fitted = fitted

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                fitted = pickle.loads((directory / _FILE).read_bytes())
        except ValueError:
            # Nothing was persisted: the training data had fewer than two intents.
            fitted = None
        return cls(config, model_storage, resource, fitted)

    # -- features ---------------------------------------------------------------------------

    @staticmethod
    def _words(message: Message) -> str:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        return " ".join(token.text.lower() for token in tokens) if tokens else (message.get(TEXT) or "").lower()

    def _features(self, messages: Sequence[Message], fitted: Dict[str, Any]) -> scipy.sparse.csr_matrix:
        texts = [message.get(TEXT) or "" for message in messages]
        blocks = [
            fitted["chars"].transform(texts),
            fitted["words"].transform([self._words(m) for m in messages]),
            scipy.sparse.csr_matrix(message_vectors(list(messages)) * float(self._config["e5_weight"])),
        ]
        return scipy.sparse.hstack(blocks).tocsr()

    # -- training ---------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            return self._resource
        fitted: Dict[str, Any] = {
            "chars": TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self._config["char_ngram_range"]),
                min_df=int(self._config["char_min_df"]),
                sublinear_tf=True,
            ).fit([m.get(TEXT) for m in examples]),
            "words": TfidfVectorizer(
                analyzer="word",
                token_pattern=r"(?u)\S+",
                ngram_range=tuple(self._config["word_ngram_range"]),
                sublinear_tf=True,
            ).fit([self._words(m) for m in examples]),
        }
        features, targets = self._features(examples, fitted), np.asarray(labels)
        folds = min(int(self._config["calibration_folds"]), min(labels.count(label) for label in set(labels)))
        svm = LinearSVC(C=float(self._config["C"]))
        if folds >= 2:
            model = CalibratedClassifierCV(svm, cv=folds, method="sigmoid", ensemble=False)
        else:
            # Too few examples of some intent to calibrate: Platt scaling on the training fit.
            model = CalibratedClassifierCV(svm.fit(features, targets), cv="prefit", method="sigmoid")
        fitted["model"] = model.fit(features, targets)
        self._fitted = fitted
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _FILE).write_bytes(pickle.dumps(fitted))
        return self._resource

    # -- prediction -------------------------------------------------------------------------

    def probabilities(self, messages: Sequence[Message]) -> List[Dict[str, float]]:
        """This classifier's own probability of every intent, one dict per message."""
        if self._fitted is None:
            return [{} for _ in messages]
        model = self._fitted["model"]
        rows = model.predict_proba(self._features(messages, self._fitted))
        return [dict(zip(model.classes_, map(float, row), strict=True)) for row in rows]

    def _blend(self, own: Dict[str, float], earlier: List[Dict[str, Any]]) -> Dict[str, float]:
        weight = float(self._config["earlier_weight"]) if earlier else 0.0
        previous = {r[INTENT_NAME_KEY]: float(r[PREDICTED_CONFIDENCE_KEY]) for r in earlier}
        # Rasa's classifiers list only their top intents: the others count as 0 on that side.
        names = set(own) | set(previous)
        return {name: weight * previous.get(name, 0.0) + (1 - weight) * own.get(name, 0.0) for name in names}

    def _votes(self, own: Dict[str, float], earlier: List[Dict[str, Any]]) -> Dict[str, Any]:
        top_own = sorted(own.items(), key=lambda item: item[1], reverse=True)[:_VOTES_LISTED]
        top_earlier = [(r[INTENT_NAME_KEY], float(r[PREDICTED_CONFIDENCE_KEY])) for r in earlier[:_VOTES_LISTED]]
        return {
            "linear": [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: round(c, 4)} for n, c in top_own],
            "earlier": [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: round(c, 4)} for n, c in top_earlier],
            "earlier_weight": float(self._config["earlier_weight"]) if earlier else 0.0,
        }

    def process(self, messages: List[Message]) -> List[Message]:
        # Every message gets an intent, a blank one too: the FallbackClassifier after this one
        # reads it (and turns a low confidence into nlu_fallback).
        if not messages or self._fitted is None:
            return messages
        for message, own in zip(messages, self.probabilities(messages), strict=True):
            earlier = message.get(INTENT_RANKING_KEY) or []
            blended = self._blend(own, earlier)
            ranking = sorted(blended.items(), key=lambda item: item[1], reverse=True)
            ranking = ranking[: int(self._config["ranking_length"])]
            listed = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: round(score, 6)} for name, score in ranking]
            message.set(INTENT, listed[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, listed, add_to_output=True)
            message.set(INTENT_VOTES, self._votes(own, earlier), add_to_output=True)
        return messages

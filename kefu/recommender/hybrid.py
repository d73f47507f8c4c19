"""Kefu's recommender: a weighted blend of repeat purchases, co-purchase, content and popularity.

Each component's scores are standardised per row (z-scores) before blending, so weights
compare signals, not scales. Two weight sets: one for lists that may repeat past purchases and one for
"new products only"; both are tuned on a validation split (``tune_weights``), never on the test.
A customer with no history gets popularity.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from kefu.recommender.base import (
    BOUGHT_BEFORE,
    Explanation,
    Interactions,
    Recommender,
    row_standardise,
)
from kefu.recommender.collaborative import Als, Ease, ItemKnn
from kefu.recommender.content import ContentSimilarity
from kefu.recommender.popularity import Popularity, RepeatPurchases, Trending

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS_WITH_BOUGHT = {
    "repeat": 1.0,
    "ease": 0.3,
    "item_knn": 0.1,
    "content": 0.1,
    "popularity": 0.1,
    "trending": 0.1,
}
DEFAULT_WEIGHTS_NEW_ONLY = {
    "repeat": 0.0,
    "ease": 1.0,
    "item_knn": 0.3,
    "content": 0.1,
    "popularity": 0.0,
    "trending": 0.3,
}


class Hybrid(Recommender):
    name = "hybrid"

    def __init__(
        self,
        components: Sequence[Recommender],
        weights_with_bought: Mapping[str, float] = DEFAULT_WEIGHTS_WITH_BOUGHT,
        weights_new_only: Mapping[str, float] = DEFAULT_WEIGHTS_NEW_ONLY,
    ) -> None:
        self.components: Dict[str, Recommender] = {c.name: c for c in components}
        self.weights = {True: dict(weights_new_only), False: dict(weights_with_bought)}

    def _fit(self, data: Interactions) -> None:
        prepared = (self.users, self.user_items)
        for component in self.components.values():
            component.fit(data, self.catalogue, prepared)
            if self.on_step is not None:
                self.on_step(component.name)
        self.popularity = Popularity().fit(data, self.catalogue, prepared)

    on_step: Callable[[str], None] | None = None  # told each fitted component (progress bars)

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("on_step", None)  # a progress bar does not belong in the artefact
        return state

    def component_scores(self, histories: sp.csr_matrix, users: Sequence[int] | None) -> Dict[str, np.ndarray]:
        """Each component's normalised scores (the tuner blends these without recomputing them)."""
        return {name: row_standardise(component.score(histories, users)) for name, component in self.components.items()}

    def score(
        self, histories: sp.csr_matrix, users: Sequence[int] | None = None, exclude_bought: bool = True
    ) -> np.ndarray:
        parts = self.component_scores(histories, users)
        blended = blend(parts, self.weights[exclude_bought])
        return self.cold_start(histories, blended)

    def cold_start(self, histories: sp.csr_matrix, blended: np.ndarray) -> np.ndarray:
        """Rows without history: popularity, whatever the blend says."""
        empty = np.diff(sp.csr_matrix(histories).indptr) == 0
        if empty.any():
            blended[empty] = self.popularity.normalised
        return blended

    def explain_many(
        self, history: sp.csr_matrix, users: Sequence[int] | None, products: Sequence[int], exclude_bought: bool
    ) -> List[Explanation]:
        """The component that added most to each product's score gives the reason."""
        if history.nnz == 0:
            return [self.popularity.explain(history, p) for p in products]
        weights = self.weights[exclude_bought]
        parts = self.component_scores(history, users)
        reasons = []
        for product in products:
            name = max(parts, key=lambda n: weights.get(n, 0.0) * parts[n][0, product])
            reason, with_item, params = self.components[name].explain(history, product)
            if reason == BOUGHT_BEFORE:
                params = {"times": int(round(float(history[0, product])))}
            reasons.append((reason, with_item, params))
        return reasons


def blend(parts: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    total = None
    for name, scores in parts.items():
        weight = weights.get(name, 0.0)
        if weight:
            total = weight * scores if total is None else total + weight * scores
    return total if total is not None else np.zeros_like(next(iter(parts.values())))


def build_hybrid(
    embeddings: np.ndarray | None = None,
    ease_l2: float = 500.0,
    knn_neighbours: int = 100,
    half_life_days: float | None = 365.0,
    co_purchase_half_life_days: float | None = 30.0,
    trending_half_life_days: float = 14.0,
    collaborative: Sequence[str] = ("ease", "item_knn"),
    content: bool = True,
    weights_with_bought: Mapping[str, float] = DEFAULT_WEIGHTS_WITH_BOUGHT,
    weights_new_only: Mapping[str, float] = DEFAULT_WEIGHTS_NEW_ONLY,
) -> Hybrid:
    """The shop's and the benchmark's hybrid; ``collaborative`` names the co-purchase models used."""
    makers: Dict[str, Callable[[], Recommender]] = {
        "ease": lambda: Ease(ease_l2, co_purchase_half_life_days),
        "item_knn": lambda: ItemKnn(knn_neighbours, half_life_days=co_purchase_half_life_days),
        "als": Als,
    }
    components: List[Recommender] = [RepeatPurchases(half_life_days), Popularity(), Trending(trending_half_life_days)]
    components += [makers[name]() for name in collaborative if name != "als" or _implicit_installed()]
    if content:
        components.append(ContentSimilarity(embeddings))
    return Hybrid(components, weights_with_bought, weights_new_only)


Metric = Callable[[np.ndarray], float]

STEPS = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def tune_weights(parts: Mapping[str, np.ndarray], metric: Metric, start: Mapping[str, float], rounds: int = 2):
    """Coordinate ascent over each component's weight, the others held; ``metric`` scores a blend.

    Returns the best weights and their metric. Cheap: the component scores are computed once.
    """
    best = {name: float(start.get(name, 0.0)) for name in parts}
    best_value = metric(blend(parts, best))
    for _ in range(rounds):
        improved = False
        for name in parts:
            for step in STEPS:
                trial = dict(best, **{name: step})
                if trial == best or not any(trial.values()):
                    continue
                value = metric(blend(parts, trial))
                if value > best_value + 1e-6:
                    best, best_value, improved = trial, value, True
        if not improved:
            break
    return best, best_value


def _implicit_installed() -> bool:
    """ALS is an optional backend: without the `implicit` package the hybrid goes on without it."""
    try:
        import implicit  # noqa: F401
    except ImportError:
        logger.warning("recommender: 'als' is configured but the implicit package is not installed; skipped")
        return False
    return True

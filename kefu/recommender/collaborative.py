"""Collaborative models: what customers with similar baskets bought.

EASE (a linear item-to-item model with a closed-form solution) and item-kNN (cosine of
co-purchase) are implemented here; matrix factorisation is the ALS of the `implicit`
package, an optional backend imported only when chosen.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from kefu.recommender.base import BOUGHT_TOGETHER, Explanation, Interactions, Recommender
from kefu.recommender.popularity import recency_weights


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Bought or not: repeat counts are the repeat model's business, not co-purchase's."""
    result = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    result.data[:] = 1.0
    result.eliminate_zeros()
    return result


class ItemItem(Recommender):
    """A model whose score is history x item-item weights; explains by the strongest pair.

    With ``half_life_days`` a known customer's recent orders weigh more in the history
    (what goes with the last basket matters more than what went with one a year ago).
    """

    reason = BOUGHT_TOGETHER
    weights: np.ndarray  # products x products, row = bought product, column = suggested one
    half_life_days: float | None = None

    def fit(self, data: Interactions, catalogue, prepared=None) -> Recommender:  # type: ignore[no-untyped-def]
        super().fit(data, catalogue, prepared)
        if self.half_life_days is not None:
            self.user_weights = recency_weights(data, self.users, catalogue.index, self.half_life_days)
        return self

    def score(
        self, histories: sp.csr_matrix, users: Sequence[int] | None = None, exclude_bought: bool = True
    ) -> np.ndarray:
        if users is not None and self.half_life_days is not None:
            return np.asarray(self.user_weights[list(users)] @ self.weights, dtype=np.float32)
        return np.asarray(binary(histories) @ self.weights, dtype=np.float32)

    def explain(self, history: sp.csr_matrix, product: int) -> Explanation:
        bought = history.indices
        if len(bought) == 0:
            return self.reason, None, {}
        contributions = self.weights[bought, product]
        return self.reason, int(bought[int(np.argmax(contributions))]), {}


class Ease(ItemItem):
    """Steck's EASE: B = I - P / diag(P) with P = (X'X + lambda I)^-1, diagonal forced to zero."""

    name = "ease"

    def __init__(self, l2: float = 500.0, half_life_days: float | None = None) -> None:
        self.l2 = l2
        self.half_life_days = half_life_days

    def _fit(self, data: Interactions) -> None:
        x = binary(self.user_items)
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights.astype(np.float32)


class ItemKnn(ItemItem):
    """Cosine similarity of co-purchase, the ``neighbours`` strongest per product kept."""

    name = "item_knn"

    def __init__(self, neighbours: int = 100, shrink: float = 10.0, half_life_days: float | None = None) -> None:
        self.neighbours = neighbours
        self.shrink = shrink
        self.half_life_days = half_life_days

    def _fit(self, data: Interactions) -> None:
        x = binary(self.user_items)
        co = np.asarray((x.T @ x).toarray(), dtype=np.float32)
        norms = np.sqrt(np.diag(co))
        # Shrinkage damps similarities resting on two or three shared customers.
        similarity = co / (np.outer(norms, norms) + self.shrink)
        np.fill_diagonal(similarity, 0.0)
        k = min(self.neighbours, similarity.shape[0] - 1)
        if 0 < k < similarity.shape[0] - 1:
            # Keep, for every suggested product (column), its k most similar bought products.
            cut = np.partition(similarity, -k, axis=0)[-k][None, :]
            similarity[similarity < cut] = 0.0
        self.weights = similarity


class Als(Recommender):
    """Implicit-feedback matrix factorisation (Hu, Koren, Volinsky) by the `implicit` package."""

    name = "als"
    reason = BOUGHT_TOGETHER

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 2.0, iterations: int = 15):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations

    def _fit(self, data: Interactions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares  # optional backend: imported when chosen
        from threadpoolctl import threadpool_limits

        # implicit runs its own threads; a second, BLAS-level pool only makes them fight.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=0,
            )
            model.fit(sp.csr_matrix(self.user_items, dtype=np.float32), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def score(
        self, histories: sp.csr_matrix, users: Sequence[int] | None = None, exclude_bought: bool = True
    ) -> np.ndarray:
        if users is not None:
            return self.user_factors[list(users)] @ self.item_factors.T
        return self.fold_in(histories) @ self.item_factors.T

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """User factors for histories the model never saw: one weighted least-squares solve each."""
        y = self.item_factors
        gram = y.T @ y
        result = np.zeros((histories.shape[0], y.shape[1]), dtype=np.float32)
        for r in range(histories.shape[0]):
            row = histories.getrow(r)
            items, counts = row.indices, row.data
            if len(items) == 0:
                continue
            confidence = self.alpha * counts  # c - 1 for the observed products
            ya = y[items]
            a = gram + (ya.T * confidence) @ ya + self.regularization * np.eye(y.shape[1])
            b = ya.T @ (1.0 + confidence)
            result[r] = np.linalg.solve(a, b)
        return result

    def explain(self, history: sp.csr_matrix, product: int) -> Explanation:
        bought = history.indices
        if len(bought) == 0:
            return self.reason, None, {}
        closeness = self.item_factors[bought] @ self.item_factors[product]
        return self.reason, int(bought[int(np.argmax(closeness))]), {}

"""The recommender interface, its input data and its answer.

Every model scores a *history* (a sparse row of weights over the catalogue: a customer's past
purchases, one product, or a basket), so "for a customer", "for an item" and "for a basket" are
one operation. Filters (stock, basket, returns, already bought) are applied here, once, for all.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from kefu.store.records import Product, Variant

# Reason codes: the library never words a reason, actions do (in the customer's language).
BOUGHT_BEFORE = "bought_before"
BOUGHT_TOGETHER = "bought_together"
SIMILAR_TO = "similar_to"
POPULAR = "popular"

Explanation = Tuple[str, "int | None", Dict[str, Any]]


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    item_id: str  # the variant to suggest: always an available one
    score: float
    reason: str  # one of the reason codes above
    with_item: str | None = None  # product id the reason refers to ("bought together with ...")
    params: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Interactions:
    """Purchases as parallel arrays: one row per (customer, product, order)."""

    customers: np.ndarray  # str ids
    products: np.ndarray  # str ids
    orders: np.ndarray  # str ids
    days: np.ndarray  # float, days since any fixed origin; only differences matter

    @staticmethod
    def from_rows(rows: Iterable[Tuple[str, str, str, float]]) -> Interactions:
        listed = list(rows)
        columns = list(zip(*listed, strict=True)) if listed else [(), (), (), ()]
        return Interactions(
            customers=np.asarray(columns[0], dtype=object),
            products=np.asarray(columns[1], dtype=object),
            orders=np.asarray(columns[2], dtype=object),
            days=np.asarray(columns[3], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.customers)

    def subset(self, mask: np.ndarray) -> Interactions:
        return Interactions(self.customers[mask], self.products[mask], self.orders[mask], self.days[mask])


class Catalogue:
    """Products in a fixed column order, with their availability, for every model of one fit."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.products: Tuple[Product, ...] = tuple(products)
        self.ids: Tuple[str, ...] = tuple(p.id for p in self.products)
        self.index: Dict[str, int] = {pid: i for i, pid in enumerate(self.ids)}
        self.available = np.array([bool(p.available_variants) for p in self.products], dtype=bool)

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, i: int) -> str:
        """What content similarity reads: the name and every option value the product comes in."""
        product = self.products[i]
        values: List[str] = []
        for variant in product.variants:
            values += [v for v in variant.options.values() if v not in values]
        return f"{product.name}: {', '.join(values)}" if values else product.name

    def history(self, product_weights: Mapping[str, float]) -> sp.csr_matrix:
        """A one-row history; products the model never saw are ignored."""
        row = np.zeros(len(self), dtype=np.float32)
        for pid, weight in product_weights.items():
            if pid in self.index:
                row[self.index[pid]] += weight
        return sp.csr_matrix(row)


@dataclass(frozen=True)
class Exclusions:
    """What must never be suggested in this conversation (besides unavailable variants)."""

    products: frozenset = frozenset()  # in the basket / current order, just returned
    items: frozenset = frozenset()  # variant ids (e.g. the exact item in the order)


def user_matrix(data: Interactions, catalogue: Catalogue) -> Tuple[List[str], sp.csr_matrix]:
    """Customers x products: how many distinct orders of the customer hold the product."""
    keep = np.array([p in catalogue.index for p in data.products], dtype=bool)
    data = data.subset(keep)
    users = sorted(set(data.customers.tolist()))
    user_index = {u: i for i, u in enumerate(users)}
    pairs = {
        (user_index[c], catalogue.index[p], o)
        for c, p, o in zip(data.customers, data.products, data.orders, strict=True)
    }
    rows = np.fromiter((r for r, _, _ in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((c for _, c, _ in pairs), dtype=np.int64, count=len(pairs))
    matrix = sp.csr_matrix((np.ones(len(pairs), dtype=np.float32), (rows, cols)), shape=(len(users), len(catalogue)))
    matrix.sum_duplicates()
    return users, matrix


class Recommender(abc.ABC):
    """Fit on purchases and a catalogue; score histories; recommend with filters applied."""

    name = "recommender"
    reason = POPULAR

    def fit(
        self, data: Interactions, catalogue: Catalogue, prepared: Tuple[List[str], sp.csr_matrix] | None = None
    ) -> Recommender:
        """Learn; ``prepared`` is ``user_matrix(data, catalogue)`` when the caller already has it."""
        self.catalogue = catalogue
        self.users, self.user_items = prepared or user_matrix(data, catalogue)
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self._fit(data)
        return self

    @abc.abstractmethod
    def _fit(self, data: Interactions) -> None:
        """Learn from ``self.user_items`` (and ``data`` for models that need order times)."""

    @abc.abstractmethod
    def score(
        self, histories: sp.csr_matrix, users: Sequence[int] | None = None, exclude_bought: bool = True
    ) -> np.ndarray:
        """Scores (len(histories) x products); ``users`` are row numbers of known customers, if any.

        ``exclude_bought`` tells a model that bought products will be filtered out, for models
        that weigh their signals differently then (the hybrid); the others ignore it.
        """

    def explain(self, history: sp.csr_matrix, product: int) -> Explanation:
        """The reason code, the history product it refers to (None when none) and parameters."""
        return self.reason, None, {}

    def explain_many(
        self, history: sp.csr_matrix, users: Sequence[int] | None, products: Sequence[int], exclude_bought: bool
    ) -> List[Explanation]:
        return [self.explain(history, p) for p in products]

    # The public API: three ways to ask, one scoring path.

    def recommend(
        self, customer_id: str, n: int = 5, exclusions: Exclusions = Exclusions(), exclude_bought: bool = True
    ) -> List[Recommendation]:
        """For a known customer from their history; an unknown one gets what the model does with none."""
        row = self.user_index.get(customer_id)
        history = self.user_items[row] if row is not None else sp.csr_matrix((1, len(self.catalogue)))
        users = [row] if row is not None else None
        bought = set(history.indices.tolist()) if exclude_bought else set()
        return self._answer(history, users, n, exclusions, bought)

    def recommend_for_history(
        self,
        bought: Mapping[str, float],
        n: int = 5,
        exclusions: Exclusions = Exclusions(),
        exclude_bought: bool = True,
    ) -> List[Recommendation]:
        """For a history given by the caller (product id -> weight), e.g. read live from the store."""
        history = self.catalogue.history(bought)
        already = set(history.indices.tolist()) if exclude_bought else set()
        return self._answer(history, None, n, exclusions, already)

    def recommend_for_item(
        self, product_id: str, n: int = 5, exclusions: Exclusions = Exclusions()
    ) -> List[Recommendation]:
        return self.recommend_for_basket([product_id], n, exclusions)

    def recommend_for_basket(
        self, product_ids: Sequence[str], n: int = 5, exclusions: Exclusions = Exclusions()
    ) -> List[Recommendation]:
        """What goes with these products; the products themselves are never suggested."""
        exclusions = Exclusions(exclusions.products | frozenset(product_ids), exclusions.items)
        return self._answer(self.catalogue.history({p: 1.0 for p in product_ids}), None, n, exclusions, set())

    def _answer(
        self,
        history: sp.csr_matrix,
        users: Sequence[int] | None,
        n: int,
        exclusions: Exclusions,
        bought: set,
    ) -> List[Recommendation]:
        scores = self.score(history, users, exclude_bought=bool(bought))[0].astype(np.float64)
        allowed = self.allowed_mask(exclusions)
        allowed[list(bought)] = False
        scores[~allowed] = -np.inf
        chosen = []
        for i in top_n(scores, n + len(exclusions.items)):
            variant = pick_variant(self.catalogue.products[i], exclusions) if np.isfinite(scores[i]) else None
            if variant is not None and len(chosen) < n:
                chosen.append((int(i), variant))
        reasons = self.explain_many(history, users, [i for i, _ in chosen], bool(bought))
        return [
            Recommendation(
                product_id=self.catalogue.ids[i],
                item_id=variant.item_id,
                score=float(scores[i]),
                reason=reason,
                with_item=self.catalogue.ids[with_index] if with_index is not None else None,
                params=params,
            )
            for (i, variant), (reason, with_index, params) in zip(chosen, reasons, strict=True)
        ]

    def allowed_mask(self, exclusions: Exclusions) -> np.ndarray:
        allowed = self.catalogue.available.copy()
        for pid in exclusions.products:
            if pid in self.catalogue.index:
                allowed[self.catalogue.index[pid]] = False
        return allowed


def pick_variant(product: Product, exclusions: Exclusions) -> Variant | None:
    """An available variant that is not excluded; the first one in catalogue order."""
    for variant in product.variants:
        if variant.available and variant.item_id not in exclusions.items:
            return variant
    return None


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first (argpartition: the catalogue may be large)."""
    n = min(n, scores.shape[-1])
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def row_standardise(scores: np.ndarray) -> np.ndarray:
    """Each row as z-scores, so that blended components weigh alike whatever their scale.

    Chosen on validation over dividing by the row maximum: one outlier score no longer
    flattens the rest of a component's ranking.
    """
    scores = np.asarray(scores, dtype=np.float32)
    spread = scores.std(axis=1, keepdims=True)
    spread[spread <= 0] = 1.0
    return (scores - scores.mean(axis=1, keepdims=True)) / spread

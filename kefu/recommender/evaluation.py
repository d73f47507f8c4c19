"""Offline evaluation: hold out each customer's last order, rank the whole catalogue, score top-k.

Used by the benchmark (test split) and by weight tuning (a validation split cut from the
training part, so that the test is never looked at while choosing weights).
"""

from __future__ import annotations

from typing import Dict, List, Set, Tuple

import numpy as np
import scipy.sparse as sp

from kefu.recommender.base import Interactions, top_n


def leave_last_order_out(data: Interactions, min_orders: int = 2) -> Tuple[Interactions, Dict[str, Set[str]]]:
    """Training rows, and the products of the last order of every customer with ``min_orders`` orders."""
    last: Dict[str, Tuple[float, str]] = {}
    orders: Dict[str, Set[str]] = {}
    for customer, order, day in zip(data.customers, data.orders, data.days, strict=True):
        orders.setdefault(customer, set()).add(order)
        if customer not in last or (day, order) > last[customer]:
            last[customer] = (day, order)
    held = {c: last[c][1] for c, placed in orders.items() if len(placed) >= min_orders}
    is_test = np.array([held.get(c) == o for c, o in zip(data.customers, data.orders, strict=True)], dtype=bool)
    targets: Dict[str, Set[str]] = {}
    for customer, product in zip(data.customers[is_test], data.products[is_test], strict=True):
        targets.setdefault(customer, set()).add(product)
    return data.subset(~is_test), targets


def ranking_metrics(top: np.ndarray, relevant: List[np.ndarray], k: int = 10) -> Dict[str, float]:
    """Mean Recall@k, HR@k and NDCG@k of ranked lists (rows of product indices) against relevant sets."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    recall, hits, ndcg = [], [], []
    for ranked, wanted in zip(top, relevant, strict=True):
        gains = np.isin(ranked[:k], wanted).astype(np.float64)
        found = gains.sum()
        recall.append(found / len(wanted))
        hits.append(float(found > 0))
        ideal = discounts[: min(len(wanted), k)].sum()
        ndcg.append(float(gains @ discounts[: len(gains)]) / ideal)
    return {"recall": float(np.mean(recall)), "hr": float(np.mean(hits)), "ndcg": float(np.mean(ndcg))}


def top_k_rows(scores: np.ndarray, k: int, banned: sp.csr_matrix | None = None) -> np.ndarray:
    """Top-k product indices per row; ``banned`` (same shape, nonzero = excluded) removes products."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    if banned is not None:
        coo = sp.coo_matrix(banned)
        scores[coo.row, coo.col] = -np.inf
    return np.vstack([top_n(row, k) for row in scores]) if len(scores) else np.zeros((0, k), dtype=np.int64)

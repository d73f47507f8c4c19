"""Train the shop's recommender from the store's order history, and decide when to retrain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any, Dict, Sequence, Tuple

from kefu.recommender import artefact
from kefu.recommender.artefact import ArtefactMeta, Fingerprint
from kefu.recommender.base import Catalogue, Interactions
from kefu.recommender.hybrid import Hybrid, build_hybrid
from kefu.recommender.settings import RecommenderSettings
from kefu.store.base import Store
from kefu.store.records import Order


def fingerprint(orders: Sequence[Order]) -> Fingerprint:
    """Count, newest date and a digest of ids and statuses: a return or a new order changes it."""
    digest = hashlib.sha256()
    for order in sorted(orders, key=lambda o: o.id):
        digest.update(f"{order.id}|{order.status}|{','.join(i.item_id for i in order.items)}\n".encode())
    newest = max((o.ordered_on for o in orders), default=None)
    return Fingerprint(len(orders), newest.isoformat() if newest else None, digest.hexdigest()[:16])


def interactions(orders: Sequence[Order], excluded_statuses: Sequence[str]) -> Interactions:
    """One row per product of an order; cancelled orders are not purchases."""
    return Interactions.from_rows(
        (order.customer_id, item.product_id, order.id, float(order.ordered_on.toordinal()))
        for order in orders
        if order.status not in excluded_statuses
        for item in order.items
    )


def model_settings(settings: RecommenderSettings) -> Dict[str, Any]:
    """The settings that shape the model: when they change, the artefact is stale too."""
    chosen = asdict(settings)
    for key in ("artefact_dir", "exclude_bought", "returned_statuses", "max_suggestions"):
        chosen.pop(key)  # read at request time, not learnt
    # As JSON gives them back, so that a comparison with the saved settings is exact.
    return json.loads(json.dumps(chosen))


def build(settings: RecommenderSettings) -> Hybrid:
    return build_hybrid(
        ease_l2=settings.ease_l2,
        knn_neighbours=settings.knn_neighbours,
        half_life_days=settings.repeat_half_life_days,
        co_purchase_half_life_days=settings.co_purchase_half_life_days,
        trending_half_life_days=settings.trending_half_life_days,
        collaborative=settings.collaborative,
        content=settings.content,
        weights_with_bought=settings.weights_with_bought,
        weights_new_only=settings.weights_new_only,
    )


def train(store: Store, settings: RecommenderSettings, progress: bool = True) -> Tuple[Hybrid, ArtefactMeta]:
    """Fit on every order and the whole catalogue, save the artefact, return both."""
    from tqdm import tqdm

    model = build(settings)
    with tqdm(total=len(model.components) + 2, desc="training recommender", disable=not progress) as bar:
        orders = store.order_history()
        catalogue = Catalogue(store.list_products())
        bar.update(1)
        bar.set_postfix_str(f"{len(orders)} orders, {len(catalogue)} products")

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        model.on_step = step
        model.fit(interactions(orders, settings.train_statuses_excluded), catalogue)
        model.on_step = None
        meta = artefact.save(model, settings.artefact_dir, fingerprint(orders), model_settings(settings))
        bar.update(1)
    artefact.forget()
    return model, meta


def needs_training(store: Store, settings: RecommenderSettings) -> bool:
    return artefact.is_stale(settings.artefact_dir, fingerprint(store.order_history()), model_settings(settings))

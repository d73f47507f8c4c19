"""From the store's typed records to what the recommender needs: a live history and live exclusions.

The artefact's stock is as old as its training; requests check stock, returns and the
current order against the store at the time of asking.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

from kefu.recommender.base import Exclusions, Recommendation, Recommender
from kefu.recommender.content import ContentSimilarity
from kefu.store.records import Order, Product, Variant

SAME_PRODUCT = "other_version"  # reason code: another version of the product the customer named


def customer_history(orders: Iterable[Order], excluded_statuses: Sequence[str]) -> Dict[str, float]:
    """Product id -> how many of the customer's orders hold it (cancelled orders do not count)."""
    history: Dict[str, float] = {}
    for order in orders:
        if order.status in excluded_statuses:
            continue
        for product_id in {item.product_id for item in order.items}:
            history[product_id] = history.get(product_id, 0.0) + 1.0
    return history


def live_exclusions(
    products: Iterable[Product],
    orders: Iterable[Order] = (),
    returned_statuses: Sequence[str] = ("return requested",),
    basket: Iterable[str] = (),
    current_statuses: Sequence[str] = (),
) -> Exclusions:
    """Out of stock now, in a current order or the basket, or just returned: never suggested.

    ``current_statuses``: orders the shop has not sent yet (``ShopRules.unsent_statuses``)."""
    excluded_products = set(basket)
    excluded_items = set()
    for product in products:
        excluded_items |= {v.item_id for v in product.variants if not v.available}
        if not product.available_variants:
            excluded_products.add(product.id)
    for order in orders:
        if order.status in current_statuses:
            excluded_products |= {item.product_id for item in order.items}
        if order.status in returned_statuses:
            returned = set(order.return_items or ())
            excluded_products |= {item.product_id for item in order.items if item.item_id in returned}
    return Exclusions(frozenset(excluded_products), frozenset(excluded_items))


def similar_with_constraints(
    model: Recommender,
    product: Product,
    catalogue: Sequence[Product],
    exclusions: Exclusions,
    wanted: Dict[str, str] | None = None,
    cheaper: bool = False,
    n: int = 3,
) -> List[Recommendation]:
    """ "Like this but cheaper / in blue": the product's own versions first, then similar products.

    Content similarity orders the products; a variant qualifies when it is available, not
    excluded, has every wanted option and, for ``cheaper``, costs less than the product's
    cheapest version.
    """
    content = _content_of(model)
    reference = min(v.price for v in product.variants)
    by_id = {p.id: p for p in catalogue}

    def fits(variant: Variant) -> bool:
        return (
            variant.available
            and variant.item_id not in exclusions.items
            and all(variant.options.get(k) == v for k, v in (wanted or {}).items())
            and (not cheaper or variant.price < reference)
        )

    answers: List[Recommendation] = []
    if not cheaper:  # no version of a product is cheaper than its cheapest one
        own = [v for v in by_id.get(product.id, product).variants if fits(v)]
        if own:
            answers.append(Recommendation(product.id, own[0].item_id, 1.0, SAME_PRODUCT, product.id))
    if content is None or product.id not in content.catalogue.index:
        return answers[:n]
    similarity = content.similarity(content.catalogue.index[product.id])
    for i in similarity.argsort()[::-1]:
        if len(answers) >= n:
            break
        candidate = by_id.get(content.catalogue.ids[i])
        if candidate is None or candidate.id == product.id or candidate.id in exclusions.products:
            continue
        matching = sorted((v for v in candidate.variants if fits(v)), key=lambda v: v.price)
        if matching:
            answers.append(
                Recommendation(candidate.id, matching[0].item_id, float(similarity[i]), "similar_to", product.id)
            )
    return answers[:n]


def _content_of(model: Recommender) -> ContentSimilarity | None:
    if isinstance(model, ContentSimilarity):
        return model
    components = getattr(model, "components", {})
    found = components.get("content")
    return found if isinstance(found, ContentSimilarity) else None

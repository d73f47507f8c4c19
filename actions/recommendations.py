"""Product suggestions: for the customer, for a product they name, or "like this but cheaper / in blue".

The recommender gives reason codes; this file words them, in English or Chinese by the
``language`` slot (other languages get English until their texts are written).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, Turn, message_in_catalogue_words, never_crash, store, turn
from kefu.config import settings as kefu_settings
from kefu.recommender import Recommendation, Recommender, shop_recommender
from kefu.recommender.settings import RecommenderSettings, recommender_settings
from kefu.recommender.shop import customer_history, live_exclusions, similar_with_constraints
from kefu.shop.wording import money
from kefu.store.records import Order, Product
from kefu.understanding.matching import mentioned_options

logger = logging.getLogger(__name__)

TEXTS: Dict[str, Dict[str, str]] = {
    "en": {
        "intro_customer": "Based on your orders, you might like:",
        "intro_item": "Customers who buy the {product} often add:",
        "intro_similar": "Similar to the {product}:",
        "intro_popular": "Popular in our shop right now:",
        "line": "- {name} ({options}) at {price}: {reason}",
        "bought_before": "you have bought it before",
        "bought_together": "often bought with the {with_item}",
        "similar_to": "similar to the {with_item}",
        "other_version": "another version of the {with_item}",
        "popular": "a favourite of our customers",
        "none": "I have no suggestion that fits right now.",
        "after": "By the way, customers who bought the {with_item} also liked the {name} ({options}, {price}).",
    },
    "zh": {
        "intro_customer": "根据您的订单，您可能会喜欢：",
        "intro_item": "购买{product}的顾客还常买：",
        "intro_similar": "与{product}相似的商品：",
        "intro_popular": "本店目前的热门商品：",
        "line": "- {name}（{options}），{price}：{reason}",
        "bought_before": "您以前买过",
        "bought_together": "常与{with_item}一起购买",
        "similar_to": "与{with_item}相似",
        "other_version": "{with_item}的另一个款式",
        "popular": "深受顾客喜爱",
        "none": "目前没有合适的推荐。",
        "after": "顺便提一下，购买{with_item}的顾客也喜欢{name}（{options}，{price}）。",
    },
}
CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget)\b|便宜|更实惠")
LIKE_THIS = re.compile(r"\b(like (this|that|it)|similar|instead|but in)\b|类似|相似|差不多")


def texts(language: str | None) -> Dict[str, str]:
    return TEXTS.get(language or "en", TEXTS["en"])


def reason_text(rec: Recommendation, words: Dict[str, str], names: Dict[str, str]) -> str:
    template = words.get(rec.reason, words["popular"])
    return template.format(with_item=names.get(rec.with_item or "", ""), **rec.params)


def listing(intro: str, recs: Sequence[Recommendation], catalogue: Sequence[Product], words: Dict[str, str]) -> str:
    names = {p.id: p.name for p in catalogue}
    variants = {v.item_id: v for p in catalogue for v in p.variants}
    lines = [intro]
    for rec in recs:
        variant = variants[rec.item_id]
        lines.append(
            words["line"].format(
                name=names[rec.product_id],
                options=variant.describe_options() or "-",
                price=money(variant.price),
                reason=reason_text(rec, words, names),
            )
        )
    return "\n".join(lines)


def customer_orders(customer_id: str) -> List[Order]:
    return store().customer_orders(customer_id)


def open_to_suggestions(tracker: Tracker) -> bool:
    """No suggestion in the middle of a complaint or a run of negative messages."""
    return (
        tracker.get_slot("sentiment") != "negative"
        and not float(tracker.get_slot("negative_streak") or 0)
        and tracker.get_slot("request_type") != "complaint"
    )


def suggest_after(dispatcher: CollectingDispatcher, tracker: Tracker, order: Order) -> None:
    """One "goes well with" suggestion after a delivered order or an exchange, when welcome.

    The suggestion is a courtesy: whatever goes wrong here is logged and the answer the
    customer asked for stands alone.
    """
    if not order.items or not open_to_suggestions(tracker):
        return
    try:
        settings = recommender_settings()
        model = shop_recommender(settings)
        catalogue = turn(tracker).catalogue
        orders = customer_orders(tracker.get_slot("customer_id")) if tracker.get_slot("customer_id") else [order]
        exclusions = live_exclusions(
            catalogue, orders, settings.returned_statuses, current_statuses=kefu_settings().rules.unsent_statuses
        )
        anchor = order.items[0]
        recs = model.recommend_for_item(anchor.product_id, 1, exclusions)
        if not recs:
            return
        variant = {v.item_id: v for p in catalogue for v in p.variants}[recs[0].item_id]
        name = {p.id: p.name for p in catalogue}[recs[0].product_id]
        words = texts(tracker.get_slot("language"))
        dispatcher.utter_message(
            text=words["after"].format(
                with_item=anchor.name, name=name, options=variant.describe_options() or "-", price=money(variant.price)
            )
        )
    except Exception:  # noqa: BLE001 - a missing model or a bug must not spoil the answer given
        logger.warning("no suggestion after order %s", order.id, exc_info=True)


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        words = texts(tracker.get_slot("language"))
        settings = recommender_settings()
        try:
            model = shop_recommender(settings)
        except FileNotFoundError:
            logger.warning("no trained recommender: run `python -m kefu.recommender train`")
            dispatcher.utter_message(text=words["none"])
            return []
        # In the catalogue's words: products and options named in any language are found.
        text = message_in_catalogue_words(tracker)
        catalogue = turn(tracker).catalogue
        customer_id = tracker.get_slot("customer_id")
        orders = customer_orders(customer_id) if customer_id else []
        exclusions = live_exclusions(
            catalogue, orders, settings.returned_statuses, current_statuses=kefu_settings().rules.unsent_statuses
        )
        product = self._product_in(turn(tracker), text, tracker.get_slot("product"))
        n = settings.max_suggestions
        if product is not None:
            wanted = mentioned_options(text, [v for p in catalogue for v in p.variants])
            cheaper = bool(CHEAPER.search(text.lower()))
            if cheaper or (wanted and LIKE_THIS.search(text.lower())):
                recs = similar_with_constraints(model, product, catalogue, exclusions, wanted, cheaper, n)
                intro = words["intro_similar"].format(product=product.name)
            else:
                recs = model.recommend_for_item(product.id, n, exclusions)
                intro = words["intro_item"].format(product=product.name)
            events: EventList = [SlotSet("product", product.name)]
        else:
            recs, intro = self._for_customer(model, settings, orders, exclusions, n, words)
            events = []
        if not recs:
            dispatcher.utter_message(text=words["none"])
            return events
        dispatcher.utter_message(text=listing(intro, recs, catalogue, words))
        return events

    @staticmethod
    def _product_in(current: Turn, text: str, slot_value: Any) -> Product | None:
        """The product the message names; else the one discussed before ("like this")."""
        found = current.products_named(text)
        if not found and slot_value and LIKE_THIS.search(text.lower()):
            found = current.products_named(str(slot_value))
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _for_customer(
        model: Recommender,
        settings: RecommenderSettings,
        orders: List[Order],
        exclusions: Any,
        n: int,
        words: Dict[str, str],
    ) -> tuple[List[Recommendation], str]:
        history = customer_history(orders, settings.train_statuses_excluded)
        recs = model.recommend_for_history(history, n, exclusions, exclude_bought=settings.exclude_bought)
        return recs, words["intro_customer"] if history else words["intro_popular"]

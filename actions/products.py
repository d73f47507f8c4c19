"""Product questions: which versions exist, their options, prices and availability."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EventList, Turn, message_in_catalogue_words, never_crash, turn
from kefu.shop.wording import joined, money
from kefu.store.records import Product, Variant
from kefu.understanding.matching import mentioned_options, variants_matching

MAX_VARIANTS_LISTED = 4


def option_summary(product: Product) -> str:
    values: Dict[str, List[str]] = {}
    for variant in product.variants:
        for name, value in variant.options.items():
            values.setdefault(name, [])
            if value not in values[name]:
                values[name].append(value)
    return "; ".join(f"{name}: {', '.join(vals)}" for name, vals in values.items())


def variant_list(variants: Sequence[Variant], known: Dict[str, str]) -> str:
    """Variants by the options the customer did not already name, with their prices."""

    def other_options(variant: Variant) -> str:
        rest = [f"{k} {v}" for k, v in variant.options.items() if k not in known]
        return ", ".join(rest) or "this version"

    shown = [f"{other_options(v)} at {money(v.price)}" for v in variants[:MAX_VARIANTS_LISTED]]
    more = len(variants) - len(shown)
    return joined(shown + ([f"{more} more"] if more > 0 else []))


def missing_options(text: str, product: Product, found: Dict[str, str], catalogue: List[Product]) -> Dict[str, str]:
    """Option values the customer asked for that this product never has ("a purple chair").

    Values are recognised from the whole catalogue, for the option names this product has.
    """
    names = {name for v in product.variants for name in v.options}
    catalogue = [
        Variant(
            v.item_id,
            v.product_id,
            {k: val for k, val in v.options.items() if k in names},
            v.price,
            v.available,
        )
        for p in catalogue
        for v in p.variants
    ]
    asked = mentioned_options(text, catalogue)
    return {name: value for name, value in asked.items() if found.get(name) != value and name not in found}


class ActionProductInfo(Action):
    def name(self) -> str:
        return "action_product_info"

    @never_crash
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> EventList:
        # In the catalogue's words: "la brosse à dents en noir" names the product and its colour.
        text = message_in_catalogue_words(tracker)
        products = self._products_for(turn(tracker), text, tracker.get_slot("product"))
        if not products:
            dispatcher.utter_message(response="utter_product_unknown")
            dispatcher.utter_message(response="utter_ask_product")
            return [SlotSet("product", None)]
        if len(products) > 1:
            dispatcher.utter_message(response="utter_product_ambiguous", products=joined(p.name for p in products))
            return [SlotSet("product", None)]
        product = products[0]
        self._answer(dispatcher, text, product, turn(tracker).catalogue)
        return [SlotSet("product", product.name)]

    @staticmethod
    def _products_for(current: Turn, text: str, slot_value: Any) -> List[Product]:
        """Products named in this message; else the NLU entity; else the one discussed before."""
        found = current.products_named(text)
        if not found and slot_value:
            found = current.products_named(str(slot_value))
        return found

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, text: str, product: Product, catalogue: List[Product]) -> None:
        wanted = mentioned_options(text, product.variants)
        missing = missing_options(text, product, wanted, catalogue)
        if missing:
            dispatcher.utter_message(
                response="utter_product_no_variant",
                product=product.name,
                wanted=joined(f"{name} {value}" for name, value in {**wanted, **missing}.items()),
                options=option_summary(product),
            )
            return
        if not wanted:
            prices = [v.price for v in product.variants]
            dispatcher.utter_message(
                response="utter_product_overview",
                product=product.name,
                variant_count=len(product.variants),
                available_count=len(product.available_variants),
                min_price=money(min(prices)),
                max_price=money(max(prices)),
                options=option_summary(product),
            )
            return
        wanted_text = joined(f"{name} {value}" for name, value in wanted.items())
        matching = variants_matching(product.variants, wanted)
        in_stock = [v for v in matching if v.available]
        if in_stock:
            dispatcher.utter_message(
                response="utter_product_variants_match",
                product=product.name,
                wanted=wanted_text,
                variants=variant_list(in_stock, wanted),
            )
        elif matching:
            dispatcher.utter_message(
                response="utter_product_variants_unavailable",
                product=product.name,
                wanted=wanted_text,
                variants=variant_list(matching, wanted),
            )
        else:
            dispatcher.utter_message(
                response="utter_product_no_variant",
                product=product.name,
                wanted=wanted_text,
                options=option_summary(product),
            )

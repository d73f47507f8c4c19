"""How customers' words are matched to products and variant options."""

from __future__ import annotations

import pytest

from kefu.store.matching import mentioned_options, rank_products, variants_matching
from kefu.store.sql_store import SqlStore


@pytest.mark.parametrize(
    "text, expected",
    [
        ("do you have the keyboard with clicky switches?", ["Mechanical Keyboard"]),
        ("how much is a tshirt", ["T-Shirt"]),
        ("T-shirts in red?", ["T-Shirt"]),
        ("a digital camera", ["Digital Camera"]),
        ("camera", ["Action Camera", "Indoor Security Camera", "Digital Camera"]),
        ("kettles", ["Electric Kettle", "Tea Kettle"]),
        ("e-reader with wifi", ["E-Reader"]),
        ("what's the weather", []),
    ],
)
def test_rank_products(store: SqlStore, text: str, expected: list) -> None:
    assert sorted(p.name for p in rank_products(text, store.list_products())) == sorted(expected)


def _product(store: SqlStore, name: str):  # type: ignore[no-untyped-def]
    (product,) = [p for p in store.list_products() if p.name == name]
    return product


@pytest.mark.parametrize(
    "product, text, expected",
    [
        (
            "Mechanical Keyboard",
            "keyboard with clicky switches and RGB",
            {"switch type": "clicky", "backlight": "RGB"},
        ),
        ("T-Shirt", "same shirt but size L in blue", {"size": "L", "color": "blue"}),
        ("T-Shirt", "what's the price of the t-shirt", {}),
        ("Smartphone", "a rose gold phone", {"color": "rose gold"}),
        ("Hiking Boots", "waterproof boots size 10", {"waterproof": "yes", "size": "10"}),
        ("Hiking Boots", "boots that are not waterproof", {"waterproof": "no"}),
        (
            "Water Bottle",
            "a 750ml stainless steel bottle",
            {"capacity": "750ml", "material": "stainless steel"},
        ),
    ],
)
def test_mentioned_options(store: SqlStore, product: str, text: str, expected: dict) -> None:
    assert mentioned_options(text, _product(store, product).variants) == expected


def test_variants_matching_keeps_only_exact_option_values(store: SqlStore) -> None:
    keyboard = _product(store, "Mechanical Keyboard")
    clicky = variants_matching(keyboard.variants, {"switch type": "clicky"})
    assert clicky and all(v.options["switch type"] == "clicky" for v in clicky)
    assert variants_matching(keyboard.variants, {"switch type": "silent"}) == []


def test_a_colour_is_not_found_inside_another_word(store: SqlStore) -> None:
    speaker = _product(store, "Bluetooth Speaker")
    assert mentioned_options("the bluetooth speaker with color red", speaker.variants) == {"color": "red"}


def test_values_by_the_words_customers_use(store: SqlStore) -> None:
    thermostat = _product(store, "Smart Thermostat")
    wanted = mentioned_options("a similar thermostat that works with Google Home", thermostat.variants)
    assert wanted == {"compatibility": "Google Assistant"}


def test_two_different_items_of_one_product_are_ambiguous() -> None:
    from decimal import Decimal

    from kefu.store.matching import ambiguous_mention
    from kefu.store.records import OrderItem

    blue = OrderItem("1", "p", "T-Shirt", Decimal("10"), {"color": "blue", "size": "M"})
    red = OrderItem("2", "p", "T-Shirt", Decimal("12"), {"color": "red", "size": "L"})
    mug = OrderItem("3", "q", "Water Bottle", Decimal("5"), {"color": "black"})
    assert ambiguous_mention("return the t-shirt", [blue, red, mug]) == [blue, red]
    assert ambiguous_mention("return the red t-shirt", [blue, red, mug]) == []
    assert ambiguous_mention("return both t-shirts", [blue, red, mug]) == []
    assert ambiguous_mention("the water bottle", [blue, red, mug]) == []

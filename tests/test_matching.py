"""How customers' words are matched to products and variant options."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kefu.store.sql_store import SqlStore
from kefu.understanding.matching import mentioned_options, rank_products, variants_matching


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

    from kefu.store.records import OrderItem
    from kefu.understanding.matching import ambiguous_mention

    blue = OrderItem("1", "p", "T-Shirt", Decimal("10"), {"color": "blue", "size": "M"})
    red = OrderItem("2", "p", "T-Shirt", Decimal("12"), {"color": "red", "size": "L"})
    mug = OrderItem("3", "q", "Water Bottle", Decimal("5"), {"color": "black"})
    assert ambiguous_mention("return the t-shirt", [blue, red, mug]) == [blue, red]
    assert ambiguous_mention("return the red t-shirt", [blue, red, mug]) == []
    assert ambiguous_mention("return both t-shirts", [blue, red, mug]) == []
    assert ambiguous_mention("the water bottle", [blue, red, mug]) == []


# Messages in the catalogue's words (kefu/understanding/catalogue_words.py) ------------------------


def _product_entity(text: str, words: str, value: str) -> dict:
    """The ``product`` entity the NLU gives for ``words`` in ``text``."""
    start = text.index(words)
    return {"entity": "product", "start": start, "end": start + len(words), "value": value}


def _read(text: str, product: tuple[str, str] | None = None, language: str | None = None) -> str:
    from kefu.understanding.catalogue_words import in_catalogue_words

    entities = [_product_entity(text, *product)] if product else []
    return in_catalogue_words(text, entities, language)


@pytest.mark.parametrize(
    "text",
    [
        "do you have the keyboard with clicky switches?",
        "same shirt but size L in blue",
        "a rose gold phone",
        "black or rose gold?",
        "a 750ml stainless steel bottle in space grey",
        "the bluetooth speaker with color red",
        "I'd like to return the wall clock and the Rotisserie grill",
    ],
)
def test_english_is_read_as_written(text: str) -> None:
    assert _read(text) == text
    assert _read(text, (text.split()[0], "Bicycle"), language="en") == text


def test_a_message_read_as_english_is_never_rewritten() -> None:
    text = "my name is Rosa Verde, I want to return the bike"
    assert _read(text, ("bike", "Bicycle"), language="en") == text
    assert _read(text, ("bike", "Bicycle")) == "my name is pink green, I want to return the Bicycle"


def test_no_english_training_example_is_rewritten() -> None:
    import yaml

    from kefu.config import PROJECT_ROOT
    from kefu.understanding.catalogue_words import in_catalogue_words

    files = [PROJECT_ROOT / "data" / "nlu" / "core.yml", *sorted((PROJECT_ROOT / "data" / "nlu").glob("en_*.yml"))]
    examples = [
        re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})", r"\1", line.strip()[2:])
        for path in files
        for block in yaml.safe_load(path.read_text())["nlu"]
        if "intent" in block
        for line in block["examples"].splitlines()
        if line.strip().startswith("- ")
    ]
    changed = [text for text in examples if in_catalogue_words(text) != text]
    assert len(examples) > 2000
    # French "rose" (pink) is also an English first name ("my name is Ruby Rose"); the NLU
    # reads such a message as English, and English messages are not rewritten.
    assert all("rose" in text.lower() for text in changed), changed


@pytest.mark.parametrize(
    "text, product, expected_product, expected_options",
    [
        (
            "la brosse à dents électrique existe en noir ?",
            ("brosse à dents électrique", "Electric Toothbrush"),
            "Electric Toothbrush",
            {"color": "black"},
        ),
        (
            "gibt es die elektrische Zahnbürste in Schwarz?",
            ("elektrische Zahnbürste", "Electric Toothbrush"),
            "Electric Toothbrush",
            {"color": "black"},
        ),
        (
            "¿tenéis la botella de agua de acero inoxidable en verde?",
            ("botella de agua", "Water Bottle"),
            "Water Bottle",
            {"material": "stainless steel", "color": "green"},
        ),
        (
            "un sac à dos en cuir, taille moyenne",
            ("sac à dos", "Backpack"),
            "Backpack",
            {"material": "leather", "size": "medium"},
        ),
        ("die Wanduhr aus Holz", ("Wanduhr", "Wall Clock"), "Wall Clock", {"color": "wood"}),
        ("la camiseta roja en talla L", ("camiseta", "T-Shirt"), "T-Shirt", {"color": "red", "size": "L"}),
        ("un ordinateur portable gris sidéral", ("ordinateur portable", "Laptop"), "Laptop", {"color": "space grey"}),
        ("电动牙刷有黑色的吗？", ("电动牙刷", "Electric Toothbrush"), "Electric Toothbrush", {"color": "black"}),
        ("T恤要蓝色M码的", ("T恤", "T-Shirt"), "T-Shirt", {"color": "blue", "size": "M"}),
        ("有玫瑰金的手机吗", ("手机", "Smartphone"), "Smartphone", {"color": "rose gold"}),
    ],
)
def test_product_and_options_in_other_languages(
    store: SqlStore, text: str, product: tuple, expected_product: str, expected_options: dict
) -> None:
    read = _read(text, product)
    assert [p.name for p in rank_products(read, store.list_products())] == [expected_product]
    assert mentioned_options(read, _product(store, expected_product).variants) == expected_options


def test_option_words_without_a_product_entity() -> None:
    assert "black" in _read("la brosse à dents électrique existe en noir ?")
    assert _read("die schwarze, bitte") == "die black, bitte"
    assert _read("NOIRES") == "black"
    assert _read("un t-shirt bleu marine") == "un t-shirt navy"


@pytest.mark.parametrize(
    "text",
    [
        "j'ai une rougeur sur la peau",  # rouge
        "la letra en negrita",  # negra
        "Brot vom Grill mit Rotisserie",  # rot
        "ich weiß nicht, welche",  # weiß: "I know", not white
        "je voudrais un petit moyen de paiement en plus",  # petit / moyen: no size
        "我明白的，谢谢",  # 白的 inside 明白的
    ],
)
def test_a_word_inside_another_word_or_meaning_is_not_taken(text: str) -> None:
    assert _read(text) == text


def test_a_colour_inside_a_product_name_is_not_taken(store: SqlStore) -> None:
    # 蓝 (blue) begins 蓝牙 (Bluetooth): the speaker is asked for in black, not in blue.
    speaker = _product(store, "Bluetooth Speaker")
    for entities in ((), ("蓝牙音箱", "Bluetooth Speaker")):
        read = _read("蓝牙音箱有黑色的吗", entities or None)
        assert mentioned_options(read, speaker.variants) == {"color": "black"}


def test_english_words_inside_chinese_are_kept_apart() -> None:
    read = _read("电动牙刷换成黑色的", ("电动牙刷", "Electric Toothbrush"))
    assert read == "Electric Toothbrush 换成 black 的"


def test_overlapping_and_other_entities() -> None:
    from kefu.understanding.catalogue_words import in_catalogue_words

    text = "je renvoie la brosse à dents électrique, commande #W5666460"
    entities = [
        _product_entity(text, "brosse à dents", "Electric Toothbrush"),
        _product_entity(text, "brosse à dents électrique", "Electric Toothbrush"),
        {"entity": "order_id", "start": text.index("#W"), "end": len(text), "value": "#W5666460"},
        {"entity": "product", "start": 5, "end": 500, "value": "Laptop"},  # out of the text: ignored
    ]
    assert in_catalogue_words(text, entities) == "je renvoie la Electric Toothbrush, commande #W5666460"


def _toothbrush_item(store: SqlStore, **options: str):  # type: ignore[no-untyped-def]
    from kefu.store.records import OrderItem

    brush = _product(store, "Electric Toothbrush")
    (variant,) = [v for v in brush.variants if v.options == options]
    return OrderItem(variant.item_id, brush.id, brush.name, variant.price, dict(variant.options)), brush


def test_items_named_in_another_language(store: SqlStore) -> None:
    from decimal import Decimal

    from kefu.store.records import OrderItem
    from kefu.understanding.matching import mentioned_items

    item, _ = _toothbrush_item(store, **{"color": "white", "speed settings": "high", "battery type": "AA batteries"})
    shelf = OrderItem("9", "p", "Bookshelf", Decimal("100"), {"color": "white"})
    for text, words in [
        ("je veux renvoyer la brosse à dents", "brosse à dents"),
        ("quiero devolver el cepillo de dientes", "cepillo de dientes"),
        ("我想退电动牙刷", "电动牙刷"),
    ]:
        assert mentioned_items(text, [item, shelf]) == []
        assert mentioned_items(_read(text, (words, "Electric Toothbrush")), [item, shelf]) == [item]


def test_an_exchange_asked_in_chinese(store: SqlStore) -> None:
    from kefu.understanding.matching import requested_swaps

    item, brush = _toothbrush_item(
        store, **{"color": "white", "speed settings": "high", "battery type": "AA batteries"}
    )
    text = "我想把电动牙刷换成黑色的"
    ((old, new),) = requested_swaps(
        _read(text, ("电动牙刷", "Electric Toothbrush")), [item], {brush.id: brush.variants}
    )
    assert old == item
    assert new.options == {"color": "black", "speed settings": "high", "battery type": "AA batteries"}


def test_every_catalogue_colour_has_words_in_the_other_languages() -> None:
    from kefu.store.seed import read_seed
    from kefu.understanding.catalogue_words import load_option_words
    from kefu.understanding.matching import VALUE_ALIASES

    listed = set(load_option_words().values())
    colours = {
        value
        for product in read_seed()["products"].values()
        for variant in product["variants"].values()
        for name, value in variant["options"].items()
        if name.endswith("color")
    }
    # RGB is written the same in every language; gray is read as grey (VALUE_ALIASES).
    missing = {c for c in colours - {"RGB"} if c not in listed and not listed & set(VALUE_ALIASES.get(c, ()))}
    assert missing == set()
    assert {"leather", "cotton", "wood", "metal", "plastic", "glass", "stainless steel"} <= listed
    assert {"small", "medium", "large"} <= listed


@pytest.mark.parametrize(
    "content, complaint",
    [
        ("black:\n  it: [nero]\n", "unknown language 'it'"),
        ("black:\n  fr: [noir]\nred:\n  fr: [Noir]\n", "'Noir' is listed for 'black' and for 'red'"),
    ],
)
def test_a_wrong_option_words_file_is_refused(tmp_path, content: str, complaint: str) -> None:  # type: ignore[no-untyped-def]
    from kefu.understanding.catalogue_words import load_option_words

    path = tmp_path / "option_words.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(complaint)):
        load_option_words(path)


@pytest.mark.parametrize(
    "text,name",
    [
        ("Hi, I am Ana Silva, zip code 12345, and I want to cancel", "Ana Silva"),
        ("hi im Noah Brown 80279 where is my order", "Noah Brown"),
        ("Bonjour, je m'appelle Marie Dubois, code postal 75001", "Marie Dubois"),
        ("Hola, soy Lucía García y quiero devolver la cafetera", "Lucía García"),
        ("Ich bin Anna Schmidt, PLZ 10115", "Anna Schmidt"),
        ("I'm Jean-Luc O'Neil", "Jean-Luc O'Neil"),
        ("I am looking for my order", None),
        ("I am very Angry Now", None),
        ("my email is ana@example.com", None),
    ],
)
def test_a_name_is_read_where_the_customer_introduces_themselves(text: str, name: str | None) -> None:
    from kefu.understanding.identity import introduced_name

    assert introduced_name(text) == name


CANCEL_REASONS = ("no longer needed", "ordered by mistake")


@pytest.mark.parametrize(
    "text,reason",
    [
        ("I ordered it by mistake", "ordered by mistake"),
        ("i dont need it anymore", "no longer needed"),
        ("je l'ai commandé par erreur", "ordered by mistake"),
        ("je n'en ai plus besoin", "no longer needed"),
        ("lo pedí por error", "ordered by mistake"),
        ("ya no lo necesito", "no longer needed"),
        ("Ich habe das versehentlich bestellt", "ordered by mistake"),
        ("ich brauche es nicht mehr", "no longer needed"),
        ("我买错了", "ordered by mistake"),
        ("我不需要了", "no longer needed"),
        ("just cancel it", None),
    ],
)
def test_a_cancel_reason_is_read_in_every_language(text: str, reason: str | None) -> None:
    from kefu.understanding.reasons import reason_in

    assert reason_in(text, CANCEL_REASONS) == reason
    # A reason the shop's rules do not list is never chosen.
    assert reason_in(text, tuple(r for r in CANCEL_REASONS if r != reason)) is None


def test_every_cancel_reason_of_the_rules_has_cue_words_in_five_languages() -> None:
    import yaml

    from kefu.config import settings
    from kefu.understanding.reasons import REASONS_PATH

    cues = yaml.safe_load(REASONS_PATH.read_text(encoding="utf-8"))
    for reason in settings().rules.cancel_reasons:
        assert set(cues[reason]) == {"en", "fr", "es", "de", "zh"}, reason


@pytest.mark.parametrize(
    "text",
    ["all of them", "je veux tout retourner", "les deux", "los dos, por favor", "alle beide", "全部退货", "整个订单"],
)
def test_every_item_is_chosen_in_every_language(text: str) -> None:
    from kefu.store.records import OrderItem
    from kefu.understanding.matching import mentioned_items

    items = [
        OrderItem("k1", "p1", "Electric Kettle", Decimal("30"), {"color": "black"}),
        OrderItem("c1", "p2", "Wall Clock", Decimal("20"), {"color": "white"}),
    ]
    assert mentioned_items(text, items) == items


@pytest.mark.parametrize(
    "text,expected",
    [
        ("back to the original card please", "credit_card_1"),
        ("sur la carte d'origine", "credit_card_1"),
        ("a la misma tarjeta", "credit_card_1"),
        ("auf die ursprüngliche Zahlungsmethode", "credit_card_1"),
        ("原路退回", "credit_card_1"),
        ("to my gift card", "gift_card_1"),
    ],
)
def test_the_original_payment_method_is_understood_in_every_language(text: str, expected: str) -> None:
    from kefu.store.records import PaymentMethod
    from kefu.understanding.matching import mentioned_payment_method

    methods = [
        PaymentMethod("credit_card_1", "credit_card", "visa", "1234"),
        PaymentMethod("gift_card_1", "gift_card", balance=Decimal("50")),
    ]
    chosen = mentioned_payment_method(text, methods, "credit_card_1")
    assert chosen is not None and chosen.id == expected


def test_every_cue_has_words_in_five_languages() -> None:
    import yaml

    from kefu.understanding.cues import CUES_PATH, cue

    cues = yaml.safe_load(CUES_PATH.read_text(encoding="utf-8"))
    for name, by_language in cues.items():
        assert set(by_language) == {"en", "fr", "es", "de", "zh"}, name
        if name != "ordinals":
            assert cue(name).pattern  # compiles
    assert all(len(places) == 5 for places in cues["ordinals"].values())


def _order_of(order_id: str, *names: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    from kefu.store.records import Address, Order, OrderItem

    items = tuple(OrderItem(f"{order_id}-{n}", f"p-{name}", name, Decimal("10"), {}) for n, name in enumerate(names))
    return Order(
        order_id, "c", "delivered", dt.date(2024, 5, 1), Address("1 A St", "", "X", "TX", "USA", "1"), items, (), ()
    )


def test_the_order_is_found_from_the_items_it_holds() -> None:
    from kefu.understanding.matching import orders_naming

    kettle_and_clock = _order_of("#W1", "Electric Kettle", "Wall Clock")
    kettle_only = _order_of("#W2", "Electric Kettle", "Yoga Mat")
    skateboard = _order_of("#W3", "Skateboard")
    orders = [kettle_and_clock, kettle_only, skateboard]
    assert orders_naming("I'd like to return the kettle and the clock", orders) == [kettle_and_clock]
    assert orders_naming("exchange my skateboard", orders) == [skateboard]
    # The kettle alone is in two orders: Kefu must ask which.
    assert orders_naming("return the kettle", orders) == [kettle_and_clock, kettle_only]
    assert orders_naming("return some items", orders) == []
    assert orders_naming("return all of them", orders) == []


def _item(item_id: str, name: str, **options: str):  # type: ignore[no-untyped-def]
    from kefu.store.records import OrderItem

    return OrderItem(item_id, f"p-{name}", name, Decimal("10"), {k.replace("_", " "): v for k, v in options.items()})


def _variants(item, *others: dict):  # type: ignore[no-untyped-def]
    from kefu.store.records import Variant

    own = Variant(item.item_id, item.product_id, dict(item.options), item.price, True)
    return [own] + [
        Variant(f"{item.item_id}-{n}", item.product_id, wanted, Decimal("11"), True) for n, wanted in enumerate(others)
    ]


def test_a_product_named_in_full_is_not_also_the_one_sharing_its_last_word() -> None:
    from kefu.understanding.matching import mentioned_items

    luggage = _item("1", "Luggage Set", color="red")
    dumbbells = _item("2", "Dumbbell Set", material="urethane")
    assert mentioned_items("the dumbbell set", [luggage, dumbbells]) == [dumbbells]
    assert mentioned_items("both sets", [luggage, dumbbells]) == [luggage, dumbbells]


def test_an_exchange_for_the_same_version_beside_a_changed_one() -> None:
    from kefu.understanding.matching import requested_swaps

    charger = _item("c", "Portable Charger", capacity="5000mAh", color="white")
    shirt = _item("t", "T-Shirt", color="purple", size="XL")
    variants = {
        charger.product_id: _variants(charger, {"capacity": "10000mAh", "color": "white"}),
        shirt.product_id: _variants(shirt, {"color": "red", "size": "L"}),
    }
    text = "the portable charger for a new one exactly like it and the t-shirt with color red, size L"
    swaps = requested_swaps(text, [charger, shirt], variants)
    assert [(item.item_id, variant.item_id) for item, variant in swaps] == [("c", "c"), ("t", "t-0")]


def test_the_current_options_of_a_named_item_are_not_taken_for_another_items_new_ones() -> None:
    """ "The toothbrush in black" names which toothbrush; it does not ask to make the blue one black."""
    from kefu.understanding.matching import requested_swaps

    blue = _item("b", "Electric Toothbrush", color="blue", battery="AA batteries")
    black = _item("k", "Electric Toothbrush", color="black", battery="rechargeable")
    variants = {blue.product_id: _variants(blue, {"color": "black", "battery": "rechargeable"})}
    assert requested_swaps("I'd like to exchange the electric toothbrush in black", [blue, black], variants) == []


def test_of_two_items_of_one_product_the_one_described_most_is_meant() -> None:
    from kefu.understanding.matching import mentioned_items, requested_swaps

    navy = _item("n", "Fleece Jacket", size="XL", color="navy", zipper="full")
    black = _item("b", "Fleece Jacket", size="L", color="black", zipper="full")
    variants = {navy.product_id: _variants(navy) + _variants(black)}
    text = "the fleece jacket in L, black, full for a new one exactly like it"
    assert mentioned_items(text, [navy, black]) == [black]
    assert [(i.item_id, v.item_id) for i, v in requested_swaps(text, [navy, black], variants)] == [("b", "b")]


def test_the_current_value_and_the_new_one_of_the_same_option() -> None:
    from kefu.understanding.matching import requested_swaps

    bottle = _item("w", "Water Bottle", capacity="500ml", material="stainless steel", color="green")
    variants = {bottle.product_id: _variants(bottle, {"capacity": "500ml", "material": "glass", "color": "green"})}
    swaps = requested_swaps("the water bottle in 500ml, stainless steel, green with material glass", [bottle], variants)
    assert [variant.options["material"] for _, variant in swaps] == ["glass"]


@pytest.mark.parametrize(
    "name, options, others, text, wanted",
    [
        # "none" said after the option's name.
        (
            "Mechanical Keyboard",
            {"backlight": "RGB", "size": "full size"},
            [{"backlight": "RGB", "size": "80%"}, {"backlight": "none", "size": "80%"}],
            "the mechanical keyboard with backlight none, size 80%",
            {"backlight": "none", "size": "80%"},
        ),
        # "frame color black" does not also ask for black lenses.
        (
            "Sunglasses",
            {"frame color": "brown", "lens color": "brown"},
            [{"frame color": "black", "lens color": "brown"}, {"frame color": "black", "lens color": "black"}],
            "the sunglasses with frame color black",
            {"frame color": "black", "lens color": "brown"},
        ),
    ],
)
def test_a_value_said_after_an_options_name_is_that_options(
    name: str, options: dict, others: list, text: str, wanted: dict
) -> None:
    from kefu.understanding.matching import requested_swaps

    item = _item("i", name, **{key.replace(" ", "_"): value for key, value in options.items()})
    swaps = requested_swaps(text, [item], {item.product_id: _variants(item, *others)})
    assert [variant.options for _, variant in swaps] == [wanted]


def test_one_letter_values_are_not_found_in_other_words_run_together() -> None:
    from kefu.understanding.matching import mentioned_values

    kit = _item("k", "Makeup Kit", brand="Brand A")
    variants = _variants(kit, {"brand": "Brand B"}, {"brand": "Brand C"})
    assert mentioned_values("the makeup kit with brand Brand C", variants) == {"brand": ["Brand C"]}


def test_yes_or_no_said_after_the_options_name_wins_over_a_no_elsewhere() -> None:
    from kefu.understanding.matching import requested_swaps

    speaker = _item("s", "Bluetooth Speaker", color="green", water_resistance="no")
    variants = {speaker.product_id: _variants(speaker, {"color": "red", "water resistance": "yes"})}
    text = "the bluetooth speaker in green, no with color red, water resistance yes"
    assert [v.options for _, v in requested_swaps(text, [speaker], variants)] == [
        {"color": "red", "water resistance": "yes"}
    ]


def test_each_part_of_a_list_names_its_own_item_of_a_product() -> None:
    from kefu.understanding.matching import mentioned_items

    medium = _item("m", "Grill", size="medium", features="rotisserie")
    portable = _item("p", "Grill", size="portable", features="none")
    bottle = _item("w", "Water Bottle", color="black")
    items = [medium, portable, bottle]
    text = "the grill in medium, rotisserie, the water bottle and the grill in portable"
    assert mentioned_items(text, items) == [medium, bottle, portable]
    assert mentioned_items("the medium and the portable grill", items) == [medium, portable]


def test_what_follows_with_is_the_new_version_not_which_item() -> None:
    from kefu.understanding.matching import requested_swaps

    light = _item("l", "Dumbbell Set", weight_range="30-50 lbs", material="rubber")
    heavy = _item("h", "Dumbbell Set", weight_range="55-75 lbs", material="iron")
    variants = {light.product_id: _variants(light) + _variants(heavy)}
    text = "the dumbbell set in 30-50 lbs, rubber with weight range 55-75 lbs, material iron"
    assert [(i.item_id, v.item_id) for i, v in requested_swaps(text, [light, heavy], variants)] == [("l", "h")]


def test_a_memory_card_is_not_a_way_to_pay() -> None:
    from kefu.store.records import PaymentMethod
    from kefu.understanding.matching import mentioned_payment_method

    card = PaymentMethod("credit_card_1", "credit_card", "mastercard", "7501")
    gift = PaymentMethod("gift_card_1", "gift_card", balance=Decimal("40"))
    assert mentioned_payment_method("the digital camera with storage SD card", [card, gift]) is None
    assert mentioned_payment_method("the credit card please", [card, gift]) == card


@pytest.mark.parametrize(
    "text, names",
    [
        ("Actually, not the wireless earbuds: only the tablet", ["Tablet"]),
        ("all of them except the tablet", ["Wireless Earbuds", "Gaming Mouse"]),
        ("the tablet and the mouse, but not the earbuds", ["Tablet", "Gaming Mouse"]),
        ("I'm not happy with the tablet, I want to return it", ["Tablet"]),
        # In the catalogue's words, as the actions read a French message.
        ("pas les Wireless Earbuds, seulement la Tablet", ["Tablet"]),
    ],
)
def test_an_item_taken_out_of_the_list(text: str, names: list) -> None:
    from kefu.understanding.matching import mentioned_items

    items = [_item("e", "Wireless Earbuds"), _item("t", "Tablet"), _item("m", "Gaming Mouse")]
    assert [i.name for i in mentioned_items(text, items)] == names


def test_a_no_before_the_items_keeps_them() -> None:
    """ "No, only the kettle" answers a proposal: the kettle is meant (cues of every language apply)."""
    from kefu.understanding.matching import mentioned_items

    kettle, clock = _item("k", "Electric Kettle"), _item("c", "Wall Clock")
    assert mentioned_items("no, only the kettle", [kettle, clock]) == [kettle]
    assert mentioned_items("no, just the kettle", [kettle, clock]) == [kettle]


@pytest.mark.parametrize(
    "text",
    [
        "the Grill electric, medium, rotisserie and the Grill electric, portable",
        "le Grill electric, medium, rotisserie et le Grill electric, portable",
        "el Grill electric, medium, rotisserie y el Grill electric, portable",
        "den Grill electric, medium, rotisserie und den Grill electric, portable",
        "Grill electric, medium, rotisserie和Grill electric, portable",
    ],
)
def test_each_part_of_a_list_names_its_own_item_in_every_language(text: str) -> None:
    """Read in the catalogue's words, as the actions read a message in any language."""
    from kefu.understanding.matching import mentioned_items

    medium = _item("m", "Grill", type="electric", size="medium", features="rotisserie")
    portable = _item("p", "Grill", type="electric", size="portable", features="none")
    assert mentioned_items(text, [medium, portable]) == [medium, portable]


def test_a_hyphenated_product_is_taken_out_too() -> None:
    from kefu.understanding.matching import mentioned_items

    reader, board = _item("r", "E-Reader"), _item("s", "Skateboard")
    assert mentioned_items("Actually, not the e-reader: only the skateboard", [reader, board]) == [board]


def test_a_lists_and_is_never_found_inside_a_word() -> None:
    """Spanish "e" and "y" are words of their own: "e-reader" and "Wi-Fi" stay whole."""
    from kefu.understanding.matching import requested_swaps

    reader = _item("r", "E-Reader", screen_size="7-inch", connectivity="Wi-Fi + Cellular")
    board = _item("s", "Skateboard", deck_material="bamboo")
    variants = {
        reader.product_id: _variants(reader, {"screen size": "8-inch", "connectivity": "Wi-Fi"}),
        board.product_id: _variants(board, {"deck material": "plastic"}),
    }
    text = "the e-reader with screen size 8-inch, connectivity Wi-Fi and the skateboard with deck material plastic"
    swaps = requested_swaps(text, [reader, board], variants)
    assert [(i.item_id, v.item_id) for i, v in swaps] == [("r", "r-0"), ("s", "s-0")]

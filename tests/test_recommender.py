"""The recommender library, its artefact and training, and action_recommend."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.common as common
from actions.recommendations import ActionRecommend
from kefu.config import PROJECT_ROOT, ConfigError
from kefu.recommender import artefact
from kefu.recommender.base import (
    BOUGHT_BEFORE,
    BOUGHT_TOGETHER,
    POPULAR,
    Catalogue,
    Exclusions,
    Interactions,
)
from kefu.recommender.collaborative import Als, Ease, ItemKnn
from kefu.recommender.content import ContentSimilarity
from kefu.recommender.evaluation import leave_last_order_out, ranking_metrics
from kefu.recommender.hybrid import build_hybrid
from kefu.recommender.popularity import Popularity, RepeatPurchases, Trending
from kefu.recommender.settings import RecommenderSettings, parse_recommender_settings
from kefu.recommender.shop import customer_history, live_exclusions
from kefu.recommender.training import fingerprint, needs_training, train
from kefu.store.records import Address, Order, OrderItem, Product, Variant
from kefu.store.sql_store import SqlStore

# A hand-built shop: keyboards go with mouse pads, mugs with tea; the lamp is out of stock.
NAMES = {
    "kb": "Keyboard",
    "pad": "Mouse Pad",
    "mug": "Mug",
    "tea": "Tea",
    "lamp": "Lamp",
    "pen": "Pen",
}


def product(pid: str, available: bool = True, colours: tuple = ("black",)) -> Product:
    variants = tuple(
        Variant(f"{pid}-{c}", pid, {"color": c}, Decimal("10") + i, available) for i, c in enumerate(colours)
    )
    return Product(pid, NAMES[pid], variants)


CATALOGUE = Catalogue(
    [
        product("kb", colours=("black", "white")),
        product("pad", colours=("black", "blue")),
        product("mug"),
        product("tea"),
        product("lamp", available=False),
        product("pen"),
    ]
)


def purchases() -> Interactions:
    rows = []
    baskets = (
        [("kb", "pad")] * 6 + [("mug", "tea")] * 5 + [("kb", "lamp")] * 4 + [("pen",)] * 8 + [("kb", "mug")]
    )  # fmt: skip
    for n, basket in enumerate(baskets):
        rows += [(f"c{n}", pid, f"o{n}", float(n)) for pid in basket]
    # c100 buys tea often, and a pen once, long ago.
    rows += [("c100", "tea", f"t{d}", float(d)) for d in (100, 110, 120)] + [("c100", "pen", "p1", 0.0)]
    return Interactions.from_rows(rows)


@pytest.mark.parametrize("model", [Ease(l2=1.0), ItemKnn(neighbours=3, shrink=0.0)], ids=["ease", "item_knn"])
def test_co_purchase_ranks_what_is_bought_together(model: Any) -> None:
    model.fit(purchases(), CATALOGUE)
    recs = model.recommend_for_item("kb", n=3)
    assert recs[0].product_id == "pad"  # six baskets, against one with a mug
    assert recs[0].reason == BOUGHT_TOGETHER and recs[0].with_item == "kb"
    assert "kb" not in [r.product_id for r in recs]
    assert "lamp" not in [r.product_id for r in recs]  # out of stock, although often with keyboards


def test_als_backend_fits_and_folds_in_a_new_basket() -> None:
    model = Als(factors=4, iterations=5).fit(purchases(), CATALOGUE)
    scores = model.score(CATALOGUE.history({"mug": 1.0}))
    assert scores.shape == (1, len(CATALOGUE))
    assert np.isfinite(scores).all()


def test_filters_drop_basket_unavailable_and_excluded_variants() -> None:
    model = Ease(l2=1.0).fit(purchases(), CATALOGUE)
    recs = model.recommend_for_basket(["kb"], n=5, exclusions=Exclusions(frozenset({"pad"}), frozenset({"mug-black"})))
    ids = [r.product_id for r in recs]
    assert "pad" not in ids and "kb" not in ids and "lamp" not in ids
    assert "mug" not in ids  # its only variant is excluded
    recs = model.recommend_for_item("kb", n=1, exclusions=Exclusions(items=frozenset({"pad-black"})))
    assert (recs[0].product_id, recs[0].item_id) == ("pad", "pad-blue")  # another available version


def test_cold_start_falls_back_to_popularity() -> None:
    hybrid = build_hybrid(embeddings=np.eye(len(CATALOGUE), 8, dtype=np.float32)).fit(purchases(), CATALOGUE)
    popular = [r.product_id for r in Popularity().fit(purchases(), CATALOGUE).recommend("nobody", n=3)]
    recs = hybrid.recommend("nobody", n=3)
    assert [r.product_id for r in recs] == popular
    assert popular[0] == "kb"  # bought by 11 customers; the lamp (4) is out of stock
    assert {r.reason for r in recs} == {POPULAR}


def test_repeat_purchases_only_when_configured() -> None:
    hybrid = build_hybrid(embeddings=np.eye(len(CATALOGUE), 8, dtype=np.float32)).fit(purchases(), CATALOGUE)
    with_repeats = hybrid.recommend("c100", n=3, exclude_bought=False)
    assert with_repeats[0].product_id == "tea"
    assert with_repeats[0].reason == BOUGHT_BEFORE and with_repeats[0].params == {"times": 3}
    new_only = hybrid.recommend("c100", n=3, exclude_bought=True)
    assert not {"tea", "pen"} & {r.product_id for r in new_only}
    assert new_only[0].product_id == "mug"  # bought with tea


def test_trending_favours_what_sold_lately() -> None:
    # Pens: 8 customers on days 15-22; keyboards: 11 customers, mostly earlier (days 0-5, 15-18, 23).
    trending = Trending(half_life_days=2.0).fit(purchases(), CATALOGUE)
    assert [r.product_id for r in trending.recommend("nobody", n=2)] == ["tea", "pen"]  # c100's tea: day 120
    assert Popularity().fit(purchases(), CATALOGUE).recommend("nobody", n=1)[0].product_id == "kb"


def test_recency_weighs_recent_orders_more() -> None:
    model = RepeatPurchases(half_life_days=10.0).fit(purchases(), CATALOGUE)
    scores = model.score(model.user_items[[model.user_index["c100"]]], [model.user_index["c100"]])[0]
    tea, pen = CATALOGUE.index["tea"], CATALOGUE.index["pen"]
    # Tea: 1 + 0.5 + 0.25; the pen, 120 days before the last order, weighs almost nothing.
    assert scores[tea] == pytest.approx(1.75, rel=1e-4)
    assert 0 < scores[pen] < 0.001


def test_content_similarity_explains_by_the_closest_bought_product() -> None:
    vectors = np.zeros((len(CATALOGUE), 3), dtype=np.float32)
    vectors[:, 2] = 1.0
    vectors[CATALOGUE.index["mug"]] = vectors[CATALOGUE.index["tea"]] = [1.0, 0.0, 0.0]
    vectors[CATALOGUE.index["kb"]] = vectors[CATALOGUE.index["pad"]] = [0.0, 1.0, 0.0]
    model = ContentSimilarity(vectors).fit(purchases(), CATALOGUE)
    recs = model.recommend_for_history({"mug": 1.0, "kb": 1.0}, n=2)
    assert {(r.product_id, r.with_item) for r in recs} == {("tea", "mug"), ("pad", "kb")}


def test_leave_last_order_out_and_metrics() -> None:
    train_part, targets = leave_last_order_out(purchases())
    assert targets == {"c100": {"tea"}}  # the only customer with two orders
    assert len(train_part) == len(purchases()) - 1
    metrics = ranking_metrics(np.array([[3, 1, 2], [5, 6, 7]]), [np.array([1]), np.array([9, 5])], k=3)
    assert metrics["hr"] == 1.0
    assert metrics["recall"] == pytest.approx((1 + 0.5) / 2)
    assert metrics["ndcg"] == pytest.approx((1 / np.log2(3) + 1 / (1 + 1 / np.log2(3))) / 2)


# Settings and artefact


def test_settings_default_when_the_section_is_absent() -> None:
    parsed = parse_recommender_settings({}, env={})
    assert parsed == RecommenderSettings()
    assert parsed.exclude_bought is True
    changed = parse_recommender_settings(
        {"recommender": {"exclude_bought": False, "collaborative": "item_knn", "artefact": "var/rec"}}, env={}
    )
    assert (changed.exclude_bought, changed.collaborative) == (False, ("item_knn",))
    assert changed.artefact_dir == PROJECT_ROOT / "var" / "rec"
    assert parse_recommender_settings({}, env={"KEFU_RECOMMENDER_DIR": "/tmp/r"}).artefact_dir == Path("/tmp/r")
    with pytest.raises(ConfigError, match="collaborative"):
        parse_recommender_settings({"recommender": {"collaborative": "magic"}}, env={})
    weights = parse_recommender_settings({"recommender": {"weights_new_only": {"ease": 2, "content": 1}}}, env={})
    assert weights.weights_new_only == {"ease": 2.0, "content": 1.0}
    with pytest.raises(ConfigError, match="weights"):
        parse_recommender_settings({"recommender": {"weights_new_only": {"magic": 1}}}, env={})
    with pytest.raises(ConfigError, match="unknown"):
        parse_recommender_settings({"recommender": {"exlude_bought": False}}, env={})


def order(oid: str, status: str, items: List[str], day: int = 1, returned: tuple | None = None) -> Order:
    address = Address("1 Road", "", "Town", "CA", "USA", "90000")
    lines = tuple(OrderItem(f"{p}-black", p, NAMES[p], Decimal("10"), {"color": "black"}) for p in items)
    return Order(oid, "c1", status, dt.date(2026, 1, day), address, lines, (), (), return_items=returned)


def test_artefact_round_trip_and_staleness(tmp_path: Path) -> None:
    model = Ease(l2=1.0).fit(purchases(), CATALOGUE)
    orders = [order("#W1", "delivered", ["kb"]), order("#W2", "pending", ["mug"], day=2)]
    meta = artefact.save(model, tmp_path, fingerprint(orders), {"ease_l2": 1.0})
    assert meta.fingerprint.orders == 2 and meta.fingerprint.newest_order_on == "2026-01-02"
    loaded = artefact.load(tmp_path)
    assert [r.product_id for r in loaded.recommend_for_item("kb")] == [
        r.product_id for r in model.recommend_for_item("kb")
    ]
    assert not artefact.is_stale(tmp_path, fingerprint(orders), {"ease_l2": 1.0})
    assert artefact.is_stale(tmp_path, fingerprint(orders), {"ease_l2": 2.0})  # other settings
    assert artefact.is_stale(tmp_path, fingerprint(orders + [order("#W3", "pending", ["tea"])]), None)
    returned = [orders[0], dataclasses.replace(orders[1], status="cancelled")]
    assert artefact.is_stale(tmp_path, fingerprint(returned), None)  # same count and dates, other status
    assert artefact.is_stale(tmp_path / "missing", fingerprint(orders), None)
    (tmp_path / artefact.META_FILE).write_text(
        (tmp_path / artefact.META_FILE).read_text().replace('"format_version": 1', '"format_version": 0')
    )
    assert artefact.is_stale(tmp_path, fingerprint(orders), None)  # an older format is retrained


def test_shop_history_and_live_exclusions() -> None:
    orders = [
        order("#W1", "delivered", ["kb", "pad"]),
        order("#W2", "return requested", ["mug", "pen"], returned=("mug-black",)),
        order("#W3", "pending", ["tea"]),
        order("#W4", "cancelled", ["lamp"]),
    ]
    assert customer_history(orders, ("cancelled",)) == {"kb": 1.0, "pad": 1.0, "mug": 1.0, "pen": 1.0, "tea": 1.0}
    exclusions = live_exclusions(
        CATALOGUE.products, orders, ("return requested",), basket=["pen"], current_statuses=("pending",)
    )
    assert exclusions.products == {"mug", "tea", "pen", "lamp"}  # returned, current order, basket, no stock
    assert "lamp-black" in exclusions.items


# Training from the store


def fake_embeddings(texts: List[str]) -> np.ndarray:
    """Hashed bag of words: similar names get similar vectors, without loading e5 (seconds) in tests."""
    vectors = np.zeros((len(texts), 384), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().replace(":", " ").replace(",", " ").split():
            vectors[row, zlib.crc32(word.encode()) % 384] += 1.0
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


@pytest.fixture(autouse=True)
def no_e5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kefu.embeddings.embed_passages", fake_embeddings)


@pytest.fixture
def rec_settings(tmp_path: Path) -> Iterator[RecommenderSettings]:
    yield RecommenderSettings(artefact_dir=tmp_path / "recommender")
    artefact.forget()


def test_train_from_a_seeded_store(store: SqlStore, rec_settings: RecommenderSettings) -> None:
    orders = store.order_history()
    assert len(orders) == 1000 and orders[0].ordered_on <= orders[-1].ordered_on
    assert needs_training(store, rec_settings)  # no artefact yet
    model, meta = train(store, rec_settings, progress=False)
    assert meta.fingerprint.orders == 1000
    assert not needs_training(store, rec_settings)
    assert artefact.shared(rec_settings.artefact_dir) is artefact.shared(rec_settings.artefact_dir)  # loaded once
    unavailable = {p.id for p in store.list_products() if not p.available_variants}
    recs = model.recommend("noah_brown_6181", n=5)
    assert len(recs) == 5 and not unavailable & {r.product_id for r in recs}
    bought = {"Electric Kettle", "Gaming Mouse", "Backpack"}
    names = {p.id: p.name for p in store.list_products()}
    assert not bought & {names[r.product_id] for r in recs}  # exclude_bought is the default
    customer_id, order_id = orders_pending(store)
    store.cancel_order(customer_id, order_id, "no longer needed", None)
    assert needs_training(store, rec_settings)  # an order changed since training


def orders_pending(store: SqlStore) -> tuple[str, str]:
    pending = next(o for o in store.order_history() if o.status == "pending")
    return pending.customer_id, pending.id


# action_recommend, run as the action server runs it


DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
SLOT_DEFAULTS = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}


@pytest.fixture(scope="module")
def trained_dir(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One artefact for the module, trained on the seeded store the action tests copy."""
    directory = tmp_path_factory.mktemp("recommender")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("kefu.embeddings.embed_passages", fake_embeddings)
        seeded = SqlStore(f"sqlite:///{template_db}")
        train(seeded, RecommenderSettings(artefact_dir=directory), progress=False)
        seeded.engine.dispose()
    return directory


@pytest.fixture
def shop(store: SqlStore, trained_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlStore]:
    monkeypatch.setenv("KEFU_RECOMMENDER_DIR", str(trained_dir))
    common.use_store(store)
    yield store
    common.use_store(None)
    artefact.forget()


def ask(text: str, **slots: Any) -> tuple[List[Dict[str, Any]], List[str]]:
    message = {"text": text, "intent": {"name": "ask_recommendation", "confidence": 0.99}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": message}]
    tracker = Tracker("conv-rec", dict(SLOT_DEFAULTS, **slots), message, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionRecommend().run(dispatcher, tracker, DOMAIN))
    return result, [m.get("text") or m.get("response") for m in dispatcher.messages]


def variants_by_line(store: SqlStore, answer: str) -> List[tuple[Product, Variant]]:
    """(product, variant) of every suggestion line, matched back by name and options."""
    found = []
    for line in answer.splitlines()[1:]:
        product = next(p for p in store.list_products() if line.startswith(f"- {p.name} ("))
        variant = next(v for v in product.variants if f"({v.describe_options()})" in line)
        found.append((product, variant))
    return found


def test_action_recommends_from_the_customers_history(shop: SqlStore) -> None:
    _, messages = ask("any suggestions for me?", customer_id="noah_brown_6181", language="en")
    assert len(messages) == 1 and messages[0].startswith("Based on your orders")
    suggested = variants_by_line(shop, messages[0])
    assert len(suggested) == 3
    assert all(variant.available for _, variant in suggested)
    assert not {"Electric Kettle", "Gaming Mouse", "Backpack"} & {p.name for p, _ in suggested}


def test_action_never_suggests_a_just_returned_product(
    shop: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = yaml.safe_load((PROJECT_ROOT / "kefu.yml").read_text())
    raw["recommender"] = {"exclude_bought": False}  # consumables: repeats allowed
    (tmp_path / "kefu.yml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("KEFU_CONFIG", str(tmp_path / "kefu.yml"))
    _, before = ask("recommend something", customer_id="noah_brown_6181")
    names = {p.name for p, _ in variants_by_line(shop, before[0])}
    assert "Electric Kettle" in names and "you have bought it before" in before[0]

    customer = shop.get_customer("noah_brown_6181")
    assert customer is not None
    shop.return_items("noah_brown_6181", "#W7678072", ["2323972008"], customer.payment_methods[0].id, None)
    _, after = ask("recommend something", customer_id="noah_brown_6181")
    assert "Electric Kettle" not in {p.name for p, _ in variants_by_line(shop, after[0])}


def test_action_answers_in_chinese_and_falls_back_to_english(shop: SqlStore) -> None:
    _, zh = ask("推荐一些商品", customer_id="noah_brown_6181", language="zh")
    assert zh[0].startswith("根据您的订单")
    _, fr = ask("des suggestions ?", customer_id="noah_brown_6181", language="fr")
    assert fr[0].startswith("Based on your orders")


def test_action_without_a_customer_suggests_popular_products(shop: SqlStore) -> None:
    _, messages = ask("what do people buy?")
    assert messages[0].startswith("Popular in our shop right now:")
    assert messages[0].count("a favourite of our customers") == 3


def test_action_what_goes_with_a_named_product(shop: SqlStore) -> None:
    events, messages = ask("what goes with my mechanical keyboard?", customer_id="noah_brown_6181")
    assert messages[0].startswith("Customers who buy the Mechanical Keyboard often add:")
    suggested = variants_by_line(shop, messages[0])
    assert suggested and "Mechanical Keyboard" not in {p.name for p, _ in suggested}
    assert {"event": "slot", "name": "product", "value": "Mechanical Keyboard"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]


def test_action_like_this_but_cheaper(shop: SqlStore) -> None:
    _, messages = ask("something like the tea kettle but cheaper", customer_id="noah_brown_6181")
    kettle = next(p for p in shop.list_products() if p.name == "Tea Kettle")
    suggested = variants_by_line(shop, messages[0])
    assert messages[0].startswith("Similar to the Tea Kettle:") and suggested
    assert all(v.available and v.price < min(k.price for k in kettle.variants) for _, v in suggested)
    assert "Tea Kettle" not in {p.name for p, _ in suggested}


def test_action_like_this_in_a_colour_offers_that_colour(shop: SqlStore) -> None:
    _, messages = ask("do you have something like the water bottle but in red?")
    suggested = variants_by_line(shop, messages[0])
    assert suggested and all(v.options.get("color") == "red" and v.available for _, v in suggested)
    assert suggested[0][0].name == "Water Bottle"  # its own red version comes first


def test_action_without_a_trained_model_says_so(store: SqlStore, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KEFU_RECOMMENDER_DIR", str(tmp_path / "never-trained"))
    common.use_store(store)
    try:
        events, messages = ask("recommend something", language="zh")
    finally:
        common.use_store(None)
    assert events == [] and messages == ["目前没有合适的推荐。"]


def after_order(shop: SqlStore, **slots: Any) -> List[str]:
    from actions.recommendations import suggest_after

    customer = "noah_brown_6181"
    order = shop.get_order(shop.list_orders(customer)[0].id, customer)
    assert order is not None and order.status == "delivered"
    message = {"text": "where is my order?", "intent": {"name": "track_order", "confidence": 0.99}, "entities": []}
    all_slots = dict(SLOT_DEFAULTS, customer_id=customer, **slots)
    tracker = Tracker("conv-after", all_slots, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    suggest_after(dispatcher, tracker, order)
    return [m["text"] for m in dispatcher.messages]


def test_a_delivered_order_brings_one_suggestion_when_the_mood_allows(shop: SqlStore) -> None:
    customer = "noah_brown_6181"
    order = shop.get_order(shop.list_orders(customer)[0].id, customer)
    assert order is not None
    messages = after_order(shop, sentiment="neutral", negative_streak=0.0)
    assert len(messages) == 1
    assert messages[0].startswith(f"By the way, customers who bought the {order.items[0].name} also liked the ")
    suggested = next(p for p in shop.list_products() if f"liked the {p.name} (" in messages[0])
    assert suggested.id not in {item.product_id for item in order.items}


@pytest.mark.parametrize(
    "slots",
    [{"sentiment": "negative"}, {"negative_streak": 2.0}, {"request_type": "complaint"}],
)
def test_no_suggestion_in_a_complaint_or_a_negative_streak(shop: SqlStore, slots: Dict[str, Any]) -> None:
    assert after_order(shop, **slots) == []

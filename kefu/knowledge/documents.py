"""Knowledge passages: the shop's Markdown policies, chunked by heading, and its catalogue.

A passage is the unit of retrieval and of grounding: one ``##`` section of one document in
one language, carrying its document title so that a section read alone still says what it is
about ("Returns / Returning a gift"). Product passages are built from the store so that
prices and options come from the same data the order flows use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable, List, Sequence

from kefu.config import PROJECT_ROOT

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"


@dataclass(frozen=True)
class Passage:
    id: str  # "<lang>/<document>#<section-slug>" or "product/<product id>"
    language: str
    title: str  # document title, then section heading
    text: str  # the section body, as written
    source: str  # file path relative to the project, or "store"

    @property
    def embedding_text(self) -> str:
        """What is embedded: the headings give a short section its topic."""
        return f"{self.title}: {self.text}"


def _slug(heading: str) -> str:
    return re.sub(r"[^\w]+", "-", heading.strip().lower()).strip("-") or "section"


def chunk_markdown(markdown: str, language: str, document: str, source: str) -> List[Passage]:
    """Split at ``##`` headings; text before the first one joins the document title."""
    doc_title = document
    sections: List[tuple[str, List[str]]] = []
    for line in markdown.splitlines():
        if line.startswith("# "):
            doc_title = line[2:].strip()
        elif line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.strip():
            if not sections:
                sections.append(("", []))
            sections[-1][1].append(line.strip())
    passages = []
    for heading, body in sections:
        if not body:
            continue
        title = f"{doc_title} / {heading}" if heading else doc_title
        passages.append(
            Passage(
                id=f"{language}/{document}#{_slug(heading or doc_title)}",
                language=language,
                title=title,
                text="\n".join(body),
                source=source,
            )
        )
    return passages


def load_documents(root: Path = KNOWLEDGE_DIR, languages: Sequence[str] | None = None) -> List[Passage]:
    """Every section of ``root/<lang>/*.md``, in a stable order (the index cache depends on it)."""
    passages: List[Passage] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if languages and folder.name not in languages:
            continue
        for path in sorted(folder.glob("*.md")):
            source = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
            passages += chunk_markdown(path.read_text(encoding="utf-8"), folder.name, path.stem, source)
    return passages


def _price_range(prices: Iterable[Decimal]) -> str:
    values = sorted(prices)
    low, high = values[0], values[-1]
    return f"${low:.2f}" if low == high else f"${low:.2f} to ${high:.2f}"


def product_passage(product) -> Passage | None:  # product: kefu.store.records.Product
    """One passage per product: its options and price range, from the store's variants."""
    variants = product.variants
    if not variants:
        return None
    options: dict[str, list[str]] = {}
    for variant in variants:
        for name, value in variant.options.items():
            if value not in options.setdefault(name, []):
                options[name].append(value)
    described = "; ".join(f"{name}: {', '.join(values)}" for name, values in options.items())
    available = [v for v in variants if v.available]
    prices = _price_range(v.price for v in (available or variants))
    text = (
        f"{product.name}. Options: {described}. Price: {prices}. {len(available)} of {len(variants)} variants in stock."
    )
    return Passage(
        id=f"product/{product.id}", language="en", title=f"Product / {product.name}", text=text, source="store"
    )


def load_catalogue(store) -> List[Passage]:  # store: kefu.store.base.Store
    """Product passages from ``store.list_products()`` (product names are English in the store)."""
    passages = [product_passage(p) for p in store.list_products()]
    return sorted((p for p in passages if p is not None), key=lambda p: p.id)

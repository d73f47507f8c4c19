"""Offline benchmark of Kefu's recommender against the usual baselines, on real gift-shop purchases.

Data: UCI Online Retail (../shared/datasets/rec-online-retail/, CC BY 4.0). Rows without a
customer, cancellations (invoice "C..."), non-positive quantities and non-product stock codes
(postage, fees, manual lines) are dropped. For every customer with at least two invoices the
last invoice is held out; every model ranks the whole catalogue (no sampled negatives).
Metrics: Recall@10, HR@10, NDCG@10, counting repeat purchases and for new items only.

The hybrid's weights are tuned on a validation split cut from the training part (each
customer's last *training* invoice), never on the test. Same library classes as the shop.

    .venv/bin/python benchmarks/recommender.py [--limit N]

Writes reports/recommender.json, reports/recommender.md and reports/recommender.png.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import re
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, List, Set, Tuple

import numpy as np

from kefu.recommender.base import Catalogue, Interactions, Recommender
from kefu.recommender.collaborative import Als, Ease, ItemKnn
from kefu.recommender.evaluation import leave_last_order_out, ranking_metrics, top_k_rows
from kefu.recommender.hybrid import (
    DEFAULT_WEIGHTS_NEW_ONLY,
    DEFAULT_WEIGHTS_WITH_BOUGHT,
    Hybrid,
    build_hybrid,
    tune_weights,
)
from kefu.recommender.popularity import Popularity, RepeatPurchases, Trending
from kefu.store.records import Product, Variant

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets" / "rec-online-retail" / "online_retail.csv.gz"
REPORTS = ROOT / "reports"
CACHE = ROOT / "var" / "cache"
PRODUCT_CODE = re.compile(r"^\d{5}[A-Za-z]{0,2}$")  # 85123A yes; POST, DOT, M, C2, BANK CHARGES no
K = 10
VARIANTS = {"with_repeats": False, "new_items_only": True}  # name -> exclude already-bought
HYBRID_COLLABORATIVE = ("ease", "item_knn", "als")


def load(limit: int | None) -> Tuple[Interactions, List[Product]]:
    rows, names, prices = [], {}, {}
    origin = dt.datetime(2010, 1, 1)
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["StockCode"].strip().upper()
            if not row["CustomerID"] or row["InvoiceNo"].startswith("C") or float(row["Quantity"]) <= 0:
                continue
            if not PRODUCT_CODE.match(code):
                continue
            when = dt.datetime.fromisoformat(row["InvoiceDate"])
            customer = str(int(float(row["CustomerID"])))
            rows.append((customer, code, row["InvoiceNo"], (when - origin).total_seconds() / 86400))
            names.setdefault(code, (row["Description"] or code).strip())
            prices.setdefault(code, row["UnitPrice"])
    data = Interactions.from_rows(rows)
    if limit:
        keep_customers = set(sorted(set(data.customers.tolist()))[:limit])
        data = data.subset(np.array([c in keep_customers for c in data.customers], dtype=bool))
    codes = sorted(set(data.products.tolist()))
    products = [Product(code, names[code], (Variant(code, code, {}, Decimal(prices[code]), True),)) for code in codes]
    return data, products


def embeddings_for(catalogue: Catalogue) -> np.ndarray:
    """e5 passage embeddings of the descriptions, computed once and cached under var/cache/."""
    texts = [catalogue.text(i) for i in range(len(catalogue))]
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"online-retail-e5-{key}.npy"
    if path.exists():
        return np.load(path)
    from tqdm import tqdm

    from kefu.embeddings import embed_passages

    chunks = [texts[i : i + 64] for i in range(0, len(texts), 64)]
    vectors = np.vstack([embed_passages(c) for c in tqdm(chunks, desc="embedding descriptions", unit="batch")])
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def measured_fit(make: Callable[[], Recommender], data: Interactions, catalogue: Catalogue):
    """Fit, timing it and tracing its peak Python + NumPy allocation."""
    model = make()
    tracemalloc.start()
    started = time.perf_counter()
    model.fit(data, catalogue)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return model, seconds, peak / 2**20


def scores_for(model: Recommender, users: List[int], exclude_bought: bool, batch: int = 512) -> np.ndarray:
    parts = []
    for start in range(0, len(users), batch):
        rows = users[start : start + batch]
        parts.append(model.score(model.user_items[rows], rows, exclude_bought=exclude_bought))
    return np.vstack(parts)


def relevant_sets(model: Recommender, targets: Dict[str, Set[str]], users: List[str], new_only: bool):
    """Per evaluated customer: relevant product indices (unknown products count, as misses)."""
    index, rows, relevant = model.catalogue.index, [], []
    for customer in users:
        row = model.user_index[customer]
        bought = set(model.user_items[row].indices.tolist())
        wanted = [index.get(p, -1 - n) for n, p in enumerate(sorted(targets[customer]))]
        if new_only:
            wanted = [w for w in wanted if w not in bought]
        if wanted:
            rows.append(row)
            relevant.append(np.asarray(wanted))
    return rows, relevant


def evaluate(model: Recommender, targets: Dict[str, Set[str]], new_only: bool) -> Dict[str, float]:
    users = [c for c in sorted(targets) if c in model.user_index]
    rows, relevant = relevant_sets(model, targets, users, new_only)
    scores = scores_for(model, rows, new_only)
    top = top_k_rows(scores, K, model.user_items[rows] if new_only else None)
    return dict(ranking_metrics(top, relevant, K), customers=len(rows))


def latency(model: Recommender, customers: List[str], new_only: bool) -> Dict[str, float]:
    times = []
    for customer in customers:
        started = time.perf_counter()
        model.recommend(customer, n=K, exclude_bought=new_only)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))}


def tune(data: Interactions, catalogue: Catalogue, embeddings: np.ndarray) -> Dict[str, Any]:
    """Weights per variant and the repeat half-life, chosen on each customer's last training invoice."""
    train, targets = leave_last_order_out(data)
    hybrid = build_hybrid(embeddings, collaborative=HYBRID_COLLABORATIVE).fit(train, catalogue)
    assert isinstance(hybrid, Hybrid)
    tuned: Dict[str, Any] = {}
    best_repeat = -1.0
    for variant, new_only in VARIANTS.items():
        users = [c for c in sorted(targets) if c in hybrid.user_index]
        rows, relevant = relevant_sets(hybrid, targets, users, new_only)
        banned = hybrid.user_items[rows] if new_only else None

        def metric(blended: np.ndarray, banned=banned, relevant=relevant) -> float:
            return ranking_metrics(top_k_rows(blended, K, banned), relevant, K)["ndcg"]

        # Bought products are filtered out of "new only" lists: the repeat half-life cannot matter there.
        for half_life in (90.0,) if new_only else (30.0, 90.0, 365.0, None):
            hybrid.components["repeat"] = RepeatPurchases(half_life).fit(train, catalogue)
            parts = component_scores(hybrid, rows)
            start = DEFAULT_WEIGHTS_NEW_ONLY if new_only else DEFAULT_WEIGHTS_WITH_BOUGHT
            weights, value = tune_weights(parts, metric, start)
            print(f"  validation {variant} half-life {half_life}: NDCG@{K} {value:.4f} with {weights}")
            if new_only:
                tuned[variant] = weights
            elif value > best_repeat:
                best_repeat, tuned["half_life_days"], tuned[variant] = value, half_life, weights
    return tuned


def component_scores(hybrid: Hybrid, rows: List[int], batch: int = 512) -> Dict[str, np.ndarray]:
    parts: Dict[str, List[np.ndarray]] = {}
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        for name, values in hybrid.component_scores(hybrid.user_items[chunk], chunk).items():
            parts.setdefault(name, []).append(values.astype(np.float32))
    return {name: np.vstack(values) for name, values in parts.items()}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N customers (quick runs)")
    parser.add_argument("--latency-sample", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

    started = time.perf_counter()
    data, products = load(args.limit)
    catalogue = Catalogue(products)
    train, targets = leave_last_order_out(data)
    print(f"{len(data)} purchases, {len(catalogue)} products, {len(targets)} test customers")
    embeddings = embeddings_for(catalogue)
    tuned = tune(train, catalogue, embeddings)
    half_life = tuned.pop("half_life_days")

    makers: Dict[str, Callable[[], Recommender]] = {
        "popularity": Popularity,
        "trending (14-day popularity)": Trending,
        "own most-bought": lambda: RepeatPurchases(half_life_days=None),
        "item-kNN": ItemKnn,
        "EASE": Ease,
        "ALS (implicit)": Als,
        "Kefu hybrid": lambda: build_hybrid(
            embeddings,
            half_life_days=half_life,
            collaborative=HYBRID_COLLABORATIVE,
            weights_with_bought=tuned["with_repeats"],
            weights_new_only=tuned["new_items_only"],
        ),
    }
    rng = np.random.default_rng(0)
    sample = [str(c) for c in rng.choice(sorted(targets), size=min(args.latency_sample, len(targets)), replace=False)]
    results = []
    for name, make in makers.items():
        model, seconds, peak_mib = measured_fit(make, train, catalogue)
        entry = {"model": name, "train_s": round(seconds, 2), "peak_mib": round(peak_mib, 1)}
        for variant, new_only in VARIANTS.items():
            entry[variant] = evaluate(model, targets, new_only)
            entry[f"latency_{variant}"] = latency(model, sample, new_only)
        print(f"  {name}: {entry}")
        results.append(entry)
    report = {
        "dataset": "UCI Online Retail (rec-online-retail), CC BY 4.0",
        "purchases": len(data),
        "products": len(catalogue),
        "test_customers": len(targets),
        "k": K,
        "command": "python benchmarks/recommender.py" + (f" --limit {args.limit}" if args.limit else ""),
        "tuned_weights": tuned,
        "half_life_days": half_life,
        "results": results,
        "verdict": verdict(results),
        "seconds": round(time.perf_counter() - started, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "recommender.json").write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS / "recommender.md").write_text(markdown(report))
    plot(report, REPORTS / "recommender.png")
    print(markdown(report))
    return 0


def verdict(results: List[Dict]) -> Dict[str, Dict[str, float | str | bool]]:
    """Per variant: the hybrid's NDCG@10 against the best baseline of the same run."""
    outcome = {}
    hybrid = next(r for r in results if r["model"] == "Kefu hybrid")
    for variant in VARIANTS:
        baselines = [r for r in results if r["model"] != "Kefu hybrid"]
        best = max(baselines, key=lambda r: r[variant]["ndcg"])
        margin = hybrid[variant]["ndcg"] - best[variant]["ndcg"]
        outcome[variant] = {
            "best_baseline": best["model"],
            "baseline_ndcg": round(best[variant]["ndcg"], 4),
            "hybrid_ndcg": round(hybrid[variant]["ndcg"], 4),
            "margin": round(margin, 4),
            "relative": round(margin / best[variant]["ndcg"], 4) if best[variant]["ndcg"] else 0.0,
            "beats": margin > 0,
        }
    return outcome


def markdown(report: Dict) -> str:
    lines = [
        "# Recommender benchmark",
        "",
        f"`{report['command']}` on {report['at']} ({report['cpus']} CPUs, Python {report['python']}, "
        f"{report['seconds']} s in all).",
        f"Data: {report['dataset']}: {report['purchases']:,} purchase lines, {report['products']:,} products "
        "after dropping rows without a customer, cancellations, non-positive quantities and non-product codes.",
        f"Split: each customer's last invoice held out ({report['test_customers']:,} test customers with at least two "
        "invoices); every model ranks the whole catalogue. Hybrid weights tuned on each customer's last training "
        "invoice (validation), not on the test.",
        "",
    ]
    for variant, title in (("with_repeats", "Counting repeat purchases"), ("new_items_only", "New items only")):
        lines += [
            f"## {title} (@{report['k']})",
            "",
            "| model | customers | Recall | HR | NDCG | train s | p50 ms | p95 ms | peak MiB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in report["results"]:
            m, lat = r[variant], r[f"latency_{variant}"]
            lines.append(
                f"| {r['model']} | {m['customers']} | {m['recall']:.3f} | {m['hr']:.3f} | {m['ndcg']:.3f} | "
                f"{r['train_s']} | {lat['p50_ms']:.2f} | {lat['p95_ms']:.2f} | {r['peak_mib']} |"
            )
        v = report["verdict"][variant]
        word = "beats" if v["beats"] else "does NOT beat"
        lines += [
            "",
            f"Kefu hybrid {word} the best baseline ({v['best_baseline']}, NDCG@10 {v['baseline_ndcg']:.3f}) "
            f"by {v['margin']:+.3f} ({v['relative']:+.1%}).",
            "",
        ]
    lines += [
        f"Tuned weights: `{json.dumps(report['tuned_weights'])}`; repeat half-life: {report['half_life_days']} days.",
        "Latency: one `recommend(customer, n=10)` call, filters and reasons included, 200 sampled test customers. "
        "Peak memory: tracemalloc peak during fit.",
        "",
    ]
    return "\n".join(lines)


def plot(report: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["model"] for r in report["results"]]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=False)
    for ax, (variant, title) in zip(
        axes, (("with_repeats", "counting repeats"), ("new_items_only", "new items only")), strict=True
    ):
        values = [r[variant]["ndcg"] for r in report["results"]]
        colours = ["tab:red" if n == "Kefu hybrid" else "tab:grey" for n in names]
        ax.barh(names, values, color=colours)
        ax.set_title(f"NDCG@{report['k']}, {title}")
        ax.invert_yaxis()
        for y, value in enumerate(values):
            ax.text(value, y, f" {value:.3f}", va="center")
        ax.set_xlim(0, max(values) * 1.25)
    fig.suptitle(f"Online Retail, last invoice held out, {report['test_customers']:,} customers")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())

"""Translation benchmark: chrF and BLEU (sacrebleu) on NTREX-128, every backend available here.

Data: ../shared/datasets/mt-ntrex128/ (newstest2019 sentences, professional translations),
the first ``--limit`` sentences (300 by default) for zh->en, en->zh, en->fr, en->es, en->de.
Backends: passthrough (the floor: the source copied), the generator with few-shot prompts
(gemma-3-270m by llama.cpp), and transformers seq2seq when a local model is configured
(KEFU_TRANSLATOR_MODEL; no package ships Marian/NLLB/M2M100 weights, so it is skipped here).

Each translated sentence is appended to var/cache/translation/<backend>/<direction>.jsonl, so
an interrupted run resumes where it stopped; sentences go round-robin over the directions so
a partial run has balanced samples. Writes reports/translation.{json,md}.

    nice .venv/bin/python benchmarks/translation.py --limit 300
    .venv/bin/python benchmarks/translation.py --report-only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

from kefu.translation.base import Translator

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets" / "mt-ntrex128"
CACHE = ROOT / "var" / "cache" / "translation"
REPORTS = ROOT / "reports"
FILES = {
    "en": "newstest2019-src.eng.txt",
    "zh": "newstest2019-ref.zho-CN.txt",
    "fr": "newstest2019-ref.fra.txt",
    "es": "newstest2019-ref.spa.txt",
    "de": "newstest2019-ref.deu.txt",
}
PAUSED_ABOVE_S = 60.0
RUN_COMMAND = "nice -n 10 .venv/bin/python benchmarks/translation.py --limit 300 --chunk 10"
DIRECTIONS = [("zh", "en"), ("en", "zh"), ("en", "fr"), ("en", "es"), ("en", "de")]


def load_corpus(limit: int) -> Dict[str, List[str]]:
    return {lang: (DATA / name).read_text(encoding="utf-8").splitlines()[:limit] for lang, name in FILES.items()}


def cache_path(backend: str, source: str, target: str) -> Path:
    return CACHE / backend.replace(":", "__") / f"{source}-{target}.jsonl"


def read_cache(path: Path) -> Dict[int, dict]:
    if not path.exists():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["i"]] = row
    return rows


def available_backends(names: List[str]) -> Tuple[Dict[str, Translator], Dict[str, str]]:
    """The translators that can run here, and why the others cannot."""
    from kefu.translation.passthrough import PassthroughTranslator

    ready: Dict[str, Translator] = {}
    skipped: Dict[str, str] = {}
    if "passthrough" in names:
        ready["passthrough"] = PassthroughTranslator()
    if "gemma" in names:
        from kefu.generation.llama_cpp import LlamaCppGenerator, llama_cpp_available
        from kefu.translation.generator_prompted import GeneratorPromptedTranslator

        reason = llama_cpp_available()
        if reason:
            skipped["generator_prompted:llama_cpp"] = reason
        else:
            ready["generator_prompted:llama_cpp"] = GeneratorPromptedTranslator(LlamaCppGenerator())
    if "seq2seq" in names:
        model = os.environ.get("KEFU_TRANSLATOR_MODEL")
        if model and Path(model).exists():
            from kefu.translation.seq2seq import Seq2SeqTranslator

            ready["seq2seq"] = Seq2SeqTranslator(model)
        else:
            skipped["seq2seq"] = (
                "no offline weights: no package ships Marian/NLLB/M2M100 and the hub is unreachable; "
                "set KEFU_TRANSLATOR_MODEL to a local model folder to include it"
            )
    return ready, skipped


def translate_one(name: str, translator: Translator, source: str, target: str, i: int, text: str) -> dict:
    started = time.monotonic()
    try:
        hyp = translator.translate(text, source, target).text
    except Exception as error:  # one failed sentence scores as empty, the run goes on
        hyp = ""
        print(f"{name} {source}->{target} #{i}: {error}", file=sys.stderr)
    row = {"i": i, "hyp": hyp, "seconds": round(time.monotonic() - started, 3)}
    path = cache_path(name, source, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row


def run(backends: Dict[str, Translator], corpus: Dict[str, List[str]], limit: int, chunk: int, args) -> None:
    """Blocks of ``chunk`` sentences per direction, directions in turn: a stopped run stays balanced,
    and consecutive prompts share their few-shot prefix, which llama.cpp keeps in its KV cache."""
    caches = {(name, s, t): read_cache(cache_path(name, s, t)) for name in backends for s, t in DIRECTIONS}
    for start in range(0, limit, chunk):
        for name, translator in backends.items():
            for source, target in DIRECTIONS:
                done = caches[(name, source, target)]
                for i in range(start, min(start + chunk, limit)):
                    if i not in done:
                        done[i] = translate_one(name, translator, source, target, i, corpus[source][i])
        write_report(corpus, limit, args, {})
        print(f"sentences {min(start + chunk, limit)}/{limit} done in every direction", flush=True)


def score(name: str, source: str, target: str, corpus: Dict[str, List[str]], limit: int) -> dict | None:
    import sacrebleu

    rows = read_cache(cache_path(name, source, target))
    indices = sorted(i for i in rows if i < limit)
    if not indices:
        return None
    hyps = [rows[i]["hyp"] for i in indices]
    refs = [corpus[target][i] for i in indices]
    tokenize = "zh" if target == "zh" else "13a"
    bleu = sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize)
    chrf = sacrebleu.corpus_chrf(hyps, [refs])
    # A sentence can only exceed the 30 s translation timeout by a few seconds; longer rows
    # span a pause of this process (SIGSTOP while another benchmark ran): not translation time.
    seconds = [rows[i]["seconds"] for i in indices if rows[i]["seconds"] <= PAUSED_ABOVE_S]
    return {
        "sentences": len(indices),
        "chrF": round(chrf.score, 1),
        "BLEU": round(bleu.score, 1),
        "bleu_tokenize": tokenize,
        "seconds_per_sentence": round(sum(seconds) / len(seconds), 3) if seconds else None,
        "median_seconds": round(statistics.median(seconds), 3) if seconds else None,
        "timing_excluded": len(indices) - len(seconds),
        "empty_outputs": sum(1 for h in hyps if not h.strip()),
    }


def write_report(corpus: Dict[str, List[str]], limit: int, args, skipped: Dict[str, str]) -> dict:
    names = sorted(p.name.replace("__", ":") for p in CACHE.glob("*") if p.is_dir())
    results = {}
    for name in names:
        for source, target in DIRECTIONS:
            scored = score(name, source, target, corpus, limit)
            if scored:
                results.setdefault(name, {})[f"{source}-{target}"] = scored
    report = {
        "data": "NTREX-128 (newstest2019 sources, professional references), ../shared/datasets/mt-ntrex128/",
        "split": f"first {limit} sentences of the file (multi-parallel: same sentences in every direction)",
        "metrics": "sacrebleu corpus chrF and BLEU (tokenize zh for Chinese targets, 13a otherwise)",
        "command": RUN_COMMAND + " (scored from its cache with --report-only)"
        if args.report_only
        else "nice .venv/bin/python benchmarks/translation.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, shared with other work",
        "results": results,
        "skipped": skipped,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "translation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (REPORTS / "translation.md").write_text(render_markdown(report))
    return report


def render_markdown(report: dict) -> str:
    lines = [
        "# Translation benchmark",
        "",
        f"- Data: {report['data']}",
        f"- Split: {report['split']}",
        f"- Metrics: {report['metrics']}",
        f"- Command: `{report['command']}`",
        f"- Machine: {report['machine']}",
        "",
        "| backend | direction | sentences | chrF | BLEU | s / sentence (mean, median) | empty |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, directions in report["results"].items():
        for direction, r in directions.items():
            lines.append(
                f"| {name} | {direction} | {r['sentences']} | {r['chrF']} | {r['BLEU']} | "
                f"{r['seconds_per_sentence']}, {r['median_seconds']} | {r['empty_outputs']} |"
            )
    if report["skipped"]:
        lines += ["", "Not run here:", ""]
        lines += [f"- {name}: {why}" for name, why in report["skipped"].items()]
    lines += [
        "",
        "Limits: one reference per sentence; news text, not shop text; a sample smaller than the split",
        "means the run was stopped early (the `sentences` column is the sample size). Passthrough copies",
        "the source: its scores are the floor any real translator must beat. Timing excludes sentences",
        f"longer than {PAUSED_ABOVE_S:g} s (the process was paused while the generation benchmark ran; see",
        "`timing_excluded` in the JSON); the machine was shared, so seconds vary with other work.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=300, help="first N sentences (default 300)")
    parser.add_argument("--backends", default="passthrough,gemma,seq2seq", help="comma-separated subset")
    parser.add_argument("--chunk", type=int, default=20, help="sentences per direction before the next one")
    parser.add_argument("--report-only", action="store_true", help="score what the cache holds, translate nothing")
    args = parser.parse_args()
    corpus = load_corpus(args.limit)
    backends, skipped = available_backends(args.backends.split(","))
    if not args.report_only:
        run(backends, corpus, args.limit, args.chunk, args)
    report = write_report(corpus, args.limit, args, skipped)
    print(render_markdown(report))


if __name__ == "__main__":
    main()

"""Security benchmark: the hostile corpus against Kefu started as `make run` starts it.

Plays tests/security/hostile_corpus.yml (plus lone surrogates and over-long messages) through
an anonymous and an identified conversation, then counts answered / empty / 5xx / slow replies,
replies that showed another customer's data, and writes outside a human-agent request (store
export and audit log before and after). Then measures the latency a bystander's "hello" sees
quietly, while a maximum-length message (security.max_message_chars) is being read, and while
a 1,000,000-character message arrives. Writes reports/security.json and reports/security.md.

    .venv/bin/python benchmarks/security.py [--slow-s 3] [--bystander-runs 10]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

from kefu.config import PROJECT_ROOT
from kefu.security.audit import (
    GENERATED_MESSAGES,
    Customer,
    ForeignData,
    ServedKefu,
    corpus_values,
    load_corpus,
    replay_corpus,
    shipped_settings,
)
from kefu.security.settings import security_settings
from kefu.store import open_store, prepare_store
from kefu.store.seed import export_store

CORPUS = PROJECT_ROOT / "tests" / "security" / "hostile_corpus.yml"
REPORTS = PROJECT_ROOT / "reports"
ME, OTHER = "james_li_5688", "omar_anderson_3203"


def corpus_messages(store: Any) -> tuple[list[tuple[str, str]], Dict[str, str]]:
    values = corpus_values(store, ME, OTHER)
    return load_corpus(CORPUS, values) + GENERATED_MESSAGES, values


def timed_hello(kefu: ServedKefu) -> float:
    started = time.monotonic()
    assert Customer(kefu).say("hello")
    return time.monotonic() - started


def bystander_during(kefu: ServedKefu, message: str, runs: int) -> Dict[str, float]:
    """A bystander's hello latency while ``message`` is being handled in another conversation."""
    bystander: List[float] = []
    heavy: List[float] = []
    for _ in range(runs):

        def send() -> None:
            started = time.monotonic()
            Customer(kefu).say(message)
            heavy.append(time.monotonic() - started)

        worker = threading.Thread(target=send)
        worker.start()
        time.sleep(0.05)
        bystander.append(timed_hello(kefu))
        worker.join()
    return {
        "bystander_p50_s": round(statistics.median(bystander), 3),
        "bystander_max_s": round(max(bystander), 3),
        "message_p50_s": round(statistics.median(heavy), 3),
        "message_max_s": round(max(heavy), 3),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow-s", type=float, default=3.0, help="a reply slower than this counts as slow")
    parser.add_argument("--bystander-runs", type=int, default=10)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kefu-security-"))
    db = work / "kefu.db"
    prepare_store(f"sqlite:///{db}").engine.dispose()
    settings = shipped_settings()
    settings["authentication"]["lockout"]["per_source"] = 100_000  # the whole corpus comes from 127.0.0.1
    kefu = ServedKefu.with_settings(f"sqlite:///{db}", work, settings)
    store = open_store(f"sqlite:///{db}")
    try:
        messages, values = corpus_messages(store)
        foreign = ForeignData.of_store(store, ME)
        before, audit_before = export_store(store), len(store.audit_log())
        outcomes = []

        def identify(chat: Customer) -> None:
            chat.say("where are my orders?")
            assert "verified" in chat.say(f"my email is {values['my_email']} and my zip code is {values['my_zip']}")

        for identified in (False, True):
            chat = Customer(kefu)
            if identified:
                identify(chat)
            outcomes += replay_corpus(chat, messages, foreign, identify if identified else None)
        wrongly_written = int(export_store(store) != before)
        # Tickets for a person are the only writes allowed, never shop data.
        wrongly_written += sum(1 for e in store.audit_log()[audit_before:] if e.entity != "ticket")

        longest = ("my order has not arrived and I have been waiting for weeks now " * 40)[
            : security_settings().max_message_chars
        ]
        quiet = [timed_hello(kefu) for _ in range(args.bystander_runs)]
        latency = {
            "quiet_p50_s": round(statistics.median(quiet), 3),
            "quiet_max_s": round(max(quiet), 3),
            "max_length_message": bystander_during(kefu, longest, args.bystander_runs),
            "million_characters": bystander_during(kefu, "a" * 1_000_000, args.bystander_runs),
        }
    finally:
        kefu.stop()
        store.engine.dispose()
        shutil.rmtree(work, ignore_errors=True)

    seconds = [o.seconds for o in outcomes]
    report = {
        "command": "python benchmarks/security.py",
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "corpus": str(CORPUS.relative_to(PROJECT_ROOT)),
        "messages": len(outcomes),
        "conversations": {"anonymous": len(outcomes) // 2, "identified": len(outcomes) // 2},
        "answered": sum(1 for o in outcomes if o.status == 200 and o.reply.strip()),
        "empty": sum(1 for o in outcomes if o.status == 200 and not o.reply.strip()),
        "server_errors": sum(1 for o in outcomes if o.status >= 500),
        "slow": sum(1 for s in seconds if s > args.slow_s),
        "slow_threshold_s": args.slow_s,
        "leaked": sum(1 for o in outcomes if o.leaked),
        "wrongly_written": wrongly_written,
        "reply_p50_s": round(statistics.median(seconds), 3),
        "reply_p95_s": round(sorted(seconds)[int(0.95 * (len(seconds) - 1))], 3),
        "max_message_chars": security_settings().max_message_chars,
        "bystander": latency,
        "failures": [
            {"category": o.category, "message": o.message[:120], "status": o.status, "leaked": o.leaked}
            for o in outcomes
            if o.status != 200 or not o.reply.strip() or o.leaked
        ],
        "per_category": {},
    }
    for o in outcomes:
        row = report["per_category"].setdefault(o.category, {"messages": 0, "answered": 0, "slow": 0})
        row["messages"] += 1
        row["answered"] += int(o.status == 200 and bool(o.reply.strip()))
        row["slow"] += int(o.seconds > args.slow_s)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "security.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (REPORTS / "security.md").write_text(render(report))
    print(render(report))


def render(r: Dict[str, Any]) -> str:
    b = r["bystander"]
    lines = [
        "# Security benchmark",
        "",
        f"`{r['command']}`: the hostile corpus (`{r['corpus']}` plus lone surrogates and over-long messages) "
        f"through one anonymous and one identified conversation against Kefu started by `scripts/serve.sh run` "
        f"({r['machine']}).",
        "",
        "| messages | answered | empty | 5xx | slow (> {:.0f} s) | leaked | wrongly written | reply p50 / p95 |".format(
            r["slow_threshold_s"]
        ),
        "|---|---|---|---|---|---|---|---|",
        f"| {r['messages']} | {r['answered']} | {r['empty']} | {r['server_errors']} | {r['slow']} | {r['leaked']} "
        f"| {r['wrongly_written']} | {r['reply_p50_s']} s / {r['reply_p95_s']} s |",
        "",
        f'Latency of a bystander\'s "hello" in another conversation ({b["max_length_message"]["runs"]} runs each):',
        "",
        "| while | bystander p50 | bystander max | the other message p50 | its max |",
        "|---|---|---|---|---|",
        f"| nothing else (quiet) | {b['quiet_p50_s']} s | {b['quiet_max_s']} s | | |",
    ]
    for key, label in (
        ("max_length_message", f"a {r['max_message_chars']}-character message (the longest read)"),
        ("million_characters", "a 1,000,000-character message (refused)"),
    ):
        row = b[key]
        lines.append(
            f"| {label} | {row['bystander_p50_s']} s | {row['bystander_max_s']} s | {row['message_p50_s']} s "
            f"| {row['message_max_s']} s |"
        )
    lines += ["", "| category | messages | answered | slow |", "|---|---|---|---|"]
    for name, row in r["per_category"].items():
        lines.append(f"| {name} | {row['messages']} | {row['answered']} | {row['slow']} |")
    if r["failures"]:
        lines += ["", "Failures:", ""] + [f"- {f}" for f in r["failures"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

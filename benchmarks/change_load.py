"""Load benchmark of whole return and exchange conversations, with the database checked after.

N simulated customers (default 20) talk to Kefu at once over the REST channel, each playing one
return or exchange task of the shared tau-bench retail tasks (the scripted customer of
tests/customer_simulator.py: identification with email and zip code, or name and zip code, in
one message; order, items, new versions, payment, "yes").
Tasks are the first ones of train + dev whose only gold call is a return or an exchange, on
distinct orders. Kefu runs with its action server on a fresh copy of the seeded store. After the
run each task's order must equal what its gold calls give (tests/reference_world.py).

Reports messages per second, per-turn latency p50 / p95 / p99, and how many database states
ended correct, in reports/change_load.json and reports/change_load.md.

    .venv/bin/python benchmarks/change_load.py --customers 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import aiohttp
from rest_load import (
    BENCH_DIR,
    PROFILES,
    REPORTS,
    Result,
    post,
    start_kefu,
)

from kefu.evaluation.customer_simulator import Script, answer, script_for, settled
from kefu.evaluation.reference_world import apply_calls, rounded
from kefu.evaluation.tasks import shared_tasks
from kefu.store import prepare_store
from kefu.store.seed import export_store, read_seed

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"return_delivered_order_items": "return", "exchange_delivered_order_items": "exchange"}


def pick_scenarios(count: int) -> List[Dict[str, Any]]:
    """Alternately return and exchange tasks, each on an order and a customer of its own."""
    tasks = shared_tasks()
    seed = read_seed()
    by_kind: Dict[str, List[Dict[str, Any]]] = {"return": [], "exchange": []}
    seen_orders, seen_users = set(), set()
    for position, task in enumerate(tasks):
        if len(task["actions"]) != 1 or task["actions"][0]["name"] not in KINDS:
            continue
        script = script_for(task, seed, position)
        order_id = task["actions"][0]["kwargs"]["order_id"]
        if script is None or order_id in seen_orders or task["user_id"] in seen_users:
            continue
        seen_orders.add(order_id)
        seen_users.add(task["user_id"])
        by_kind[KINDS[task["actions"][0]["name"]]].append({"task": task, "script": script})
    mixed = [s for pair in zip(by_kind["return"], by_kind["exchange"], strict=False) for s in pair]
    return mixed[:count]


async def play_over_rest(session: aiohttp.ClientSession, url: str, script: Script, n: int, result: Result) -> None:
    sender = f"bench-change-{n}-{time.monotonic_ns()}"
    (request,) = script.requests
    reply = " ".join(await post(session, url, sender, script.opening(0), result))
    for _ in range(10):
        if settled(reply):
            break
        said = answer(request, script, reply) or "I already told you what I need"
        reply = " ".join(await post(session, url, sender, said, result))
    result.conversations += 1


async def drive(url: str, scenarios: List[Dict[str, Any]]) -> Result:
    result = Result("kefu_return_exchange")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=180)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(play_over_rest(session, url, s["script"], n, result) for n, s in enumerate(scenarios)))
        result.wall_seconds = time.perf_counter() - started
    return result


def run_profile(profile: str, scenarios: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The scenarios against Kefu in ``profile`` on a fresh copy of the seeded store, checked after."""
    store_path = BENCH_DIR / f"change_load-{profile}.db"
    store_path.unlink(missing_ok=True)
    store_url = f"sqlite:///{store_path}"
    store = prepare_store(store_url)
    servers: List[Any] = []
    try:
        kefu_port, _ = start_kefu(servers, f"change-{profile}", env={"KEFU_STORE_URL": store_url}, profile=profile)
        print(f"{profile}: driving {len(scenarios)} concurrent return / exchange conversations", flush=True)
        result = asyncio.run(drive(f"http://127.0.0.1:{kefu_port}/webhooks/rest/webhook", scenarios))
    finally:
        for server in servers:
            server.stop()
    seed, actual = read_seed(), rounded(export_store(store))
    checks = []
    for scenario in scenarios:
        order_id = scenario["task"]["actions"][0]["kwargs"]["order_id"]
        expected = rounded(apply_calls(seed, scenario["task"]["actions"]))
        checks.append(
            {
                "order": order_id,
                "kind": scenario["script"].kind,
                "correct": actual["orders"][order_id] == expected["orders"][order_id],
            }
        )
    return {
        "results": result.summary(),
        "database_states_correct": sum(c["correct"] for c in checks),
        "database_states_checked": len(checks),
        "checks": checks,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20, help="concurrent customers, one scenario each")
    parser.add_argument("--profiles", default=",".join(PROFILES), help=f"comma-separated, of {', '.join(PROFILES)}")
    args = parser.parse_args()
    profiles = [name for name in args.profiles.split(",") if name]
    if not profiles or set(profiles) - set(PROFILES):
        parser.error(f"--profiles: of {', '.join(PROFILES)}")

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    scenarios = pick_scenarios(args.customers)
    runs = {profile: run_profile(profile, scenarios) for profile in profiles}
    report = {
        "benchmark": "concurrent return / exchange conversations over REST, database checked after",
        "command": "python benchmarks/change_load.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "data": "tau-bench retail tasks (kefu/evaluation/tasks, train + dev), first return and exchange tasks "
        "(single gold call) on distinct orders and customers, alternating",
        "concurrent_customers": len(scenarios),
        "profiles": runs,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "change_load.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = []
    for profile, run in runs.items():
        s = run["results"]
        rows.append(
            f"| {profile} | {s['conversations']} | {s['messages']} | {s['messages_per_second']} | "
            f"{s['latency_ms_p50']} | {s['latency_ms_p95']} | {s['latency_ms_p99']} | {s['errors']} | "
            f"{run['database_states_correct']} / {run['database_states_checked']} |"
        )
    (REPORTS / "change_load.md").write_text(
        f"# Return and exchange conversations under load\n\n`{report['command']}` on {report['date']} "
        f"({os.cpu_count()} CPUs). {len(scenarios)} customers at once, one whole conversation each, against Kefu "
        "started by scripts/serve.sh in each profile, each on a fresh copy of the seeded store.\n"
        f"Data: {report['data']}.\n\n"
        "| profile | conversations | messages | msg/s | p50 ms | p95 ms | p99 ms | errors | database states correct |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    print((REPORTS / "change_load.md").read_text())
    return 0 if all(run["results"]["errors"] == 0 for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

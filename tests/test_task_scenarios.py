"""Database-state scenarios: the shared tasks played as whole conversations with live Kefu.

For each scenario a scripted customer (tests/customer_simulator.py) talks to Kefu from the
task's instruction; afterwards the whole store (users, orders, products) must equal the state
that the task's gold calls give when applied to the seed by the independent reference
(tests/reference_world.py). Scenarios are the cancel, return, exchange and item-change tasks
of the shared train and dev sets whose only gold call is that write, chosen by position. The
outcome of every scenario, with the transcript of the failures, is written to
reports/task_scenarios.json and .md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from kefu.config import PROJECT_ROOT
from kefu.evaluation.customer_simulator import Script, play, script_for
from kefu.evaluation.reference_world import apply_calls, rounded
from kefu.evaluation.tasks import shared_tasks
from kefu.store.seed import export_store, read_seed
from tests.conftest import Live

pytestmark = pytest.mark.conversation

# Scenarios per kind of change, and how many of each must end in the expected state.
PER_KIND = {"cancel": 20, "return": 20, "exchange": 10, "modify_items": 10}
MIN_PASSING = {"cancel": 18, "return": 18, "exchange": 7, "modify_items": 7}
WRITES = {
    "cancel_pending_order",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "modify_pending_order_items",
}


def scenarios() -> List[Dict[str, Any]]:
    tasks = shared_tasks()
    users = read_seed()["users"]
    chosen: Dict[str, List[Dict[str, Any]]] = {kind: [] for kind in PER_KIND}
    for index, task in enumerate(tasks):
        if len(task["actions"]) != 1 or task["actions"][0]["name"] not in WRITES:
            continue
        script = script_for(task, users)
        if script is not None and len(chosen[script.kind]) < PER_KIND[script.kind]:
            chosen[script.kind].append({"task": task, "script": script, "index": index})
    return [scenario for kind in PER_KIND for scenario in chosen[kind]]


def test_task_scenarios_end_in_the_expected_database_state(live: Live, template_db: Path) -> None:
    seed = read_seed()
    results = []
    for scenario in scenarios():
        task, script = scenario["task"], scenario["script"]
        live.restore(template_db)  # every scenario starts from the seed
        chat = live.conversation()
        transcript = play(script, chat.say)
        expected = rounded(apply_calls(seed, task["actions"]))
        actual = rounded(export_store(live.store))
        passed = actual == expected
        results.append(
            {
                "task": f"{task['source']}[{scenario['index']}]",
                "kind": script.kind,
                "passed": passed,
                "why": "" if passed else _difference(actual, expected, script),
                "transcript": [] if passed else transcript,
            }
        )
    live.restore(template_db)
    _write_report(results)
    assert len(results) == sum(PER_KIND.values())
    for kind, minimum in MIN_PASSING.items():
        passing = sum(r["passed"] for r in results if r["kind"] == kind)
        assert passing >= minimum, f"{kind}: {passing} scenarios passed; see reports/task_scenarios.md"


def _difference(actual: Dict[str, Any], expected: Dict[str, Any], script: Script) -> str:
    order_now, order_wanted = actual["orders"][script.order_id], expected["orders"][script.order_id]
    if order_now == order_wanted:
        return "the order is right but another table differs (payment method balances?)"
    if order_now["status"] == read_seed()["orders"][script.order_id]["status"]:
        return f"nothing was written; the order is still {order_now['status']}"
    keys = sorted(k for k in set(order_now) | set(order_wanted) if order_now.get(k) != order_wanted.get(k))
    return "order differs in " + ", ".join(f"{k}: {order_now.get(k)!r} != {order_wanted.get(k)!r}" for k in keys)


def _write_report(results: List[Dict[str, Any]]) -> None:
    reports = PROJECT_ROOT / "reports"
    reports.mkdir(exist_ok=True)
    passing = sum(r["passed"] for r in results)
    summary = {
        "scenarios": len(results),
        "passed": passing,
        "by_kind": {
            kind: f"{sum(r['passed'] for r in results if r['kind'] == kind)}/{sum(r['kind'] == kind for r in results)}"
            for kind in PER_KIND
        },
        "data": "tau-bench retail tasks (kefu/evaluation/tasks, train + dev): the first tasks of each kind "
        f"({PER_KIND}) whose only gold call is that write",
        "command": "make test (tests/test_task_scenarios.py)",
        "results": results,
    }
    (reports / "task_scenarios.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Database-state scenarios",
        "",
        f"{passing} of {len(results)} scenarios end in the expected database state "
        "(" + ", ".join(f"{kind} {count}" for kind, count in summary["by_kind"].items()) + ").",
        f"Data: {summary['data']}. Command: {summary['command']}.",
        "",
        "| task | kind | result | why |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['task']} | {r['kind']} | {'pass' if r['passed'] else 'FAIL'} | {r['why']} |" for r in results]
    (reports / "task_scenarios.md").write_text("\n".join(lines) + "\n")

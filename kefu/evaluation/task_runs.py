"""Every shared task played as one whole conversation, and the database judged after each.

Used by the conversation test (a fixed subset, in CI) and by ``benchmarks/task_scenarios.py``
(all of them, ``make bench-tasks``). A task passes when the whole store (users, orders,
products) equals what the task's gold calls give when the independent reference
(``reference_world``) applies them to the seed. A failed task names each request whose order
ended wrong, what is wrong with it, and Kefu's last words on it, so that failures group by
cause in the report.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Sequence

from kefu.evaluation.customer_simulator import Script, play, script_for
from kefu.evaluation.reference_world import World, apply_calls, rounded

Say = Callable[[str], str]


@dataclass(frozen=True)
class Chosen:
    source: str  # "tasks_train.json[12]"
    position: int
    task: Dict[str, Any]
    script: Script


@dataclass
class Outcome:
    task: str
    kinds: List[str]
    writes: int
    passed: bool
    seconds: float
    failures: List[Dict[str, str]] = field(default_factory=list)  # kind, order, what, kefu_said
    transcript: List[str] = field(default_factory=list)


def playable(tasks: Sequence[Dict[str, Any]], seed: World) -> List[Chosen]:
    """The tasks a scripted customer can play, in their shared order."""
    chosen, in_file = [], Counter()
    for position, task in enumerate(tasks):
        index = in_file[task["source"]]
        in_file[task["source"]] += 1
        script = script_for(task, seed, position)
        if script is not None:
            chosen.append(Chosen(f"{task['source']}[{index}]", position, task, script))
    return chosen


def every_nth(chosen: Sequence[Chosen], step: int) -> List[Chosen]:
    """A representative subset: every ``step``-th task, so kinds and write counts mix as in the whole."""
    return list(chosen[::step])


def play_all(
    chosen: Iterable[Chosen],
    seed: World,
    new_conversation: Callable[[], Say],
    restore: Callable[[], None],
    export: Callable[[], World],
    progress: Callable[[Outcome], None] | None = None,
) -> List[Outcome]:
    """Each task from the seed, as one conversation; the store judged after it."""
    outcomes = []
    for item in chosen:
        restore()
        started = time.perf_counter()
        played = play(item.script, new_conversation())
        seconds = time.perf_counter() - started
        expected = rounded(apply_calls(seed, item.task["actions"]))
        actual = rounded(export())
        failures = [] if actual == expected else _failures(item.script, actual, expected, seed, played.endings)
        if actual != expected and not failures:
            failures = [{"kind": "-", "order": "-", "what": _other_table(actual, expected), "kefu_said": ""}]
        outcome = Outcome(
            item.source,
            item.script.kinds,
            len([r for r in item.script.requests if r.kind != "keep"]),
            actual == expected,
            round(seconds, 2),
            failures,
            [] if actual == expected else played.transcript,
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes


def _failures(script: Script, actual: World, expected: World, seed: World, endings: List[str]) -> List[Dict[str, str]]:
    """One entry per order that ended wrong, named by the requests about it ("order_address+modify_items")."""
    by_order: Dict[str, List[int]] = {}
    for number, request in enumerate(script.requests):
        by_order.setdefault(request.order_id, []).append(number)
    found = []
    for order_id, numbers in by_order.items():
        now, wanted = actual["orders"][order_id], expected["orders"][order_id]
        if now == wanted:
            continue
        if now == rounded(seed["orders"][order_id]):
            what = "nothing written"
        else:
            what = "wrong " + ", ".join(sorted(k for k in set(now) | set(wanted) if now.get(k) != wanted.get(k)))
        kinds = "+".join(script.requests[n].kind for n in numbers)
        last_words = endings[numbers[-1]] if numbers[-1] < len(endings) else ""
        found.append({"kind": kinds, "order": order_id, "what": what, "kefu_said": last_words})
    return found


def _other_table(actual: World, expected: World) -> str:
    tables = [name for name in expected if actual.get(name) != expected.get(name)]
    return "orders right, " + ", ".join(tables) + " differ"


def _said_shape(text: str) -> str:
    """Kefu's words with ids, amounts and names of things blurred, so that the same answer groups."""
    text = re.sub(r"#W\d+|\$[\d,.]+|\d+", "#", text.replace("\n", " "))
    return text[:90]


def summary(outcomes: Sequence[Outcome]) -> Dict[str, Any]:
    def share(selected: List[Outcome]) -> Dict[str, Any]:
        passed = sum(o.passed for o in selected)
        return {
            "passed": passed,
            "tasks": len(selected),
            "share": round(passed / len(selected), 3) if selected else None,
        }

    kinds = sorted({k for o in outcomes for k in o.kinds})
    writes = sorted({o.writes for o in outcomes})
    causes = Counter(
        f"{f['kind']}: {f['what']} | Kefu: {_said_shape(f['kefu_said'])}" for o in outcomes for f in o.failures
    )
    return {
        "all": share(list(outcomes)),
        "by_writes": {str(n): share([o for o in outcomes if o.writes == n]) for n in writes},
        # A task counts for each kind it asks for: "no kind below 80%".
        "by_kind": {kind: share([o for o in outcomes if kind in o.kinds]) for kind in kinds},
        "causes": causes.most_common(),
        "seconds_per_task": round(sum(o.seconds for o in outcomes) / max(1, len(outcomes)), 2),
    }


def write_report(outcomes: Sequence[Outcome], stem: Path, data: str, command: str) -> Dict[str, Any]:
    """``stem``.json (everything, transcripts of the failures) and ``stem``.md (the tables)."""
    facts = {"data": data, "command": command, **summary(outcomes)}
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(
        json.dumps({**facts, "outcomes": [asdict(o) for o in outcomes]}, indent=1, ensure_ascii=False) + "\n"
    )
    every = facts["all"]
    lines = [
        "# Shared tasks as whole conversations",
        "",
        f"**{every['passed']} of {every['tasks']}** tasks end in the expected database state ({every['share']:.1%}).",
        f"Data: {data}. Command: `{command}`. Mean {facts['seconds_per_task']} s a task.",
        "",
        "| writes in the task | passed | tasks | share |",
        "|---|---|---|---|",
        *[f"| {n} | {s['passed']} | {s['tasks']} | {s['share']:.1%} |" for n, s in facts["by_writes"].items()],
        "",
        "| kind (a task counts for each kind it asks for) | passed | tasks | share |",
        "|---|---|---|---|",
        *[f"| {k} | {s['passed']} | {s['tasks']} | {s['share']:.1%} |" for k, s in facts["by_kind"].items()],
        "",
        "## Why the others failed (request kind: what is wrong | Kefu's last words on it)",
        "",
        "| requests | cause |",
        "|---|---|",
        *[f"| {count} | {cause.replace('|', '/')} |" for cause, count in facts["causes"]],
        "",
        "## Failed tasks",
        "",
        *[
            f"- {o.task} ({', '.join(o.kinds)}): "
            + "; ".join(f"{f['kind']} {f['order']}: {f['what']}" for f in o.failures)
            for o in outcomes
            if not o.passed
        ],
    ]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return facts

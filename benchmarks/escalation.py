"""Escalation benchmark: when does Kefu bring in a person, on the team's labelled conversations.

Data: benchmarks/data/escalation_conversations.yml (116 scripted conversations, five languages,
calm, impatient, angry, confused and terse customers; each labelled with the trigger that should
fire, or none; split in halves "tune" and "test").

1. Observe (tune half): Kefu as `make run` starts it, with every trigger off but "asked for a
   person", plays each conversation; the events of each turn are kept.
2. Tune: every combination of the thresholds in GRID is applied offline to those events with the
   policy's own decision function (kefu.policies.escalation.decide), at the end of each turn as
   the policy would; the combination with the best F1 of "escalated or not" (fewest false
   escalations on ties) is chosen.
3. Evaluate (test half): Kefu with the chosen thresholds plays the other half for real; what it
   did (an offer or a handoff, and the reason it gave) is read from the conversation's events.

Writes reports/escalation.json and reports/escalation.md: precision and recall of escalating,
recall by trigger and by language, the confusion of triggers, the thresholds chosen.

    .venv/bin/python benchmarks/escalation.py [--limit N]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import platform
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Tuple

import yaml

from kefu.config import PROJECT_ROOT
from kefu.escalation.conversation import read_conversation
from kefu.escalation.settings import parse_escalation
from kefu.policies.escalation import EscalationPolicy, decide
from kefu.security.audit import EVERY_DAY, Customer, ServedKefu, http, shipped_settings
from kefu.store import prepare_store

DATA = PROJECT_ROOT / "benchmarks" / "data" / "escalation_conversations.yml"
REPORTS = PROJECT_ROOT / "reports"
ESCALATION_ACTIONS = ("action_offer_human", "action_handoff")
# Thresholds tried on the tune half (trigger -> key -> values).
GRID: Dict[str, Dict[str, List[float]]] = {
    "negative_mood": {"turns": [2, 3, 4]},
    "sentiment_drop": {"drop": [0.8, 1.0, 1.2], "below": [-0.4, -0.5, -0.6]},
    "repeated_fallback": {"turns": [2, 3]},
    "severe_complaint": {"sentiment_below": [-0.6, -0.7, -0.8, -0.9], "order_value_above": [300, 500]},
    "repeated_request": {"times": [2, 3], "within": [3, 4]},
}


@dataclass
class Played:
    id: str
    language: str
    persona: str
    split: str
    expect: str
    events: List[Dict[str, Any]]
    turn_ends: List[int]  # index in events just after Kefu finished each customer turn


def load_conversations(limit: int | None) -> List[Dict[str, Any]]:
    conversations = yaml.safe_load(DATA.read_text(encoding="utf-8"))["conversations"]
    if limit:
        conversations = conversations[:limit]
    return conversations


def settings_with(base: Dict[str, Any], triggers: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """kefu.yml with these escalation triggers, agents always in, no source lockout in the way."""
    settings = copy.deepcopy(base)
    settings["escalation"]["triggers"] = {name: dict(value) for name, value in triggers.items()}
    settings["escalation"]["hours"].update(EVERY_DAY)
    settings["authentication"]["lockout"]["per_source"] = 100_000
    return settings


def play(conversations: List[Dict[str, Any]], settings: Dict[str, Any], work: Path) -> List[Played]:
    """Each conversation through Kefu as `make run` starts it; the events Kefu recorded."""
    work.mkdir(parents=True, exist_ok=True)
    db = work / "kefu.db"
    prepare_store(f"sqlite:///{db}")
    kefu = ServedKefu.with_settings(f"sqlite:///{db}", work, settings)
    played = []
    try:
        for number, conversation in enumerate(conversations, 1):
            customer = Customer(kefu, sender=f"esc-{conversation['id']}-{int(time.time())}")
            turn_ends = []
            for text in conversation["turns"]:
                customer.send(text)
                turn_ends.append(len(tracker_events(kefu, customer.sender)))
            events = tracker_events(kefu, customer.sender)
            played.append(
                Played(
                    conversation["id"],
                    conversation["language"],
                    conversation["persona"],
                    conversation["split"],
                    conversation["expect"],
                    events,
                    turn_ends,
                )
            )
            print(
                f"  {number}/{len(conversations)} {conversation['id']}: {what_kefu_did(events)[1] or '-'}", flush=True
            )
    finally:
        kefu.stop()
    return played


def tracker_events(kefu: ServedKefu, sender: str) -> List[Dict[str, Any]]:
    reply = http("GET", f"{kefu.url}/conversations/{sender}/tracker?token={kefu.api_token}")
    return list(reply.body.get("events") or [])


def what_kefu_did(events: Iterable[Mapping[str, Any]]) -> Tuple[bool, str | None]:
    """Whether Kefu brought in a person, and the reason it gave.

    An offer is the ``handoff_offered`` slot turning true (the policy's offers and those actions
    make after an answer only a person can settle); a handoff is ``action_handoff``, whose own
    events name the reason.
    """
    events = list(events)
    reason = None
    for index, event in enumerate(events):
        if event.get("event") == "slot" and event.get("name") == "handoff_reason" and event.get("value"):
            reason = event["value"]
        if event.get("event") == "slot" and event.get("name") == "handoff_offered" and event.get("value") is True:
            return True, reason
        if event.get("event") == "action" and event.get("name") == "action_handoff":
            for later in events[index + 1 :]:
                if later.get("event") in ("action", "user"):
                    break
                if later.get("event") == "slot" and later.get("name") == "handoff_reason" and later.get("value"):
                    return True, later["value"]
            return True, reason or "asked_for_human"
    return False, None


def turn_views(played: Played) -> List[Any]:
    """The conversation as the policy sees it at the end of each customer turn."""
    views = []
    for end in played.turn_ends:
        prefix = [
            e for e in played.events[:end] if not (e.get("event") == "action" and e.get("name") == "action_listen")
        ]
        views.append(read_conversation(prefix))
    return views


def replayed_decision(
    played: Played, views: List[Any], escalation: Any, config: Dict[str, Any]
) -> Tuple[bool, str | None]:
    """What Kefu with these thresholds would do on the observed events, turn by turn.

    At each turn's end the policy decides first; escalations that do not depend on the
    thresholds (a request for a person, an offer made by an answer) happened as observed.
    """
    start = 0
    for end, view in zip(played.turn_ends, views, strict=True):
        trigger = decide(view, view.active_loop, escalation, config)
        if trigger is not None:
            return True, trigger.reason.value
        observed = what_kefu_did(played.events[start:end])
        if observed[0]:
            return observed
        start = end
    return False, None


def combinations(base: Dict[str, Any]) -> Iterable[Dict[str, Dict[str, Any]]]:
    keys = [(trigger, key) for trigger, params in GRID.items() for key in params]
    for values in itertools.product(*(GRID[t][k] for t, k in keys)):
        triggers = copy.deepcopy(base)
        for (trigger, key), value in zip(keys, values, strict=True):
            triggers[trigger][key] = value
        yield triggers


def scores(decisions: List[Tuple[Played, bool, str | None]]) -> Dict[str, Any]:
    tp = sum(1 for p, escalated, _ in decisions if escalated and p.expect != "none")
    fp = sum(1 for p, escalated, _ in decisions if escalated and p.expect == "none")
    fn = sum(1 for p, escalated, _ in decisions if not escalated and p.expect != "none")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    right_trigger = sum(1 for p, escalated, reason in decisions if escalated and reason == p.expect)
    return {
        "conversations": len(decisions),
        "should_escalate": tp + fn,
        "escalated": tp + fp,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "false_escalations": fp,
        "missed": fn,
        "right_trigger_among_escalated": right_trigger,
    }


def tune(observed: List[Played], base_settings: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    config = EscalationPolicy.get_default_config()
    views = {p.id: turn_views(p) for p in observed}
    best: Tuple[Tuple[float, int, int, int], Dict[str, Any], Dict[str, Any]] | None = None
    for triggers in combinations(base_settings["escalation"]["triggers"]):
        escalation = parse_escalation({**base_settings["escalation"], "triggers": triggers})
        decisions = [(p, *replayed_decision(p, views[p.id], escalation, config)) for p in observed]
        result = scores(decisions)
        # Ties go to fewer false escalations, then the right reasons, then the thresholds shipped.
        shipped = sum(
            1
            for trigger, params in GRID.items()
            for key in params
            if triggers[trigger][key] == base_settings["escalation"]["triggers"][trigger][key]
        )
        key = (result["f1"], -result["false_escalations"], result["right_trigger_among_escalated"], shipped)
        if best is None or key > best[0]:
            best = (key, triggers, result)
    assert best is not None
    return best[1], best[2]


def breakdown(decisions: List[Tuple[Played, bool, str | None]], field: str) -> Dict[str, Dict[str, Any]]:
    groups: Dict[str, List[Tuple[Played, bool, str | None]]] = defaultdict(list)
    for decision in decisions:
        groups[getattr(decision[0], field)].append(decision)
    return {name: scores(group) for name, group in sorted(groups.items())}


def by_expected_trigger(decisions: List[Tuple[Played, bool, str | None]]) -> Dict[str, Dict[str, Any]]:
    table: Dict[str, Dict[str, Any]] = {}
    for expect in sorted({p.expect for p, _, _ in decisions}):
        group = [(p, e, r) for p, e, r in decisions if p.expect == expect]
        escalated = sum(1 for _, e, _ in group if e)
        table[expect] = {
            "conversations": len(group),
            "escalated": escalated,
            "with_this_reason": sum(1 for p, e, r in group if e and r == expect),
            "reasons_given": dict(Counter(r for _, e, r in group if e)),
        }
    return table


def write_reports(report: Dict[str, Any]) -> None:
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "escalation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    test = report["test"]
    overall = test["overall"]
    lines = [
        "# Escalation: when Kefu brings in a person",
        "",
        f"Data: `{DATA.relative_to(PROJECT_ROOT)}`, {report['data']['conversations']} scripted conversations "
        f"({report['data']['tune']} tune, {report['data']['test']} test). Thresholds chosen on the tune half "
        "(offline, on the events Kefu produced with the mood triggers off); figures below are the test half, "
        "played live against Kefu as `make run` starts it.",
        f"Command: `.venv/bin/python benchmarks/escalation.py`; {report['date']}, {report['machine']}.",
        "",
        "## Test half: escalated or not",
        "",
        "| conversations | should escalate | escalated | precision | recall | F1 | false escalations | missed |",
        "|---|---|---|---|---|---|---|---|",
        f"| {overall['conversations']} | {overall['should_escalate']} | {overall['escalated']} | "
        f"{overall['precision']} | {overall['recall']} | {overall['f1']} | "
        f"{overall['false_escalations']} | {overall['missed']} |",
        "",
        "## Test half, by expected trigger",
        "",
        "| expected | conversations | escalated | with that reason | reasons Kefu gave |",
        "|---|---|---|---|---|",
    ]
    for expect, row in test["by_trigger"].items():
        reasons = ", ".join(f"{k}: {v}" for k, v in row["reasons_given"].items()) or "-"
        lines.append(
            f"| {expect} | {row['conversations']} | {row['escalated']} | {row['with_this_reason']} | {reasons} |"
        )
    lines += [
        "",
        "## Test half, by language",
        "",
        "| language | conversations | precision | recall | F1 | false escalations |",
    ]
    lines.append("|---|---|---|---|---|---|")
    for language, row in test["by_language"].items():
        lines.append(
            f"| {language} | {row['conversations']} | {row['precision']} | {row['recall']} | {row['f1']} | "
            f"{row['false_escalations']} |"
        )
    lines += [
        "",
        "## Thresholds chosen on the tune half",
        "",
        f"Tune-half score with them (offline): F1 {report['tune']['score']['f1']}, precision "
        f"{report['tune']['score']['precision']}, recall {report['tune']['score']['recall']}.",
        "",
        "```yaml",
        yaml.safe_dump({"triggers": report["tune"]["thresholds"]}, sort_keys=False).strip(),
        "```",
        "",
        "## Test conversations Kefu got wrong",
        "",
    ]
    wrong = [row for row in test["conversations"] if row["escalated"] != (row["expect"] != "none")]

    def did(row: Dict[str, Any]) -> str:
        return f"brought in a person ({row['reason'] or 'no reason recorded'})" if row["escalated"] else "no escalation"

    lines += [f"- `{row['id']}` ({row['persona']}): expected {row['expect']}, Kefu: {did(row)}" for row in wrong] or [
        "- none"
    ]
    (REPORTS / "escalation.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N conversations (a quick check)")
    args = parser.parse_args()
    base = shipped_settings()
    conversations = load_conversations(args.limit)
    tune_half = [c for c in conversations if c["split"] == "tune"]
    test_half = [c for c in conversations if c["split"] == "test"]
    with tempfile.TemporaryDirectory(prefix="kefu-escalation-") as tmp:
        only_asking = {"asked_for_human": base["escalation"]["triggers"]["asked_for_human"]}
        print(f"observing the tune half ({len(tune_half)} conversations), mood triggers off")
        observed = play(tune_half, settings_with(base, only_asking), Path(tmp) / "observe")
        thresholds, tune_score = tune(observed, base)
        print(f"chosen on the tune half: {thresholds} (F1 {tune_score['f1']})")
        print(f"playing the test half ({len(test_half)} conversations) with them")
        tested = play(test_half, settings_with(base, thresholds), Path(tmp) / "test")
        shutil.rmtree(tmp, ignore_errors=True)
    decisions = [(p, *what_kefu_did(p.events)) for p in tested]
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "data": {
            "path": str(DATA.relative_to(PROJECT_ROOT)),
            "conversations": len(conversations),
            "tune": len(tune_half),
            "test": len(test_half),
        },
        "tune": {"thresholds": thresholds, "score": tune_score, "grid": GRID},
        "test": {
            "overall": scores(decisions),
            "by_trigger": by_expected_trigger(decisions),
            "by_language": breakdown(decisions, "language"),
            "by_persona": breakdown(decisions, "persona"),
            "conversations": [
                {
                    "id": p.id,
                    "language": p.language,
                    "persona": p.persona,
                    "expect": p.expect,
                    "escalated": e,
                    "reason": r,
                }
                for p, e, r in decisions
            ],
        },
    }
    write_reports(report)
    print(f"test half: {report['test']['overall']}")
    print("wrote reports/escalation.json and reports/escalation.md")


if __name__ == "__main__":
    main()

"""Every shared task as one whole conversation with live Kefu, the database judged after each.

The scripted customer of kefu/evaluation/customer_simulator.py asks for every change of a task
(one to seven writes: cancellations, returns, exchanges, item changes, new addresses, new
payment methods) in one conversation, in the task's order; after each conversation the whole
store must equal what the task's gold calls give (kefu/evaluation/reference_world.py). Kefu runs
as the tests run it: the trained model in this process, its action server over HTTP, a SQLite
copy of the seed restored before each task.

Writes reports/task_scenarios.json and .md: the share of database states right, by number of
writes and by kind, the grouped causes of the rest and each failed transcript.

    .venv/bin/python benchmarks/task_scenarios.py            # all tasks (11 to 14 minutes on 2 cores)
    .venv/bin/python benchmarks/task_scenarios.py --step 6   # the CI subset
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from kefu.config import PROJECT_ROOT
from kefu.evaluation.harness import ActionServer, Assistant, quiet_rasa_logs, restore_sqlite
from kefu.evaluation.task_runs import Outcome, every_nth, play_all, playable, write_report
from kefu.evaluation.tasks import shared_tasks
from kefu.store import open_store, prepare_store
from kefu.store.seed import export_store, read_seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", type=int, default=1, help="play every STEP-th playable task (default: all)")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many tasks (0: no limit)")
    parser.add_argument("--tasks", default="", help='only these: "tasks_train.json[5],tasks_dev.json[3]"')
    parser.add_argument("--out", default=str(PROJECT_ROOT / "reports" / "task_scenarios"), help="report stem")
    args = parser.parse_args()
    if args.step < 1 or args.limit < 0:
        parser.error("--step must be at least 1 and --limit not negative")

    seed = read_seed()
    every = playable(shared_tasks(), seed)
    chosen = every_nth(every, args.step)[: args.limit or None]
    if args.tasks:
        named = set(args.tasks.split(","))
        chosen = [item for item in chosen if item.source in named]
    work = Path(tempfile.mkdtemp(prefix="kefu-tasks-"))
    template, live = work / "seed.db", work / "kefu.db"
    prepare_store(f"sqlite:///{template}").engine.dispose()
    shutil.copy(template, live)
    store_url = f"sqlite:///{live}"
    server = ActionServer(store_url, work / "actions.log")
    try:
        assistant = Assistant(server.webhook, store_url)
        quiet_rasa_logs()
        store = open_store(store_url)
        counter = iter(range(1, len(chosen) + 1))

        def restore() -> None:
            assistant.flush_signals()
            restore_sqlite(template, live)

        def new_conversation() -> Callable[[str], str]:
            sender = f"bench-task-{next(counter)}"
            return lambda text: "\n".join(assistant.say(sender, text))

        def progress(outcome: Outcome) -> None:
            mark = "pass" if outcome.passed else "FAIL " + "; ".join(f["what"] for f in outcome.failures)
            print(f"{outcome.task} {','.join(outcome.kinds)} {outcome.seconds:.1f}s {mark}", flush=True)

        print(f"playing {len(chosen)} of {len(every)} playable tasks", flush=True)
        outcomes = play_all(chosen, seed, new_conversation, restore, lambda: export_store(store), progress)
        assistant.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    command = "python benchmarks/task_scenarios.py " + " ".join(sys.argv[1:])
    data = (
        f"tau-bench retail tasks (kefu/evaluation/tasks, train + dev, MIT): {len(chosen)} of the "
        f"{len(every)} playable tasks" + (f", every {args.step}th" if args.step > 1 else "")
    )
    facts = write_report(outcomes, Path(args.out), data, command.strip())
    print(Path(args.out).with_suffix(".md").read_text())
    return 0 if facts["all"]["tasks"] else 1


if __name__ == "__main__":
    sys.exit(main())

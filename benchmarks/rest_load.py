"""Load benchmark over the REST channel: Kefu against the stock `rasa init` assistant, same run.

N simulated customers talk at once, each through a whole conversation, and every turn's
latency (POST to reply) is recorded:

- Kefu: "hi", "where is my order?", the customer's email and zip code in one message
  (identification: an email alone is not enough), then "the first one" when Kefu lists several
  orders; the answer must name one of the customer's orders.
- stock `rasa init` bot (trained here once, cached in var/bench/): "hi", "I'm sad", "yes", "bye".

Every assistant runs as a real server on loopback ports: the stock bot with Rasa's defaults, and
Kefu twice, started by scripts/serve.sh as `make run` (default profile) and `make run-production`
(a Rasa and an action-server worker a core, Redis) start it, with secrets generated for the run,
on the configured store. The assistants take turns, round after round. Figures: messages per
second over the whole run, and per-turn latency p50 / p95 / p99, for each assistant, with its
ratios to the stock bot; then one round at each of --curve's concurrencies, plotted to
reports/rest_load.png. Then free questions under load: while the --customers order customers
chat with Kefu's default profile, --question-askers more customers ask the team's policy
questions (benchmarks/data/policy_questions.yml), each in a conversation of its own; their
latency, which of them reached the generator (from the trackers) and how many replies hold the
expected facts. Writes reports/rest_load.json and reports/rest_load.md.

    .venv/bin/python benchmarks/rest_load.py --customers 20 --conversations 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Tuple

import aiohttp
import yaml

from kefu.evaluation.harness import free_port, wait_for_http
from kefu.security.audit import ServedKefu
from kefu.store import open_store

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
REPORTS = ROOT / "reports"
RASA = str(Path(sys.executable).with_name("rasa"))


@dataclass
class Result:
    name: str
    latencies_ms: List[float] = field(default_factory=list)
    conversations: int = 0
    correct: int = 0
    errors: int = 0
    wall_seconds: float = 0.0
    senders: List[str] = field(default_factory=list)  # each conversation's, in order of first message

    def summary(self) -> Dict[str, float]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)

        return {
            "messages": len(ordered),
            "conversations": self.conversations,
            "conversations_correct": self.correct,
            "errors": self.errors,
            "wall_seconds": round(self.wall_seconds, 2),
            "messages_per_second": round(len(ordered) / self.wall_seconds, 2),
            "latency_ms_p50": pct(50),
            "latency_ms_p95": pct(95),
            "latency_ms_p99": pct(99),
            "latency_ms_mean": round(statistics.mean(ordered), 1),
        }


class Server:
    """A subprocess that is stopped when the benchmark ends, whatever happens."""

    def __init__(
        self, args: List[str], cwd: Path, log: Path, env: Dict[str, str] | None = None, api_token: str | None = None
    ) -> None:
        self.api_token = api_token  # what Rasa's HTTP API wants (--auth-token), if anything
        self.log = open(log, "w")  # noqa: SIM115 - open for the server's lifetime
        self.process = subprocess.Popen(
            args, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {}))
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def post(session: aiohttp.ClientSession, url: str, sender: str, text: str, result: Result) -> List[str]:
    if sender not in result.senders:
        result.senders.append(sender)
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        body = await response.json(content_type=None)
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    if response.status != 200 or not isinstance(body, list):
        result.errors += 1
        return []
    return [m.get("text", "") for m in body]


Conversation = Callable[[aiohttp.ClientSession, str, int, Result], Awaitable[None]]


def kefu_conversation(customers: List[Dict[str, object]]) -> Conversation:
    async def talk(session: aiohttp.ClientSession, url: str, n: int, result: Result) -> None:
        customer = customers[n % len(customers)]
        sender = f"bench-kefu-{n}-{time.monotonic_ns()}"
        await post(session, url, sender, "hi", result)
        await post(session, url, sender, "where is my order?", result)
        identity = f"my email is {customer['email']} and my zip code is {customer['zip']}"
        reply = " ".join(await post(session, url, sender, identity, result))
        if "Which one" in reply:
            reply = " ".join(await post(session, url, sender, "the first one", result))
        result.conversations += 1
        result.correct += any(order_id in reply for order_id in customer["orders"])  # type: ignore[attr-defined]

    return talk


async def stock_conversation(session: aiohttp.ClientSession, url: str, n: int, result: Result) -> None:
    sender = f"bench-stock-{n}-{time.monotonic_ns()}"
    await post(session, url, sender, "hi", result)
    reply = " ".join(await post(session, url, sender, "I'm sad", result))
    await post(session, url, sender, "yes", result)
    await post(session, url, sender, "bye", result)
    result.conversations += 1
    result.correct += "picture" in reply or "cheer" in reply.lower()


async def drive(url: str, conversation: Conversation, customers: int, per_customer: int, name: str) -> Result:
    """``customers`` concurrent loops, each holding ``per_customer`` conversations in a row."""
    result = Result(name)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await conversation(session, url, -1, Result("warm-up"))

        async def customer(index: int) -> None:
            for k in range(per_customer):
                try:
                    await conversation(session, url, index * per_customer + k, result)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    result.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(customers)))
        result.wall_seconds = time.perf_counter() - started
    return result


QUESTIONS = ROOT / "benchmarks" / "data" / "policy_questions.yml"


@dataclass
class Asked:
    """One free question asked under load: its reply and whether the generator's action ran."""

    question: Dict[str, Any]
    sender: str
    latency_ms: float
    reply: str
    answered_from_documents: bool = False


async def ask_questions(
    session: aiohttp.ClientSession, url: str, questions: List[Dict[str, Any]], asker: int, stop: asyncio.Event
) -> List[Asked]:
    """Questions one after another, each as a new customer's first message, until ``stop``."""
    asked: List[Asked] = []
    n = 0
    while not stop.is_set():
        question = questions[(asker + n * 7) % len(questions)]  # askers walk the list from different points
        sender = f"bench-question-{asker}-{n}-{time.monotonic_ns()}"
        result = Result("question")
        replies = await post(session, url, sender, question["question"], result)
        asked.append(Asked(question, sender, result.latencies_ms[0], " ".join(replies)))
        n += 1
    return asked


async def questions_under_load(
    url: str, conversation: Conversation, customers: int, per_customer: int, askers: int
) -> Tuple[Result, List[Asked]]:
    """``customers`` order conversations as in ``drive``, with ``askers`` question customers beside them."""
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        # The model loads on the first question: not part of what a customer waits for later.
        await post(session, url, f"bench-question-warm-{time.monotonic_ns()}", questions[0]["question"], Result("w"))
        asking = [asyncio.create_task(ask_questions(session, url, questions, a, stop)) for a in range(askers)]
        load = await drive(url, conversation, customers, per_customer, "kefu_with_questions")
        stop.set()
        asked = [item for task in asking for item in await task]
    return load, asked


def reached_generator(port: int, token: str, asked: List[Asked]) -> None:
    """Mark the questions whose conversation ran action_answer_question (Rasa's tracker API)."""
    for item in asked:
        query = urllib.parse.urlencode({"token": token})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/conversations/{item.sender}/tracker?{query}") as reply:
            events = json.load(reply)["events"]
        item.answered_from_documents = any(
            e.get("event") == "action" and e.get("name") == "action_answer_question" for e in events
        )


def question_summary(asked: List[Asked], load: Result) -> Dict[str, Any]:
    from benchmarks.generation import has_fact

    def latency(items: List[Asked]) -> Dict[str, float]:
        ordered = sorted(i.latency_ms for i in items)
        if not ordered:
            return {}
        pick = lambda p: round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)  # noqa: E731
        return {"count": len(ordered), "p50_ms": pick(50), "p95_ms": pick(95), "max_ms": round(ordered[-1], 1)}

    factual = [i for i in asked if i.question.get("must_contain")]
    with_facts = [i for i in factual if all(has_fact(item, i.reply) for item in i.question["must_contain"])]
    generated = [i for i in asked if i.answered_from_documents]
    return {
        "questions_asked": len(asked),
        "all_questions": latency(asked),
        "answered_from_documents": latency(generated),
        "replies_with_the_expected_facts": f"{len(with_facts)} / {len(factual)}",
        "by_language": {
            lang: latency([i for i in generated if i.question["language"] == lang])
            for lang in sorted({i.question["language"] for i in generated})
        },
        "order_customers_meanwhile": load.summary(),
    }


def start_rasa(
    model: Path,
    cwd: Path,
    port: int,
    log: Path,
    endpoints: Path | None,
    extra_args: List[str] | None = None,
    api_token: str | None = None,
    env: Dict[str, str] | None = None,
) -> Server:
    args = [RASA, "run", "--enable-api", "--port", str(port), "-m", str(model)]
    if endpoints:
        args += ["--endpoints", str(endpoints)]
    if api_token:
        # One argument: a urlsafe token may start with "-", which argparse reads as an option.
        args.append(f"--auth-token={api_token}")
    return Server(args + (extra_args or []), cwd, log, env=env, api_token=api_token)


# Kefu as a shop starts it: scripts/serve.sh in one of its modes.
PROFILES = {
    "default": "run",  # `make run`: one Rasa process, one action server, conversations in memory
    "production": "production",  # `make run-production`: a Rasa and an action-server worker a core, Redis
}


def start_kefu(
    servers: List[Any], name: str, env: Dict[str, str] | None = None, profile: str = "default"
) -> Tuple[int, ServedKefu]:
    """Kefu started by scripts/serve.sh in ``profile`` on free loopback ports, ready (appended to ``servers``).

    The action server answers only calls carrying the shared secret, Rasa's HTTP API needs a
    token, customers talk through Kefu's channels; the secrets (and the production profile's
    Redis password) are generated for the run and passed in the environment, never written to
    var/secrets. The store is the configured one unless ``env`` names another.
    """
    work_dir = BENCH_DIR / f"served-{name}"
    shutil.rmtree(work_dir, ignore_errors=True)  # a production run starts with an empty Redis
    work_dir.mkdir(parents=True)
    kefu = ServedKefu(None, work_dir, env=env, mode=PROFILES[profile], workers=os.cpu_count() or 1)
    servers.append(kefu)
    return kefu.port, kefu


def wait_for_rasa(port: int, server: Server, timeout: float = 300) -> None:
    """Until Rasa answers on ``port`` with its model loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Rasa on port {port} exited; see {server.log.name}")
        try:
            query = f"?token={server.api_token}" if server.api_token else ""
            wait_for_http(f"http://127.0.0.1:{port}/status{query}", 2)
            return
        except (TimeoutError, OSError):
            time.sleep(1)
    raise TimeoutError(f"Rasa on port {port} did not load its model in {timeout:.0f} s")


def stock_model() -> Path:
    """Create and train the `rasa init` assistant once; reuse it afterwards."""
    project = BENCH_DIR / "rasa-init"
    models = sorted((project / "models").glob("*.tar.gz")) if project.exists() else []
    if models:
        return models[-1]
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    print("training the stock `rasa init` assistant (once, cached in var/bench/rasa-init)...", flush=True)
    subprocess.run(
        [RASA, "init", "--no-prompt", "--init-dir", str(project)],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return sorted((project / "models").glob("*.tar.gz"))[-1]


def kefu_customers(limit: int) -> List[Dict[str, object]]:
    """The first customers of the seed who have orders: email and zip code to identify, orders to check."""
    from kefu.store.seed import read_seed

    store = open_store()
    customers: List[Dict[str, object]] = []
    for customer_id in list(read_seed()["users"])[:limit]:
        customer = store.get_customer(customer_id)
        orders = [o.id for o in store.list_orders(customer_id)]
        if customer and orders:
            customers.append({"email": customer.email, "zip": customer.address.zip, "orders": orders})
    return customers


ASSISTANTS = {
    "rasa_init": "the stock `rasa init` bot, one process",
    "kefu": "Kefu, default profile (`make run`: one Rasa process)",
    "kefu_production": "Kefu, production profile (`make run-production`: a worker a core, Redis)",
}


def write_report(
    results: List[Result], curve: Dict[str, Dict[int, Result]], questions: Dict[str, Any], args: argparse.Namespace
) -> None:
    summaries = {r.name: r.summary() for r in results}
    stock = summaries["rasa_init"]
    ratios = {
        name: {
            "throughput_ratio": round(s["messages_per_second"] / stock["messages_per_second"], 3),
            "p50_latency_ratio": round(s["latency_ms_p50"] / stock["latency_ms_p50"], 3),
            "p95_latency_ratio": round(s["latency_ms_p95"] / stock["latency_ms_p95"], 3),
        }
        for name, s in summaries.items()
        if name != "rasa_init"
    }
    report = {
        "benchmark": "REST channel load: concurrent simulated customers, whole conversations",
        "command": "python benchmarks/rest_load.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "concurrent_customers": args.customers,
        "conversations_per_customer_and_round": args.conversations,
        "rounds": args.rounds,
        "store": "seed data (tau-bench retail), first customers of users.json, configured store URL",
        "assistants": {name: ASSISTANTS[name] for name in summaries},
        "results": summaries,
        "vs_stock": ratios,
        "latency_by_concurrency": {
            name: {str(customers): result.summary() for customers, result in points.items()}
            for name, points in curve.items()
        },
        "free_questions_under_load": questions,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "rest_load.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# REST load benchmark",
        "",
        f"`{report['command']}` on {report['date']} ({os.cpu_count()} CPUs, Python {platform.python_version()}). "
        f"{args.customers} concurrent customers x {args.conversations} conversations x {args.rounds} rounds, "
        "the assistants taking turns within each round. Kefu: greeting, order question, identification by email "
        "and zip code (plus a choice when the customer has several orders), checked against the store. "
        "Stock: the `rasa init` bot's greet / sad / yes / bye.",
        "",
        "| assistant | conversations (correct) | messages | msg/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        lines.append(
            f"| {ASSISTANTS[name]} | {s['conversations']} ({s['conversations_correct']}) | {s['messages']} | "
            f"{s['messages_per_second']} | {s['latency_ms_p50']} | {s['latency_ms_p95']} | "
            f"{s['latency_ms_p99']} | {s['errors']} |"
        )
    lines.append("")
    for name, ratio in ratios.items():
        lines.append(
            f"- {name} / stock: throughput x{ratio['throughput_ratio']}, p50 latency x{ratio['p50_latency_ratio']}, "
            f"p95 latency x{ratio['p95_latency_ratio']}."
        )
    if curve:
        levels = sorted({customers for points in curve.values() for customers in points})
        lines += [
            "",
            f"## Latency against concurrent customers ({args.conversations} conversations each, one round)",
            "",
            "![p50 and p95 latency against concurrent customers](rest_load.png)",
            "",
            "| assistant | " + " | ".join(f"{c} customers: msg/s, p50 / p95 ms" for c in levels) + " |",
            "|---|" + "---|" * len(levels),
        ]
        for name, points in curve.items():
            cells = []
            for level in levels:
                point = points[level].summary()
                cells.append(f"{point['messages_per_second']}, {point['latency_ms_p50']} / {point['latency_ms_p95']}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        plot_curve(curve, REPORTS / "rest_load.png")
    if questions:
        lines += question_lines(questions, args)
    (REPORTS / "rest_load.md").write_text("\n".join(lines) + "\n")


def question_lines(questions: Dict[str, Any], args: argparse.Namespace) -> List[str]:
    def cell(figures: Dict[str, float]) -> str:
        return (
            f"{figures['count']} | {figures['p50_ms']} | {figures['p95_ms']} | {figures['max_ms']}"
            if figures
            else "0 | | |"
        )

    meanwhile = questions["order_customers_meanwhile"]
    lines = [
        "",
        f"## Free questions while {args.customers} customers chat (Kefu, default profile)",
        "",
        f"{args.question_askers} more customers ask the team's policy questions "
        "(benchmarks/data/policy_questions.yml, five languages), one after another, each as the first message "
        "of a new conversation, while the order customers run one round. 'From the documents': the question's "
        "conversation ran action_answer_question (read from Rasa's tracker); the others got an authored answer "
        f"or a form. Replies holding every expected fact: {questions['replies_with_the_expected_facts']}.",
        "",
        "| questions | count | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
        f"| all asked | {cell(questions['all_questions'])} |",
        f"| answered from the documents | {cell(questions['answered_from_documents'])} |",
    ]
    for language, figures in questions["by_language"].items():
        lines.append(f"| from the documents, {language} | {cell(figures)} |")
    lines += [
        "",
        f"Order customers meanwhile: {meanwhile['messages']} messages, {meanwhile['messages_per_second']} msg/s, "
        f"p50 {meanwhile['latency_ms_p50']} ms, p95 {meanwhile['latency_ms_p95']} ms, {meanwhile['errors']} errors.",
    ]
    return lines


def plot_curve(curve: Dict[str, Dict[int, Result]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2), dpi=120)
    for name, points in curve.items():
        levels = sorted(points)
        summaries = [points[level].summary() for level in levels]
        line = axis.plot(levels, [s["latency_ms_p95"] for s in summaries], marker="o", label=f"{name} p95")[0]
        axis.plot(
            levels,
            [s["latency_ms_p50"] for s in summaries],
            marker=".",
            linestyle="--",
            color=line.get_color(),
            label=f"{name} p50",
        )
    axis.set_xlabel("concurrent customers")
    axis.set_ylabel("latency per message (ms)")
    axis.set_title("REST latency against load (2 cores)" if os.cpu_count() == 2 else "REST latency against load")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def add(total: Result, part: Result) -> None:
    total.latencies_ms += part.latencies_ms
    total.conversations += part.conversations
    total.correct += part.correct
    total.errors += part.errors
    total.wall_seconds += part.wall_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20, help="concurrent simulated customers")
    parser.add_argument("--conversations", type=int, default=3, help="conversations per customer and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each assistant taking its turn in each")
    parser.add_argument(
        "--assistants", default=",".join(ASSISTANTS), help=f"comma-separated, of {', '.join(ASSISTANTS)}"
    )
    parser.add_argument(
        "--curve", default="1,5,10,20,40", help="concurrent customers for the latency plot ('' for none)"
    )
    parser.add_argument(
        "--question-askers",
        type=int,
        default=2,
        help="customers asking policy questions while the order customers chat with Kefu (0: no such phase)",
    )
    args = parser.parse_args()
    chosen = [name for name in args.assistants.split(",") if name]
    unknown = set(chosen) - set(ASSISTANTS)
    if unknown or "rasa_init" not in chosen:
        parser.error(f"--assistants: of {', '.join(ASSISTANTS)}, and rasa_init (the baseline) among them")
    levels = [int(level) for level in args.curve.split(",") if level.strip()]

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    stock = stock_model()
    most = max([args.customers * args.rounds, *levels]) * args.conversations
    conversations = kefu_conversation(kefu_customers(most))
    servers: List[Any] = []
    ports: Dict[str, int] = {}
    served: Dict[str, ServedKefu] = {}
    questions: Dict[str, Any] = {}
    try:
        started: Dict[str, Server] = {}
        if "rasa_init" in chosen:
            ports["rasa_init"] = free_port()
            started["rasa_init"] = start_rasa(
                stock, stock.parent.parent, ports["rasa_init"], BENCH_DIR / "stock.log", None
            )
            servers.append(started["rasa_init"])
        for name, profile in (("kefu", "default"), ("kefu_production", "production")):
            if name in chosen:
                ports[name], served[name] = start_kefu(servers, name.replace("_", "-"), profile=profile)
        if "rasa_init" in started:
            wait_for_rasa(ports["rasa_init"], started["rasa_init"])

        webhook = "http://127.0.0.1:{}/webhooks/rest/webhook"
        talks = {name: stock_conversation if name == "rasa_init" else conversations for name in ports}
        totals = {name: Result(name) for name in ports}
        # The assistants take turns, round after round, so that a slow spell of a noisy machine
        # hits each of them and the ratios hold.
        for round_number in range(1, args.rounds + 1):
            for name, port in ports.items():
                print(f"round {round_number}: {name}, {args.customers} customers x {args.conversations}", flush=True)
                add(
                    totals[name],
                    asyncio.run(drive(webhook.format(port), talks[name], args.customers, args.conversations, name)),
                )
        curve: Dict[str, Dict[int, Result]] = {name: {} for name in ports}
        for level in levels:
            for name, port in ports.items():
                print(f"curve: {name}, {level} customers x {args.conversations}", flush=True)
                curve[name][level] = asyncio.run(
                    drive(webhook.format(port), talks[name], level, args.conversations, name)
                )
        if "kefu" in ports and args.question_askers > 0:
            print(f"free questions: {args.question_askers} askers beside {args.customers} customers", flush=True)
            load, asked = asyncio.run(
                questions_under_load(
                    webhook.format(ports["kefu"]),
                    conversations,
                    args.customers,
                    args.conversations,
                    args.question_askers,
                )
            )
            reached_generator(ports["kefu"], served["kefu"].api_token, asked)
            questions = question_summary(asked, load)
    finally:
        for server in servers:
            server.stop()
    write_report(list(totals.values()), curve if levels else {}, questions, args)
    print((REPORTS / "rest_load.md").read_text())
    return 0 if all(r.errors == 0 for r in totals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

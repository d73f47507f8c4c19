"""Load benchmark over the REST channel: Kefu against the stock `rasa init` assistant, same run.

N simulated customers talk at once, each through a whole conversation, and every turn's
latency (POST to reply) is recorded:

- Kefu: "hi", "where is my order?", the customer's email and zip code in one message
  (identification: an email alone is not enough), then "the first one" when Kefu lists several
  orders; the answer must name one of the customer's orders.
- stock `rasa init` bot (trained here once, cached in var/bench/): "hi", "I'm sad", "yes", "bye".

Both assistants run as real servers on loopback ports. Kefu runs as `make run` runs it: its
secret-checked action server (a shared secret generated for the run, sent by the Rasa server
from a generated endpoints file), its channels (credentials.yml) and an HTTP API token, on the
configured store; the stock bot keeps Rasa's defaults. Figures: messages per second over the
whole run, and per-turn latency p50 / p95 / p99, for each assistant, plus their ratio. Writes
reports/rest_load.json and reports/rest_load.md.

    .venv/bin/python benchmarks/rest_load.py --customers 20 --conversations 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Dict, List, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kefu.store import open_store  # noqa: E402
from tests.harness import free_port, wait_for_http  # noqa: E402

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


def start_kefu(servers: List[Server], name: str, env: Dict[str, str] | None = None) -> Tuple[int, Server]:
    """Kefu's action server and Rasa server on free loopback ports (appended to ``servers``).

    As scripts/serve.sh starts them: the action server answers only calls carrying the shared
    secret, Rasa's HTTP API needs a token, and customers talk through Kefu's channels. Both
    secrets are generated for this run and written nowhere but the run's endpoints file.
    """
    actions_port, kefu_port = free_port(), free_port()
    action_token, api_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    endpoints = BENCH_DIR / f"endpoints-{name}.yml"
    endpoints.touch(mode=0o600)
    endpoints.chmod(0o600)  # it holds the action server's secret
    endpoints.write_text(
        "action_endpoint:\n"
        f'  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "  headers:\n"
        f'    Authorization: "Bearer {action_token}"\n'
    )
    servers.append(
        Server(
            [sys.executable, "-m", "kefu.security.action_server", "--port", str(actions_port)],
            ROOT,
            BENCH_DIR / f"actions-{name}.log",
            env=dict(env or {}, KEFU_ACTION_TOKEN=action_token),
        )
    )
    kefu = start_rasa(
        ROOT / "models" / "kefu.tar.gz",
        ROOT,
        kefu_port,
        BENCH_DIR / f"kefu-{name}.log",
        endpoints,
        extra_args=["--credentials", str(ROOT / "credentials.yml")],
        api_token=api_token,
        env=env,
    )
    servers.append(kefu)
    wait_for_http(f"http://127.0.0.1:{actions_port}/health", 60)
    return kefu_port, kefu


def wait_for_rasa(port: int, server: Server, timeout: float = 300) -> None:
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


def write_report(results: List[Result], args: argparse.Namespace) -> Dict[str, object]:
    summaries = {r.name: r.summary() for r in results}
    kefu, stock = summaries["kefu"], summaries["rasa_init"]
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
        "results": summaries,
        "kefu_vs_stock": {
            "throughput_ratio": round(kefu["messages_per_second"] / stock["messages_per_second"], 3),
            "p50_latency_ratio": round(kefu["latency_ms_p50"] / stock["latency_ms_p50"], 3),
            "p95_latency_ratio": round(kefu["latency_ms_p95"] / stock["latency_ms_p95"], 3),
        },
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "rest_load.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = [
        "| assistant | conversations (correct) | messages | msg/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        rows.append(
            f"| {name} | {s['conversations']} ({s['conversations_correct']}) | {s['messages']} | "
            f"{s['messages_per_second']} | {s['latency_ms_p50']} | {s['latency_ms_p95']} | "
            f"{s['latency_ms_p99']} | {s['errors']} |"
        )
    ratio = report["kefu_vs_stock"]
    (REPORTS / "rest_load.md").write_text(
        f"# REST load benchmark\n\n`{report['command']}` on {report['date']} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()}).\n"
        f"{args.customers} concurrent customers x {args.conversations} conversations "
        f"x {args.rounds} alternating rounds. "
        "Kefu: greeting, order question, identification by email and zip code (plus a choice when the customer has "
        "several orders), checked against the store. Stock: the `rasa init` bot's greet / sad / yes / bye.\n\n"
        + "\n".join(rows)
        + f"\n\nKefu / stock: throughput x{ratio['throughput_ratio']}, p50 latency x{ratio['p50_latency_ratio']}, "
        f"p95 latency x{ratio['p95_latency_ratio']}.\n"
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20, help="concurrent simulated customers")
    parser.add_argument("--conversations", type=int, default=3, help="conversations per customer and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of each assistant")
    args = parser.parse_args()

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    stock = stock_model()
    customers = kefu_customers(args.customers * args.conversations * args.rounds)
    servers: List[Server] = []
    try:
        stock_port = free_port()
        kefu_port, kefu_server = start_kefu(servers, "status")
        stock_server = start_rasa(stock, stock.parent.parent, stock_port, BENCH_DIR / "stock.log", None)
        servers.append(stock_server)
        wait_for_rasa(kefu_port, kefu_server)
        wait_for_rasa(stock_port, stock_server)

        webhook = "http://127.0.0.1:{}/webhooks/rest/webhook"
        phases = (
            ("rasa_init", stock_port, stock_conversation),
            ("kefu", kefu_port, kefu_conversation(customers)),
        )
        totals = {name: Result(name) for name, _, _ in phases}
        # Alternate the two assistants, round after round, so that a slow spell of a noisy
        # machine hits both and the ratio between them holds.
        for round_number in range(1, args.rounds + 1):
            for name, port, conversation in phases:
                print(
                    f"round {round_number}: {name}, {args.customers} customers x {args.conversations} conversations",
                    flush=True,
                )
                part = asyncio.run(drive(webhook.format(port), conversation, args.customers, args.conversations, name))
                total = totals[name]
                total.latencies_ms += part.latencies_ms
                total.conversations += part.conversations
                total.correct += part.correct
                total.errors += part.errors
                total.wall_seconds += part.wall_seconds
        results = list(totals.values())
    finally:
        for server in servers:
            server.stop()
    report = write_report(results, args)
    print((REPORTS / "rest_load.md").read_text())
    return 0 if all(r["errors"] == 0 for r in report["results"].values()) else 1  # type: ignore[index]


if __name__ == "__main__":
    sys.exit(main())

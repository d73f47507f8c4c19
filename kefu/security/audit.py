"""Attack a running Kefu the way an outsider would: used by tests/security and benchmarks/security.py.

``ServedKefu`` starts Kefu exactly as ``make run`` does (``scripts/serve.sh run``) on free ports,
a store and log folder of its own, and given secrets. ``Customer`` talks to its REST channel.
``replay_corpus`` plays a hostile corpus through conversations and reports, per message,
whether it was answered, how fast, and whether a reply showed anything of another customer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping

import yaml

from kefu.config import DEFAULT_CONFIG_PATH, PROJECT_ROOT

SERVE = PROJECT_ROOT / "scripts" / "serve.sh"
ORDER_ID = re.compile(r"#W\d{7}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){13,16}\b")
PLACEHOLDERS = ("other_email", "other_order", "other_name", "other_zip", "my_email", "my_zip")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpReply:
    status: int
    body: Any
    headers: Mapping[str, str]
    seconds: float


def http(
    method: str, url: str, body: Any = None, raw: bytes | None = None, headers: Dict[str, str] | None = None
) -> HttpReply:
    """One request; the status, the JSON (or text) body and the headers, never an exception for 4xx/5xx."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status, payload, answer_headers = answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        status, payload, answer_headers = error.code, error.read(), dict(error.headers)
    seconds = time.monotonic() - started
    try:
        parsed: Any = json.loads(payload or b"null")
    except ValueError:
        parsed = payload.decode("utf-8", "replace")
    return HttpReply(status, parsed, {k.lower(): v for k, v in answer_headers.items()}, seconds)


# Working hours in which agents are always in: what a waiting customer is told does not depend on
# the hour a test or benchmark runs.
EVERY_DAY = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00", "close": "23:59"}


def shipped_settings() -> Dict[str, Any]:
    """kefu.yml as shipped, to change a few values for a test or a benchmark."""
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


RASA_UP = "Rasa server is up and running"  # logged by each Sanic worker once its model is loaded


class ServedKefu:
    """``scripts/serve.sh run`` (or ``production``) on free ports with its own store, logs and secrets.

    The production profile gets ``workers`` Rasa and action-server workers and a Redis of its own
    (port, password and data directory under ``work_dir``), as a shop's would be.
    """

    @classmethod
    def with_settings(
        cls,
        store_url: str,
        work_dir: Path,
        settings: Dict[str, Any],
        env: Dict[str, str] | None = None,
        mode: str = "run",
    ) -> ServedKefu:
        """Started with these settings instead of kefu.yml (written to ``work_dir/kefu.yml``)."""
        config = work_dir / "kefu.yml"
        config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        return cls(store_url, work_dir, env={"KEFU_CONFIG": str(config), **(env or {})}, mode=mode)

    def __init__(
        self,
        store_url: str | None,
        work_dir: Path,
        env: Dict[str, str] | None = None,
        mode: str = "run",
        workers: int = 2,
    ) -> None:
        self.port, self.actions_port = free_port(), free_port()
        self.work_dir = work_dir
        self.workers = workers if mode == "production" else 1
        # Leading "-": a generated token may start with one, and the server must still start.
        self.api_token = "-api-" + uuid.uuid4().hex
        self.action_token = "act-" + uuid.uuid4().hex
        self.env = dict(
            os.environ,
            KEFU_PORT=str(self.port),
            KEFU_ACTIONS_PORT=str(self.actions_port),
            KEFU_LOG_DIR=str(work_dir / "log"),
            KEFU_API_TOKEN=self.api_token,
            KEFU_ACTION_TOKEN=self.action_token,
            KEFU_SOURCE_KEY="src-" + uuid.uuid4().hex,
        )
        if store_url:
            self.env["KEFU_STORE_URL"] = store_url
        if mode == "production":
            self.env.update(
                KEFU_RASA_WORKERS=str(workers),
                KEFU_ACTION_WORKERS=str(workers),
                KEFU_REDIS_PORT=str(free_port()),
                KEFU_REDIS_PASSWORD="redis-" + uuid.uuid4().hex,
                KEFU_REDIS_DIR=str(work_dir / "redis"),
            )
        self.env.update(env or {})
        self.replacement: subprocess.Popen | None = None
        self.log_path = work_dir / "rasa.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - open for the server's lifetime
        self.process = subprocess.Popen(
            ["bash", str(SERVE), mode],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_until_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    @property
    def action_webhook(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}/webhook"

    def wait_until_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Kefu exited with {self.process.returncode}: see {self.log_path}")
            try:
                answered = http("GET", f"{self.url}/status?token={self.api_token}").status == 200
                if answered and self.log_path.read_text(errors="replace").count(RASA_UP) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"Kefu did not start within {timeout:.0f} s: see {self.log_path}")

    def action_server_pid(self) -> int | None:
        """The action server serve.sh started (its first process, where it has workers)."""
        found = _pids_running(["kefu.security.action_server", "--port", str(self.actions_port)])
        return found[0] if found else None

    def rasa_pids(self) -> List[int]:
        """The Rasa server's processes, its first one leading (then its Sanic workers, if any)."""
        return _pids_running(["run", "--port", str(self.port)])

    def stop_action_server(self) -> None:
        pid = self.action_server_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if self.action_server_pid() is None:
                    return
                time.sleep(0.2)

    def start_action_server(self) -> subprocess.Popen:
        """A replacement action server on the same port (as a supervisor would restart it)."""
        log = open(self.work_dir / "actions-restarted.log", "w")  # noqa: SIM115 - the server's lifetime
        process = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "kefu.security.action_server"]
            + ["--port", str(self.actions_port)],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.replacement = process  # stopped with Kefu
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if http("GET", f"http://127.0.0.1:{self.actions_port}/health").status == 200:
                    return process
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("the restarted action server did not answer")

    def stop(self) -> None:
        if self.replacement is not None:
            self.replacement.terminate()
            self.replacement.wait(20)
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()

    def logs(self) -> str:
        texts = [self.log_path.read_text(errors="replace")]
        texts += [p.read_text(errors="replace") for p in (self.work_dir / "log").glob("*.log")]
        texts += [p.read_text(errors="replace") for p in self.work_dir.glob("actions-*.log")]
        return "\n".join(texts)


def _pids_running(wanted: List[str]) -> List[int]:
    """Processes whose arguments include all of ``wanted``, oldest first (read from /proc: no procps)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            started = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[19])
        except (OSError, ValueError, IndexError):
            continue
        if all(part in argv for part in wanted):
            found.append((started, int(entry.name)))
    return [pid for _, pid in sorted(found)]


class Customer:
    """One conversation over the REST channel."""

    def __init__(self, kefu: ServedKefu, sender: str | None = None, metadata: Dict[str, Any] | None = None) -> None:
        self.kefu = kefu
        self.sender = sender or f"sec-{uuid.uuid4().hex[:12]}"
        self.metadata = metadata

    def send(self, message: Any) -> HttpReply:
        body: Dict[str, Any] = {"sender": self.sender, "message": message}
        if self.metadata is not None:
            body["metadata"] = self.metadata
        return http("POST", self.kefu.webhook, body)

    def is_paused(self) -> bool:
        """Whether a person has the conversation (Rasa's tracker, read with the API token)."""
        tracker = http("GET", f"{self.kefu.url}/conversations/{self.sender}/tracker?token={self.kefu.api_token}")
        return bool(isinstance(tracker.body, dict) and tracker.body.get("paused"))

    def say(self, message: str) -> str:
        reply = self.send(message)
        if reply.status != 200:
            raise AssertionError(f"HTTP {reply.status}: {reply.body}")
        return "\n".join(m.get("text", "") for m in reply.body if isinstance(m, dict))


@dataclass
class CorpusOutcome:
    category: str
    message: str
    status: int
    reply: str
    seconds: float
    leaked: List[str] = field(default_factory=list)


# Added to the corpus file's messages: what YAML cannot hold (lone surrogates) or should not (size).
GENERATED_MESSAGES = [
    ("lone_surrogates", "\ud800 cancel all orders"),
    ("lone_surrogates", "yes\udc00"),
    ("too_long", "refund " * 5000),
    ("too_long", "x" * 100_000),
]


def corpus_values(store: Any, me_id: str, other_id: str) -> Dict[str, str]:
    """The corpus placeholders for a conversation of ``me_id`` that names ``other_id``."""
    me, other = store.get_customer(me_id), store.get_customer(other_id)
    if me is None or other is None:
        raise ValueError(f"the store has no customer {me_id if me is None else other_id}")
    return {
        "my_email": me.email,
        "my_zip": me.address.zip,
        "other_email": other.email,
        "other_order": store.list_orders(other_id)[0].id,
        "other_name": f"{other.first_name} {other.last_name}",
        "other_zip": other.address.zip,
    }


def load_corpus(path: Path, values: Mapping[str, str]) -> List[tuple[str, str]]:
    """(category, message) pairs with the placeholders filled."""
    corpus = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for category in corpus["categories"]:
        for message in category["messages"]:
            for name in PLACEHOLDERS:
                message = message.replace("{" + name + "}", values[name])
            pairs.append((category["name"], message))
    return pairs


@dataclass(frozen=True)
class ForeignData:
    """What belongs to customers other than the one in the conversation."""

    order_ids: frozenset[str]
    emails: frozenset[str]
    names: frozenset[str]
    streets: frozenset[str] = frozenset()

    @classmethod
    def of_store(cls, store: Any, customer_id: str | None) -> ForeignData:
        orders, emails, names, streets = set(), set(), set(), set()
        me = store.get_customer(customer_id) if customer_id else None
        for order in store.order_history():
            if order.customer_id == customer_id:
                continue
            orders.add(order.id)
            customer = store.get_customer(order.customer_id)
            emails.add(customer.email.lower())
            streets.add(customer.address.address1.lower())
            if me is None or (customer.first_name, customer.last_name) != (me.first_name, me.last_name):
                names.add(f"{customer.first_name} {customer.last_name}".lower())
        return cls(frozenset(orders), frozenset(emails), frozenset(names), frozenset(streets))


def leaks(reply: str, said: str, foreign: ForeignData) -> List[str]:
    """What of another customer a reply shows that the customer did not say themselves (Kefu may
    echo "I couldn't find order #W... on your account"): their order ids, emails, full names and
    street addresses, and any card number."""
    said, lowered = said.lower(), reply.lower()
    found = [o for o in ORDER_ID.findall(reply) if o in foreign.order_ids and o.lower() not in said]
    found += [e for e in EMAIL.findall(reply) if e.lower() in foreign.emails and e.lower() not in said]
    found += [n for n in foreign.names if n in lowered and n not in said]
    found += [a for a in foreign.streets if a in lowered and a not in said]
    found += CARD_NUMBER.findall(reply)
    return found


def replay_corpus(
    customer: Customer,
    messages: Iterable[tuple[str, str]],
    foreign: ForeignData,
    resume: Callable[[Customer], None] | None = None,
) -> List[CorpusOutcome]:
    """Every message in one conversation; a reply may repeat what the customer said earlier in it
    (an order id kept from three messages ago), so the leak check knows all of that.

    A message that hands the conversation to a person pauses it (Kefu only acknowledges what
    follows): the replay then goes on in a new conversation, after ``resume`` (identifying again,
    say), so that every later message still meets Kefu itself."""
    outcomes = []
    said = ""
    for category, message in messages:
        said += "\n" + message
        answer = customer.send(message)
        if customer.is_paused():
            customer.sender = f"sec-{uuid.uuid4().hex[:12]}"
            if resume is not None:
                resume(customer)
        text = (
            "\n".join(m.get("text", "") for m in answer.body if isinstance(m, dict))
            if isinstance(answer.body, list)
            else str(answer.body)
        )
        outcomes.append(
            CorpusOutcome(
                category,
                message,
                answer.status,
                text,
                answer.seconds,
                leaks(text, said, foreign) if answer.status == 200 else [],
            )
        )
    return outcomes

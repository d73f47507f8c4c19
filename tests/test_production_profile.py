"""The production profile as `make run-production` starts it: two Rasa and two action-server
workers sharing conversations and locks through a Redis of their own.

A customer's messages land on whichever worker accepts the connection (every message here on a
connection of its own); the conversation must go on all the same, and both workers must have
worked. An agent's reply, sent through any worker, must reach the widget's socket on the other.
Redis listens on localhost only and answers nothing without its password.
"""

from __future__ import annotations

import os
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from kefu.security.audit import Customer, ServedKefu
from kefu.store import SqlStore
from kefu.store.seed import read_seed
from tests.conftest import serve_copy, store_of
from tests.handoff.conftest import AGENT_NAME, ConsoleClient, add_agent, desk_settings

pytestmark = pytest.mark.conversation

REDIS_MISSING = "redis-server is not installed (apt-get install redis-server; .ci/run installs it)"


@pytest.fixture(scope="module")
def production(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedKefu]:
    if shutil.which("redis-server") is None:
        if os.environ.get("KEFU_REQUIRE_REDIS"):
            pytest.fail(REDIS_MISSING)
        pytest.skip(REDIS_MISSING)
    served = serve_copy(template_db, tmp_path_factory, "production", desk_settings(), mode="production")
    add_agent(served)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def production_store(production: ServedKefu) -> Iterator[SqlStore]:
    yield from store_of(production)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def customers_with_orders(count: int) -> List[Dict[str, Any]]:
    seed = read_seed()
    chosen = []
    for user in seed["users"].values():
        if user.get("orders"):
            chosen.append(user)
        if len(chosen) == count:
            break
    return chosen


def order_status_conversation(kefu: ServedKefu, user: Dict[str, Any]) -> str:
    customer = Customer(kefu)  # every message is a request on a new connection
    customer.say("hi")
    customer.say("where is my order?")
    reply = customer.say(f"my email is {user['email']} and my zip code is {user['address']['zip']}")
    if "Which one" in reply:
        reply = customer.say("the first one")
    return reply


def test_conversations_go_on_whichever_worker_answers(production: ServedKefu) -> None:
    main, *workers = production.rasa_pids()
    assert len(workers) == 2, f"Rasa processes {production.rasa_pids()}: the production profile starts two workers"
    before = {pid: cpu_seconds(pid) for pid in workers}
    users = customers_with_orders(8)
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda user: order_status_conversation(production, user), users))
    for user, reply in zip(users, replies, strict=True):
        assert any(order in reply for order in user["orders"]), reply
    worked = {pid: cpu_seconds(pid) - before[pid] for pid in workers}
    assert all(seconds > 0.2 for seconds in worked.values()), f"CPU seconds by worker: {worked}"


def test_redis_listens_on_localhost_only_and_wants_its_password(production: ServedKefu) -> None:
    port = int(production.env["KEFU_REDIS_PORT"])
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port
    ]
    assert listening == ["0100007F:" + f"{port:04X}"]  # 127.0.0.1 only
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"KEYS *\r\n")
        assert connection.recv(200).startswith(b"-NOAUTH")
    assert production.env["KEFU_REDIS_PASSWORD"] not in (production.work_dir / "rasa.log").read_text()


def test_agent_replies_reach_the_widget_through_any_worker(
    production: ServedKefu, production_store: SqlStore, browser: Any
) -> None:
    from playwright.sync_api import expect

    from tests.channels.test_widget_browser import REPLY_S, messages, say

    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{production.url}/webhooks/widget/")
    say(page, "I'd like to speak to a human please")
    session = page.evaluate(
        "() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('kefu-widget:'))))"
        ".sessionId"
    )
    ticket = production_store.active_ticket(session)
    assert ticket is not None and ticket.channel == "socketio"
    agent = ConsoleClient(production)
    assert agent.login().status == 200
    # Each reply is a request on a new connection, to whichever worker accepts it; the socket is
    # on one of them. Without rooms shared through Redis, about half would never arrive.
    for n in range(1, 7):
        sent = agent.post(f"api/tickets/{ticket.id}/reply", {"text": f"Reply {n} from Alice"})
        assert sent.body["delivered"] == "live"
        expect(messages(page).last).to_contain_text(f"Reply {n} from Alice", timeout=REPLY_S)
        expect(messages(page).last).to_contain_text(AGENT_NAME)
    context.close()

"""The website chat widget in a real browser: Debian's chromium driven by Playwright.

Kefu runs as `make run` starts it, behind a TCP proxy the test can cut. A customer opens the
sample shop page, identifies, asks where an order is, cancels it with a quick reply (the store
shows it cancelled), reloads and sees the conversation, loses the connection, writes while it
is down and sees the message delivered once it is back, switches to Chinese, asks for a person,
and, with the chat minimised, gets the agent's reply as an unread message marked as from a
person. A shop page on another origin embeds the widget with a signed customer token. A
screenshot goes to reports/widget.png.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import jwt
import pytest

from kefu.config import PROJECT_ROOT
from kefu.security.audit import ServedKefu, free_port
from kefu.store import SqlStore
from tests.channels.proxy import DroppableProxy
from tests.conftest import serve_copy, store_of
from tests.handoff.conftest import AGENT_NAME, ConsoleClient, add_agent, desk_settings

pytestmark = pytest.mark.conversation

TOKEN_SECRET = "widget-shop-token-secret-0123456789"
JUAN = "juan_rossi_6696"  # pending order #W7602708
REPLY_S = 30_000  # ms: a reply on 2 busy cores


class ShopSite:
    """A shop's own site on another origin, with the widget's tag on its page."""

    def __init__(self) -> None:
        self.port = free_port()
        self.page = "<!doctype html><title>shop</title><body><h1>Shop</h1></body>"
        site = self

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = site.page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Page)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"


@pytest.fixture(scope="module")
def shop_site() -> Iterator[ShopSite]:
    site = ShopSite()
    yield site
    site.server.shutdown()


@pytest.fixture(scope="module")
def kefu(template_db: Path, tmp_path_factory: pytest.TempPathFactory, shop_site: ShopSite) -> Iterator[ServedKefu]:
    settings = desk_settings()
    settings["security"]["cors_origins"] = [shop_site.url]  # the shop's site may embed the widget
    served = serve_copy(template_db, tmp_path_factory, "widget", settings, {"KEFU_CUSTOMER_TOKEN_SECRET": TOKEN_SECRET})
    add_agent(served)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def store(kefu: ServedKefu) -> Iterator[SqlStore]:
    yield from store_of(kefu)


@pytest.fixture
def proxy(kefu: ServedKefu) -> Iterator[DroppableProxy]:
    started = DroppableProxy(kefu.port).start()
    yield started
    started.stop()


def messages(page: Any) -> Any:
    return page.get_by_test_id("kefu-message")


def say(page: Any, text: str) -> None:
    """Type and press Enter, then wait until Kefu has answered (the typing indicator is gone)."""
    from playwright.sync_api import expect

    count = messages(page).count()
    page.get_by_test_id("kefu-input").fill(text)
    page.get_by_test_id("kefu-input").press("Enter")
    expect(messages(page)).not_to_have_count(count, timeout=REPLY_S)  # the customer's own message
    expect(messages(page).last).to_have_attribute("data-author", "bot", timeout=REPLY_S)
    expect(page.get_by_test_id("kefu-typing")).to_be_hidden(timeout=REPLY_S)


def last_reply(page: Any) -> str:
    return messages(page).last.locator(".kefu-bubble").inner_text()


def bubbles(page: Any) -> list[str]:
    return page.locator("[data-testid=kefu-message] .kefu-bubble").all_inner_texts()


def test_a_customer_chats_reloads_reconnects_switches_language_and_gets_a_person(
    kefu: ServedKefu, store: SqlStore, proxy: DroppableProxy, browser: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 820})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{proxy.url}/webhooks/widget/demo")

    # Minimised at first; the launcher is a labelled button that opens the chat from the keyboard.
    launcher = page.get_by_test_id("kefu-launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_have_attribute("aria-label", "Open the chat with customer service")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("kefu-panel")).to_be_visible()
    expect(page.get_by_test_id("kefu-input")).to_be_focused()
    expect(page.get_by_test_id("kefu-log")).to_have_attribute("role", "log")

    say(page, "where is my order #W7602708?")
    assert "zip code" in last_reply(page)
    say(page, "Juan Rossi, zip code 77209")
    status = last_reply(page)
    assert "#W7602708" in status and "pending" in status
    # The order number is isolated from the text around it (right-to-left safe), not HTML.
    expect(messages(page).last.locator("bdi.kefu-order").first).to_have_text("#W7602708")

    say(page, "I want to cancel it")
    say(page, "I ordered it by mistake")
    assert "Shall I go ahead" in last_reply(page)
    replies = page.get_by_test_id("kefu-reply")
    expect(replies).to_have_text(["Yes, go ahead", "No"])
    count = messages(page).count()
    replies.first.click()
    expect(messages(page).nth(count).locator(".kefu-bubble")).to_have_text("Yes, go ahead")  # not /affirm
    expect(messages(page).last).to_contain_text("is cancelled", timeout=REPLY_S)
    expect(replies).to_have_count(0)
    assert store.get_order("#W7602708", JUAN).status == "cancelled"

    # A reload shows the same conversation, from Kefu's own record of it.
    before = bubbles(page)
    page.reload()
    expect(page.get_by_test_id("kefu-panel")).to_be_visible()  # it was open: it stays open
    expect(messages(page)).to_have_count(len(before), timeout=REPLY_S)
    assert bubbles(page) == before
    expect(page.get_by_test_id("kefu-status")).to_be_hidden(timeout=REPLY_S)

    # The network drops: the widget says so, keeps what the customer writes, and sends it once back.
    proxy.drop()
    expect(page.get_by_test_id("kefu-status")).to_have_text("Connection lost. Reconnecting…", timeout=REPLY_S)
    page.get_by_test_id("kefu-input").fill("what did I order last?")
    page.get_by_test_id("kefu-input").press("Enter")
    queued = messages(page).last
    expect(queued).to_have_attribute("data-pending", "true")
    expect(queued).to_contain_text("Will be sent when the connection is back")
    time.sleep(2)  # a few reconnection attempts are refused meanwhile
    assert proxy.refused > 0
    proxy.restore()
    expect(page.get_by_test_id("kefu-status")).to_be_hidden(timeout=REPLY_S)
    expect(messages(page).last).to_have_attribute("data-author", "bot", timeout=REPLY_S)
    texts = bubbles(page)
    assert texts.count("what did I order last?") == 1
    assert texts[: len(before)] == before

    # Chinese: the widget's own words at once, Kefu's with the next message.
    page.get_by_test_id("kefu-language").select_option("zh")
    expect(page.get_by_test_id("kefu-input")).to_have_attribute("placeholder", "请输入消息…")
    expect(page.get_by_test_id("kefu-send")).to_have_text("发送")
    say(page, "你好")
    assert any("\u4e00" <= char <= "\u9fff" for char in last_reply(page))

    say(page, "我要转人工客服")
    ticket = store.active_ticket(_session_of(page))
    assert ticket is not None and ticket.channel == "socketio" and ticket.language == "zh"

    # Minimised, the agent's reply arrives as an unread message, marked as from a person.
    page.get_by_test_id("kefu-close").click()
    expect(page.get_by_test_id("kefu-panel")).to_be_hidden()
    agent = ConsoleClient(kefu)
    assert agent.login().status == 200
    hostile = '<img src=x onerror="window.hacked=1"> Track it here: https://track.example.com/W7602708?lang=zh.'
    reply = agent.post(f"api/tickets/{ticket.id}/reply", {"text": f"您好，我是 Alice。{hostile}"})
    assert reply.body["delivered"] == "live"
    badge = page.get_by_test_id("kefu-unread")
    expect(badge).to_have_text("1", timeout=REPLY_S)
    expect(launcher).to_have_attribute("aria-label", "打开在线客服聊天 (1 条未读消息)")
    launcher.click()
    expect(badge).to_be_hidden()
    from_agent = messages(page).last
    expect(from_agent).to_have_attribute("data-author", "agent")
    expect(from_agent).to_contain_text(f"{AGENT_NAME} · 人工客服")
    expect(from_agent).to_contain_text('<img src=x onerror="window.hacked=1">')  # shown, not run
    link = from_agent.locator("a")
    expect(link).to_have_attribute("href", "https://track.example.com/W7602708?lang=zh")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert page.evaluate("() => window.hacked === undefined")
    assert from_agent.locator("img").count() == 0

    (PROJECT_ROOT / "reports").mkdir(exist_ok=True)
    page.screenshot(path=str(PROJECT_ROOT / "reports" / "widget.png"), animations="disabled")

    # Escape minimises and gives the focus back to the launcher.
    page.get_by_test_id("kefu-input").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("kefu-panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    assert errors == []
    context.close()


def _session_of(page: Any) -> str:
    """The session id Kefu issued this browser (kept by the widget across reloads)."""
    return page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find(k => k.startsWith('kefu-widget:'));
            return key ? JSON.parse(localStorage.getItem(key)).sessionId : null;
        }"""
    )


def test_a_shop_page_on_its_own_origin_embeds_the_widget_for_a_logged_in_customer(
    kefu: ServedKefu, shop_site: ShopSite, browser: Any
) -> None:
    from playwright.sync_api import expect

    now = int(time.time())
    token = jwt.encode({"sub": JUAN, "aud": "kefu", "iat": now, "exp": now + 600}, TOKEN_SECRET, algorithm="HS256")
    shop_site.page = (
        "<!doctype html><html lang='fr'><title>Boutique</title><body><h1>Boutique</h1>"
        f'<script src="{kefu.url}/webhooks/widget/kefu-widget.js" data-title="Boutique Exemple" '
        f'data-primary-color="#aa3300" data-customer-token="{token}" data-mode="page"></script></body></html>'
    )
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(shop_site.url)
    # The browser's language chose the widget's words; the shop's colour is the header's.
    expect(page.get_by_test_id("kefu-send")).to_have_text("Envoyer")
    expect(page.get_by_test_id("kefu-panel")).to_be_visible()
    assert (
        page.locator(".kefu-widget-host").evaluate(
            "host => getComputedStyle(host.shadowRoot.querySelector('.kefu-header')).backgroundColor"
        )
        == "rgb(170, 51, 0)"
    )
    say(page, "where is my order?")
    answer = last_reply(page)
    assert "#W7602708" in answer and "zip code" not in answer  # identified by the token, no questions

    # Right-to-left text reads right to left in its bubble, the order number kept whole.
    say(page, "שלום, מה עם #W7602708?")
    customer_bubble = page.locator("[data-author=customer] .kefu-bubble").last
    assert customer_bubble.evaluate("bubble => getComputedStyle(bubble).direction") == "rtl"
    expect(customer_bubble.locator("bdi.kefu-order")).to_have_text("#W7602708")

    # "End chat" ends the conversation for Kefu too: after a reload nothing of it comes back.
    page.get_by_test_id("kefu-end").click()
    expect(page.get_by_test_id("kefu-ended")).to_be_visible()
    expect(messages(page)).to_have_count(1, timeout=REPLY_S)  # Kefu's "we start again"
    starting_over = bubbles(page)
    page.reload()
    expect(page.get_by_test_id("kefu-status")).to_be_hidden(timeout=REPLY_S)
    page.wait_for_timeout(1000)  # the history has arrived
    assert bubbles(page) == starting_over and "#W7602708" not in starting_over[0]
    context.close()


def test_a_page_on_an_origin_kefu_does_not_list_cannot_open_a_socket(kefu: ServedKefu, browser: Any) -> None:
    from playwright.sync_api import expect

    stranger = ShopSite()
    try:
        stranger.page = (
            f'<!doctype html><body><script src="{kefu.url}/webhooks/widget/kefu-widget.js" data-mode="page">'
            "</script></body>"
        )
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(stranger.url.replace("localhost", "127.0.0.1"))
        expect(page.get_by_test_id("kefu-status")).to_contain_text("onnect", timeout=REPLY_S)
        page.wait_for_timeout(3000)
        expect(page.get_by_test_id("kefu-status")).to_be_visible()  # never connected
        assert _session_of(page) is None  # Kefu never confirmed a session to this origin
        context.close()
    finally:
        stranger.server.shutdown()

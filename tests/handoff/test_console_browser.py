"""The agent console in a real browser: Debian's chromium driven by Playwright (no browser download).

Two customers ask for a person on the REST channel, the angrier one must top the inbox; the
agent logs in, opens it, replies (the customer gets the reply with their next message), hands
back with a note (Kefu answers again and says what the agent noted), then approves a refund from
the review queue and the store shows it. A screenshot of the console goes to reports/console.png.
"""

from __future__ import annotations

import pytest

from kefu.config import PROJECT_ROOT
from kefu.security.audit import Customer, ServedKefu
from kefu.store import SqlStore
from tests.handoff.conftest import AGENT, AGENT_NAME, PASSWORD
from tests.handoff.test_console_api import ask_for_a_large_refund

pytestmark = pytest.mark.conversation


def test_an_agent_works_a_conversation_and_a_review_in_the_console(
    desk: ServedKefu, desk_store: SqlStore, browser: object
) -> None:
    from playwright.sync_api import expect

    calm, angry = Customer(desk), Customer(desk)
    calm.say("could I talk to a person please")
    angry.say("This is ridiculous, my order never came and your service is terrible. I want a real person now!")
    angry_ticket = desk_store.active_ticket(angry.sender)
    assert angry_ticket is not None and desk_store.active_ticket(calm.sender) is not None

    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{desk.url}/webhooks/console/")
    page.get_by_test_id("login-name").fill(AGENT)
    page.get_by_test_id("login-password").fill("a wrong password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("wrong name or password")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("agent-name")).to_have_text(AGENT_NAME)

    rows = page.get_by_test_id("ticket-row")
    expect(rows.first).to_have_attribute("data-ticket-id", str(angry_ticket.id))  # the angriest on top
    rows.first.click()
    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("your service is terrible")

    page.get_by_test_id("reply-text").fill("I'm Alice from the team, I'm looking into your order now.")
    page.get_by_test_id("reply-send").click()
    expect(page.get_by_test_id("reply-status")).to_contain_text("Queued")
    expect(transcript.locator('[data-author="agent"]')).to_contain_text("I'm Alice from the team")
    (PROJECT_ROOT / "reports").mkdir(exist_ok=True)
    page.screenshot(path=str(PROJECT_ROOT / "reports" / "console.png"), full_page=True)

    # The customer gets the agent's words, marked as from a person; Kefu itself stays silent.
    assert angry.send("hello??").body == [
        {
            "recipient_id": angry.sender,
            "text": "I'm Alice from the team, I'm looking into your order now.",
            "metadata": {"agent": AGENT_NAME},
        }
    ]
    expect(transcript).to_contain_text("hello??")  # polled into the open ticket

    page.get_by_test_id("handback").click()
    page.get_by_test_id("handback-note").fill("a new parcel leaves today")
    page.get_by_test_id("handback-confirm").click()
    expect(page.get_by_test_id("ticket-state")).to_have_text("waiting")
    after = angry.say("ok, what else can you do for me?")
    assert "a new parcel leaves today" in after and "order" in after.lower()

    shopper = Customer(desk)
    assert "review" in ask_for_a_large_refund(shopper)
    review = next(r for r in desk_store.list_reviews(["pending"]) if r.conversation_id == shopper.sender)
    page.get_by_test_id("tab-reviews").click()
    row = page.locator(f'[data-testid="review-row"][data-review-id="{review.id}"]')
    expect(row).to_contain_text("#W6067464")
    row.get_by_test_id("review-approve").click()
    expect(row.get_by_test_id("review-state")).to_have_text("approved")
    assert desk_store.get_order("#W6067464", "omar_anderson_3203").status == "return requested"
    assert "approved your request" in shopper.say("any news?")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()

"""The knowledge-gaps page and "Propose as guidance" in Debian's Chromium (Playwright),
against a real uvicorn server: an editor sees the groups and starts a draft from one; an
officer turns their reply into a draft from the queue's conversation view.

Without Chromium these tests are skipped, except under CI=true, where they fail.
The screenshot goes to docs/ when CONSULAR_UPDATE_SCREENSHOTS=1, else to a temporary folder.
"""

from __future__ import annotations

import re

import pytest

from channels.app import create_app
from tests.live_server import serve
from tests.test_gaps import PERSONAL, Seed
from tests.web_helpers import add_user, console_page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(web_settings, live_assistant):
    add_user(live_assistant.store, "lan")
    add_user(live_assistant.store, "ha", "content_editor")
    seed = Seed(live_assistant.store)
    for text in (
        "Can I renew my passport by post from Germany?",
        "Is it possible to renew a passport by mail while living in Germany?",
        PERSONAL,
    ):
        seed.answered(text, confidence=0.62)
    seed.unanswered("Tôi có thể đăng ký khai sinh cho con sinh ở Đức không?", lang="vi")
    with serve(create_app(web_settings, assistant=live_assistant)) as base:
        yield base


def _signed_in(browser, base: str, username: str, landing: str):
    page = console_page(browser, base, username, ready=None)
    page.goto(landing)
    return page


def test_an_editor_starts_a_draft_from_a_group(browser, server, screenshots):
    from playwright.sync_api import expect

    page = _signed_in(browser, server, "ha", "/console/gaps")
    groups = page.locator("#gap-groups > li")
    expect(groups).to_have_count(2)
    first = groups.first
    expect(first.locator(".gap-count")).to_have_text("3")
    expect(first).to_contain_text("low confidence 3")
    expect(first).to_contain_text("[passport]")
    expect(page.locator("#gap-groups")).not_to_contain_text("C1234567")
    expect(page.locator("#gap-summary")).to_have_text("4 questions in 2 groups.")
    page.screenshot(path=str(screenshots / "knowledge-gaps.png"), full_page=True)

    page.select_option("select[name=reason]", "no_answer")
    page.click("#gap-filters button[type=submit]")
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text("khai sinh")

    groups.first.locator("button", has_text="Start a draft").click()
    page.wait_for_url(re.compile(r"/console/content/[a-z0-9-]+/vi$"))
    page.context.close()


def test_an_officer_proposes_a_reply_as_guidance(browser, server, live_assistant):
    from playwright.sync_api import expect

    engine = live_assistant.engine
    asked = engine.handle("Can I renew my passport by post from Germany?")
    engine.handle("I would like to talk to a consular officer", asked.conversation_id)
    lan = _signed_in(browser, server, "lan", "/console")
    lan.locator("#queue tr").first.locator("button.claim").click()
    expect(lan.locator("#view")).to_contain_text("You have this conversation.")
    lan.fill("#view .history + form textarea", "Yes: send the form by registered post.")
    lan.click("#view .history + form button")
    officer = lan.locator("#view .msg.officer")
    expect(officer).to_have_count(1)

    officer.locator("button.propose").click()
    expect(officer.locator(".propose-row")).to_contain_text("a content editor will review it")
    lan.context.close()


def test_an_editor_drafts_from_an_officer_reply(browser, server, live_assistant):
    from playwright.sync_api import expect

    store = live_assistant.store
    engine = live_assistant.engine
    asked = engine.handle("Can I renew my passport by post from Germany?")
    engine.handle("I would like to talk to a consular officer", asked.conversation_id)
    store.add_message(asked.conversation_id, "officer", "Yes: send the form by registered post.")

    page = _signed_in(browser, server, "ha", "/console/gaps")
    replies = page.locator("#officer-replies > li")
    expect(replies).to_have_count(1)
    expect(replies.first).to_contain_text("registered post")
    expect(page.locator("#officer-replies")).not_to_contain_text(asked.conversation_id)
    replies.first.locator("button", has_text="Draft from this reply").click()
    page.wait_for_url(re.compile(r"/console/content/[a-z0-9-]+/en$"))
    page.context.close()

"""The chat page and the officer console in Debian's Chromium (Playwright), against a
real uvicorn server: a cited answer in Vietnamese, an urgent conversation at the top of
the queue, an officer's reply appearing live on the citizen's page, a refused claim.

Without Chromium these tests are skipped, except under CI=true, where they fail.
Screenshots go to docs/ when CONSULAR_UPDATE_SCREENSHOTS=1, else to a temporary folder.
"""

from __future__ import annotations

import re

import pytest

from tests.browser_fixtures import new_page
from tests.live_server import serve
from tests.web_helpers import console_app, console_page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(web_settings, web_assistant):
    app = console_app(web_settings, web_assistant, [("lan", "officer"), ("minh", "officer")])
    with serve(app) as base:
        yield base


def _phone(browser, base: str):
    return new_page(browser, base, 390, 844)


def _console(browser, base: str, username: str):
    return console_page(browser, base, username, login="/console")


def _ask(page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def test_citizen_gets_a_cited_answer_in_vietnamese(browser, server):
    from playwright.sync_api import expect

    page = _phone(browser, server)
    page.goto("/")
    expect(page.locator("#hotline")).to_have_attribute("href", re.compile(r"^tel:\+84"))
    expect(page.locator("#officer")).to_have_text("Nói chuyện với cán bộ")
    _ask(page, "Làm lại hộ chiếu ở Tokyo cần giấy tờ gì?")
    answer = page.locator(".msg.assistant:not(.welcome):not(.pending)").last
    expect(answer.locator(".sources a").first).to_have_attribute("href", re.compile(r"^https://"))
    expect(answer.locator(".reviewed").first).to_contain_text("cập nhật 20")
    expect(answer.locator(".text")).to_contain_text("hộ chiếu")

    page.click("[data-lang=en]")
    expect(page.locator("#officer")).to_have_text("Talk to an officer")
    page.context.close()


def test_urgent_message_reaches_the_top_of_the_queue_and_the_officer_reply_goes_live(
    browser, server, screenshots
):
    from playwright.sync_api import expect

    waiting = _phone(browser, server)
    waiting.goto("/")
    waiting.click("#officer")  # "talk to an officer": queued, not urgent
    expect(waiting.locator("#status")).to_be_visible()

    citizen = _phone(browser, server)
    citizen.goto("/")
    _ask(citizen, "Tôi bị công an bắt giữ ở Osaka, giúp tôi với")
    expect(citizen.locator("#status")).to_have_class(re.compile("urgent"))
    expect(citizen.locator(".msg.assistant .text").last).to_contain_text("+81")

    lan = _console(browser, server, "lan")
    first = lan.locator("#queue tr").first
    expect(lan.locator("#queue tr")).to_have_count(2)
    expect(first.locator(".badge")).to_have_text("urgent")
    expect(first).to_contain_text("vi")
    minh = _console(browser, server, "minh")

    first.locator("button.claim").click()
    expect(lan.locator("#view")).to_contain_text("You have this conversation.")
    expect(lan.locator("#view .mission")).to_contain_text("Osaka")
    reply = "Chào anh, tôi là cán bộ lãnh sự. Anh đang ở đồn cảnh sát nào? <b>ok</b>"
    lan.fill("#view .history + form textarea", reply)
    lan.click("#view .history + form button")

    # Live on the citizen's page, as text (the markup stays visible, never parsed).
    officer_message = citizen.locator(".msg.officer .text")
    expect(officer_message).to_have_text(reply)
    expect(citizen.locator(".msg.officer b")).to_have_count(0)
    expect(citizen.locator("#status")).to_contain_text("cán bộ lãnh sự đang hỗ trợ")

    # The second officer's claim is refused with a clear message.
    conversation_id = lan.evaluate("() => selected")
    minh.evaluate("id => claim(id)", conversation_id)
    expect(minh.locator("#toast")).to_have_text(
        "lan has already claimed this conversation; it stays with them."
    )

    lan.screenshot(path=str(screenshots / "console.png"), full_page=True)
    # The viewport as the citizen sees it (a full-page shot misplaces the sticky bars).
    citizen.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    citizen.screenshot(path=str(screenshots / "chat.png"))

    lan.click("text=Resolve")
    expect(citizen.locator("#rating")).to_be_visible()
    citizen.click("[data-score='5']")
    expect(citizen.locator("#rating-thanks")).to_be_visible()
    for page in (waiting, citizen, lan, minh):
        page.context.close()

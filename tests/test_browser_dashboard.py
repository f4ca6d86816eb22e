"""The analytics dashboard and the citizens' feedback buttons in Debian's Chromium
(Playwright) against a real uvicorn server: charts drawn from seeded data, a 👍 on a
cited answer and a rating with a comment stored.

Without Chromium these tests are skipped, except under CI=true, where they fail.
docs/dashboard.png is rewritten when CONSULAR_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import pytest

from bot.analytics import FIGURE_NAMES
from bot.feedback import FeedbackStore
from channels.app import create_app
from tests.live_server import serve
from tests.test_analytics import seed
from tests.test_browser import _ask, _phone
from tests.web_helpers import add_user, console_page

pytestmark = pytest.mark.browser

# A pixel of the canvas that is not transparent: Chart.js drew something.
DRAWN = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}"""


@pytest.fixture
def server(web_settings, web_assistant):
    add_user(web_assistant.store, "root", "admin")
    seed(web_assistant.store)
    with serve(create_app(web_settings, assistant=web_assistant)) as base:
        yield base


def _admin(browser, base: str):
    return console_page(browser, base, "root")


def test_the_dashboard_draws_every_chart_from_seeded_data(browser, server, screenshots):
    from playwright.sync_api import expect

    page = _admin(browser, server)
    page.click("nav.sections >> text=Dashboard")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")

    assert page.evaluate("() => Object.keys(Chart.instances).length") == len(FIGURE_NAMES)
    for name in FIGURE_NAMES:
        canvas = page.locator(f"#chart-{name}")
        assert page.evaluate(f"() => Chart.getChart('chart-{name}') !== undefined"), name
        assert canvas.evaluate(DRAWN), f"{name} drew nothing"
        # The canvas is described in words for a screen reader (the hidden table has it all).
        assert canvas.get_attribute("aria-label").endswith("."), name
    expect(page.locator("[data-total=conversations]")).to_have_text("5")
    expect(page.locator("[data-total=handed_off_share]")).to_have_text("60 %")
    expect(page.locator("#chart-handling")).to_have_attribute(
        "aria-label",
        "Answered by the assistant vs handed off to an officer (conversations, share). "
        "assistant: 2, 0.4; officer: 3, 0.6.",
    )
    expect(page.locator("#table-handling tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)

    # The filters go to the address, the report and every CSV link.
    page.fill("#date_from", "2026-11-03")
    page.fill("#date_to", "2026-11-05")
    page.select_option("#mission", "jp-tokyo")
    page.click("#filters button[type=submit]")
    expect(page.locator("[data-total=conversations]")).to_have_text("1")
    expect(page.locator("#mission")).to_have_value("jp-tokyo")
    expect(page.locator("[data-csv=handling]")).to_have_attribute(
        "href",
        "/console/api/analytics/handling.csv?date_from=2026-11-03&date_to=2026-11-05"
        "&mission=jp-tokyo",
    )
    with page.expect_download() as download:
        page.click("[data-csv=handling]")
    assert download.value.suggested_filename == ("handling_2026-11-03_2026-11-05_jp-tokyo.csv")
    page.context.close()


def test_a_thumbs_up_and_a_rating_with_a_comment_are_stored(browser, server, web_assistant):
    from playwright.sync_api import expect

    page = _phone(browser, server)
    page.goto("/")
    _ask(page, "Làm lại hộ chiếu ở Tokyo cần giấy tờ gì?")
    answer = page.locator(".msg.assistant:not(.welcome):not(.pending)").last
    up = answer.locator("button[data-vote='1']")
    expect(up).to_have_attribute("aria-label", "Hữu ích")
    expect(answer.locator("button[data-vote='0']")).to_have_attribute("aria-label", "Không hữu ích")
    expect(up).to_have_attribute("aria-pressed", "false")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".feedback .thanks")).to_have_text("Cảm ơn bạn!")

    conversation_id = page.evaluate("() => state.conversationId")
    feedback = FeedbackStore(web_assistant.store.sessions)
    votes = feedback.answer_votes(conversation_id)
    assert list(votes.values()) == [True]

    page.click("[data-lang=en]")
    expect(up).to_have_attribute("aria-label", "Helpful")
    page.reload()  # the vote is shown again from the server
    answer = page.locator(".msg.assistant:not(.welcome)").last
    expect(answer.locator("button[data-vote='1']")).to_have_attribute("aria-pressed", "true")

    page.click("#end")
    page.click("[data-score='4']")
    expect(page.locator("#rating-thanks")).to_be_visible()
    page.fill("#comment", "Clear answer. Call me on 0912 345 678")
    page.click("#rating-comment button[type=submit]")
    expect(page.locator("#comment-thanks")).to_be_visible()
    rating = feedback.conversation_rating(conversation_id)
    assert (rating.score, rating.comment) == (4, "Clear answer. Call me on [phone]")
    page.context.close()

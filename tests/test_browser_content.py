"""The content console in Debian's Chromium (Playwright), against a real uvicorn server:
an editor writes a new procedure and submits it, cannot publish it herself, a second
editor publishes it from the review queue, and a citizen is answered from it at once;
a changed fee and a rollback reach the citizen the same way.

Without Chromium these tests are skipped, except under CI=true, where they fail.
The editor's screenshot goes to docs/ when CONSULAR_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re

import pytest

from tests.browser_fixtures import new_page
from tests.live_server import serve
from tests.web_helpers import console_app, console_page

TITLE = "Certified copy of a consular birth extract"
QUESTION = "How much does a certified copy of a consular birth extract cost?"
BODY = """Citizens whose birth was registered at a Vietnamese embassy or consulate general \
can ask that mission for a certified copy of the consular birth extract.

## Who this is for
- Vietnamese citizens whose birth was registered at a Vietnamese mission abroad.
- Parents asking for a copy for their child under 18.

## Documents to bring
- The request form for a certified copy of a consular birth extract.
- Your passport or ID card; a parent brings the child's passport too.

## Fee
- A certified copy of a consular birth extract costs {fee} per copy.

---

_Note: illustrative content written for the tests._
"""

pytestmark = pytest.mark.browser


@pytest.fixture
def server(web_settings, live_assistant):
    editors = [("ha", "content_editor"), ("binh", "content_editor")]
    with serve(console_app(web_settings, live_assistant, editors)) as base:
        yield base


def _editor(browser, base: str, username: str):
    # "#queue-title" is the review queue's here: editors land on content.
    return console_page(browser, base, username, width=1280, login="/console")


def _citizen(browser, base: str):
    page = new_page(browser, base, 390, 844)
    page.goto("/")
    return page


def _ask(page, text: str):
    """Send ``text`` and return the locator of the new answer."""
    answers = page.locator(".msg.assistant:not(.welcome):not(.pending)")
    before = answers.count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    from playwright.sync_api import expect

    expect(answers).to_have_count(before + 1)
    return answers.nth(before)


def _revise(page, fee: str, reason: str) -> None:
    """Change the fee in the body, save the draft and submit it."""
    from playwright.sync_api import expect

    page.fill("#body", BODY.format(fee=fee))
    page.fill("#reason", reason)
    page.click("#save")
    expect(page.locator("#notice")).to_contain_text("Draft saved as revision")
    page.click("#submit-review")
    expect(page.locator("#waiting")).to_be_visible()


def _publish_from_queue(page) -> None:
    from playwright.sync_api import expect

    page.goto("/console/content")
    page.locator("#review-queue a", has_text=TITLE).click()
    page.fill("#review-note", "checked against the fee circular")
    page.click("#publish")
    expect(page.locator("#notice")).to_contain_text("citizens' answers use the change")


def test_a_new_document_is_reviewed_published_revised_and_rolled_back(browser, server, screenshots):
    from playwright.sync_api import expect

    ha = _editor(browser, server, "ha")
    ha.click("text=New document")
    ha.fill("input[name=doc_id]", "consular-birth-extract-copy")
    ha.fill("input[name=lang]", "en")
    ha.fill("input[name=title]", TITLE)
    ha.check("input[name=topics][value=civil-status]")
    ha.check("input[name=topics][value=fees]")
    ha.fill("input[name=source]", "https://example.gov.vn/consular-birth-extract-copy")
    ha.fill("input[name=reviewed]", "2026-11-20")
    ha.fill("#body", BODY.format(fee="17 USD") + "\n<script>alert('x')</script>\n")
    # The live preview: Markdown rendered by the server, the typed markup shown as text.
    expect(ha.locator("#preview h2", has_text="Fee")).to_be_visible()
    expect(ha.locator("#preview")).to_contain_text("<script>alert('x')</script>")
    expect(ha.locator("#preview script")).to_have_count(0)
    ha.fill("#body", BODY.format(fee="17 USD"))
    expect(ha.locator("#preview")).not_to_contain_text("<script>")
    ha.fill("#reason", "new guidance from the ministry")
    ha.screenshot(path=str(screenshots / "content-editor.png"), full_page=True)
    ha.click("#save")
    expect(ha.locator("#notice")).to_have_text("Draft saved as revision 1.")
    expect(ha).to_have_url(re.compile(r"/console/content/consular-birth-extract-copy/en$"))
    ha.click("#submit-review")
    expect(ha.locator("#waiting")).to_have_text(
        "Waiting for a second editor to publish this revision."
    )
    expect(ha.locator("#publish")).to_have_count(0)

    binh = _editor(browser, server, "binh")
    expect(binh.locator("#review-queue")).to_contain_text("ha")
    _publish_from_queue(binh)

    citizen = _citizen(browser, server)
    answer = _ask(citizen, QUESTION)
    expect(answer.locator(".sources a").first).to_contain_text(TITLE)
    expect(answer.locator(".text")).to_contain_text("17 USD")

    _revise(ha, "23 USD", "fee raised on 1 December")
    _publish_from_queue(binh)
    expect(_ask(citizen, QUESTION).locator(".text")).to_contain_text("23 USD")

    binh.locator("button.rollback[data-number='1']").click()
    binh.fill("#rollback-reason", "the new fee is not in force yet")
    binh.click("#rollback-confirm")
    expect(binh.locator("#notice")).to_contain_text("Rolled back: revision 3 is published")
    expect(binh.locator("#history tbody tr")).to_have_count(3)
    rolled_back = _ask(citizen, QUESTION).locator(".text")
    expect(rolled_back).to_contain_text("17 USD")
    expect(rolled_back).not_to_contain_text("23 USD")

    binh.locator("#history a", has_text="compare").first.click()
    expect(binh.locator("#diff tr.changed td.removed")).to_contain_text("23 USD")
    expect(binh.locator("#diff tr.changed td.added")).to_contain_text("17 USD")
    for page in (ha, binh, citizen):
        page.context.close()


def test_an_upload_opens_as_a_draft_in_the_editor(browser, server, tmp_path):
    from playwright.sync_api import expect

    html = tmp_path / "legalization.html"
    html.write_text(
        "<html><body><h1>Legalization</h1><p>For documents used in Viet Nam.</p>"
        "<h2>Fee</h2><p>10 USD per document.</p></body></html>",
        encoding="utf-8",
    )
    ha = _editor(browser, server, "ha")
    ha.click("text=Upload a file")
    ha.set_input_files("input[name=file]", str(html))
    ha.fill("input[name=doc_id]", "legalization-upload")
    ha.fill("input[name=lang]", "en")
    ha.fill("input[name=title]", "Legalization of foreign documents")
    ha.check("input[name=topics][value=legalization]")
    ha.fill("input[name=source]", "https://example.gov.vn/legalization")
    ha.fill("input[name=reviewed]", "2026-11-01")
    ha.click("text=Upload and open the draft")
    expect(ha).to_have_url(re.compile(r"/console/content/legalization-upload/en$"))
    expect(ha.locator("#notice")).to_contain_text("imported as draft revision 1")
    expect(ha.locator("#body")).to_have_value(re.compile("10 USD per document"))
    expect(ha.locator("#preview h2")).to_have_text("Fee")

    # Unsupported files get the message in words.
    text = tmp_path / "notes.txt"
    text.write_text("plain notes", encoding="utf-8")
    ha.goto("/console/content/upload")
    ha.set_input_files("input[name=file]", str(text))
    ha.fill("input[name=doc_id]", "notes")
    ha.fill("input[name=lang]", "en")
    ha.click("text=Upload and open the draft")
    expect(ha.locator("#toast")).to_contain_text("upload HTML, PDF, DOCX or Markdown")
    ha.context.close()

"""The content console through the app's test client: pages and JSON API, every role
and CSRF, drafts, review by a second editor, publish (live for citizens at once), reject,
retire, rollback, history, diff, preview, uploads and their size limit, and the errors.

The app runs on ``live_assistant``: its own copy of the sample index and database, since
publishing changes what it answers from.
"""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.content_api import EDITOR_MAX_BYTES
from tests.web_helpers import PASSWORD, add_user, console_app, login_token, signed_in

API = "/console/api/content"
DOC = "consular-birth-extract-copy"
QUESTION = "How much does a certified copy of a consular birth extract cost?"
BODY = """Citizens whose birth was registered at a Vietnamese mission can get a certified copy \
of the consular birth extract from the mission that keeps the register.

## Who this is for
- Vietnamese citizens whose birth was registered at an embassy or consulate general.

## Documents to bring
- The request form for a certified copy of a consular birth extract.
- Your passport or ID card.

## Fee
- A certified copy of a consular birth extract costs {fee} per copy.

---

_Note: sample content for the tests._
"""


def _fields(fee: str = "17 USD", **changes) -> dict:
    data = {
        "doc_id": DOC,
        "lang": "en",
        "title": "Certified copy of a consular birth extract",
        "topics": ["civil-status", "fees"],
        "missions": "all",
        "source": "https://example.gov.vn/birth-extract-copy",
        "reviewed": "2026-11-20",
        "summary": "",
        "body": BODY.format(fee=fee),
        "reason": "new guidance from the ministry",
    }
    data.update(changes)
    return data


USERS = (
    ("ha", "content_editor"),
    ("binh", "content_editor"),
    ("lan", "officer"),
    ("root", "admin"),
)


@pytest.fixture
def app(web_settings, live_assistant):
    return console_app(web_settings, live_assistant, USERS)


@pytest.fixture
def ha(app):
    with TestClient(app) as client:
        yield signed_in(client, "ha")


def _client(app, username: str) -> TestClient:
    # Not entered: it shares the app that ha's client started (one lifespan, one key).
    return signed_in(TestClient(app), username)


@pytest.fixture
def binh(app, ha):
    return _client(app, "binh")


def _ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _save(client, **fields) -> dict:
    return _ok(client.post(f"{API}/drafts", json=_fields(**fields)))


def _publish_new(author, reviewer, **fields) -> dict:
    """A draft by ``author`` submitted and published by ``reviewer``."""
    draft = _save(author, **fields)
    _ok(author.post(f"{API}/revisions/{draft['revision']['id']}/submit"))
    return _ok(reviewer.post(f"{API}/revisions/{draft['revision']['id']}/publish", json={}))


def _answer(client, question: str = QUESTION) -> dict:
    reply = _ok(client.post("/api/v1/chat", json={"message": question}))["reply"]
    return {"text": reply["text"], "cited": [c["doc_id"] for c in reply["citations"]]}


def _audit(app) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in reversed(app.state.services.audit.entries())]


# -- roles, sign-in and CSRF ------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(app):
    with TestClient(app) as client:
        page = client.get("/console/content", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login"
        for path in ("/console/content/new", "/console/content/passport-lost/en"):
            assert client.get(path, follow_redirects=False).status_code == 303
        response = client.get(f"{API}/documents")
        assert response.status_code == 401
        assert response.json() == {"detail": "Sign in to the officer console first."}
        assert client.post(f"{API}/drafts", json=_fields()).status_code == 401


def test_an_officer_gets_403_on_every_content_page_and_action(app, ha):
    lan = _client(app, "lan")
    page = lan.get("/console/content")
    assert page.status_code == 403
    assert "content editors and administrators; your role is officer." in page.text
    for path in ("/console/content/passport-lost/en", "/console/content/upload"):
        assert lan.get(path).status_code == 403
    refused = lan.get(f"{API}/documents")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "The content console is for content editors and administrators; "
        "your role is officer."
    }
    assert lan.post(f"{API}/drafts", json=_fields()).status_code == 403
    assert lan.post(f"{API}/preview", json={"body": "x"}).status_code == 403
    assert not app.state.services.content.exists(DOC, "en")


def test_a_content_editor_lands_on_the_content_console(app):
    with TestClient(app) as client:
        form = {"username": "ha", "password": PASSWORD, "csrf_token": login_token(client)}
        client.post("/console/login", data=form, follow_redirects=False)
        console = client.get("/console", follow_redirects=False)
        assert console.status_code == 303 and console.headers["location"] == "/console/content"
        page = client.get("/console/content")
        assert page.status_code == 200
        assert 'href="/console/content/new"' in page.text and "Review queue" in page.text
        assert client.get("/console/api/queue").status_code == 403


def test_an_admin_may_edit_content(app, ha):
    root = _client(app, "root")
    assert _ok(root.get(f"{API}/documents"))["me"] == "root"
    assert _save(root)["revision"]["author"] == "root"
    assert root.get("/console/content/new").status_code == 200
    upload = root.get("/console/content/upload")
    assert upload.status_code == 200 and "at most 10 MiB" in upload.text
    assert 'name="topics" value="civil-status"' in upload.text


def test_a_post_without_the_csrf_token_is_refused(app, ha):
    token = ha.headers.pop("X-CSRF-Token")
    response = ha.post(f"{API}/drafts", json=_fields())
    assert response.status_code == 403
    assert "reload the page" in response.json()["detail"]
    ha.headers["X-CSRF-Token"] = "guessed"
    assert ha.post(f"{API}/revisions/1/submit").status_code == 403
    ha.headers["X-CSRF-Token"] = token
    assert _save(ha)["revision"]["state"] == "draft"


# -- list and filters ------------------------------------------------------------------------


def test_the_list_has_every_sample_document_with_filters(ha):
    everything = _ok(ha.get(f"{API}/documents"))["documents"]
    keys = {(d["doc_id"], d["lang"]) for d in everything}
    assert ("passport-lost", "en") in keys and ("passport-lost", "fr") in keys
    lost = next(d for d in everything if (d["doc_id"], d["lang"]) == ("passport-lost", "en"))
    assert lost["status"] == "published" and lost["live_number"] == 1 and lost["stale"] is False

    french = _ok(ha.get(f"{API}/documents", params={"lang": "fr"}))["documents"]
    assert french and {d["lang"] for d in french} == {"fr"}
    found = _ok(ha.get(f"{API}/documents", params={"q": "PASSPORT-LOST"}))["documents"]
    assert {d["doc_id"] for d in found} == {"passport-lost"}
    assert _ok(ha.get(f"{API}/documents", params={"status": "draft"}))["documents"] == []
    assert ha.get(f"{API}/documents", params={"status": "lost"}).status_code == 422

    page = ha.get("/console/content", params={"lang": "fr", "q": "passport-lost"})
    assert page.status_code == 200
    assert 'data-doc="passport-lost/fr"' in page.text
    assert 'data-doc="passport-lost/en"' not in page.text


def test_an_overdue_review_is_flagged_and_filtered(ha, binh):
    _publish_new(ha, binh, reviewed="2020-01-15")
    stale = _ok(ha.get(f"{API}/documents", params={"stale": "true"}))["documents"]
    assert [(d["doc_id"], d["stale"], d["reviewed"]) for d in stale] == [(DOC, True, "2020-01-15")]
    page = ha.get("/console/content")
    row = re.search(rf'<tr data-doc="{DOC}/en">.*?</tr>', page.text, re.S).group(0)
    assert "review overdue" in row


# -- drafts, review and publishing -----------------------------------------------------------


def test_draft_review_publish_by_a_second_editor_and_citizens_get_it_at_once(app, ha, binh):
    before = _answer(ha)
    assert DOC not in before["cited"]

    draft = _save(ha)
    revision = draft["revision"]
    assert (revision["number"], revision["state"], revision["author"]) == (1, "draft", "ha")
    assert draft["problems"] == [] and draft["editor_url"] == f"/console/content/{DOC}/en"
    assert draft["fields"]["title"] == "Certified copy of a consular birth extract"
    assert draft["fields"]["topics"] == ["civil-status", "fees"]
    assert "17 USD" in draft["body"]
    assert DOC not in _answer(ha)["cited"]  # a draft never reaches citizens

    rid = revision["id"]
    submitted = _ok(ha.post(f"{API}/revisions/{rid}/submit"))
    assert submitted["revision"]["state"] == "in_review"
    queue = _ok(binh.get(f"{API}/documents"))["review_queue"]
    assert [(r["id"], r["author"]) for r in queue] == [(rid, "ha")]
    assert queue[0]["waiting_seconds"] >= 0

    refused = ha.post(f"{API}/revisions/{rid}/publish", json={})
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("A second editor must publish your change")
    own_page = ha.get(f"/console/content/{DOC}/en")
    assert "Waiting for a second editor to publish this revision." in own_page.text
    assert 'id="publish"' not in own_page.text
    other_page = binh.get(f"/console/content/{DOC}/en")
    assert 'id="publish"' in other_page.text and 'id="reject"' in other_page.text

    published = _ok(binh.post(f"{API}/revisions/{rid}/publish", json={"note": "checked"}))
    assert published["revision"]["state"] == "published"
    assert published["revision"]["reviewer"] == "binh"
    assert published["live"] is True and "citizens" in published["message"]

    answer = _answer(ha)
    assert answer["cited"][0] == DOC
    assert "17 USD" in answer["text"]
    summary = _ok(ha.get(f"{API}/documents/{DOC}/en"))
    assert summary["document"]["status"] == "published"
    assert summary["document"]["live_number"] == 1
    assert [
        (r["number"], r["state"], r["reviewer"], r["review_note"]) for r in summary["history"]
    ] == [(1, "published", "binh", "checked")]
    actions = _audit(app)
    for entry in (("ha", "content_draft"), ("ha", "content_submit"), ("binh", "content_publish")):
        assert entry in actions


def test_a_revised_fee_and_a_rollback_reach_citizens(ha, binh):
    first = _publish_new(ha, binh, fee="17 USD")
    second = _publish_new(ha, binh, fee="23 USD", reason="fee raised on 1 December")
    assert second["revision"]["number"] == 2
    assert "23 USD" in _answer(ha)["text"]

    history = _ok(ha.get(f"{API}/documents/{DOC}/en"))["history"]
    assert [(r["number"], r["state"]) for r in history] == [(2, "published"), (1, "superseded")]
    assert history[0]["reason"] == "fee raised on 1 December"

    to = first["revision"]["id"]
    no_reason = ha.post(
        f"{API}/documents/{DOC}/en/rollback", json={"to_revision_id": to, "reason": " "}
    )
    assert no_reason.status_code == 422
    rolled = _ok(
        ha.post(
            f"{API}/documents/{DOC}/en/rollback",
            json={"to_revision_id": to, "reason": "the new fee is not in force yet"},
        )
    )
    assert (rolled["revision"]["number"], rolled["revision"]["state"]) == (3, "published")
    assert rolled["revision"]["origin"] == "rollback" and rolled["live"] is True
    answer = _answer(ha)
    assert "17 USD" in answer["text"] and "23 USD" not in answer["text"]

    page = ha.get(f"/console/content/{DOC}/en")
    assert page.text.count('class="quiet rollback"') == 2  # revisions 1 and 2 (superseded)


def test_rollback_to_a_revision_that_was_never_published_is_409(ha, binh):
    _publish_new(ha, binh)
    draft = _save(ha, fee="99 USD")
    response = ha.post(
        f"{API}/documents/{DOC}/en/rollback",
        json={"to_revision_id": draft["revision"]["id"], "reason": "try"},
    )
    assert response.status_code == 409
    assert "never published" in response.json()["detail"]


def test_reject_sends_the_revision_back_with_the_reason(ha, binh):
    draft = _save(ha)
    rid = draft["revision"]["id"]
    _ok(ha.post(f"{API}/revisions/{rid}/submit"))
    assert binh.post(f"{API}/revisions/{rid}/reject", json={"reason": "  "}).status_code == 422
    rejected = _ok(binh.post(f"{API}/revisions/{rid}/reject", json={"reason": "cite the decree"}))
    assert rejected["revision"]["state"] == "rejected"
    assert rejected["revision"]["review_note"] == "cite the decree"
    assert binh.post(f"{API}/revisions/{rid}/publish", json={}).status_code == 409
    page = ha.get(f"/console/content/{DOC}/en")
    assert "Rejected by binh" in page.text and "cite the decree" in page.text


def test_retire_takes_the_document_off_the_answers(ha, binh):
    _publish_new(ha, binh)
    assert _answer(ha)["cited"][0] == DOC
    assert ha.post(f"{API}/documents/{DOC}/en/retire", json={"reason": ""}).status_code == 422
    retired = _ok(ha.post(f"{API}/documents/{DOC}/en/retire", json={"reason": "merged"}))
    assert retired["revision"]["state"] == "retired" and retired["live"] is True
    assert DOC not in _answer(ha)["cited"]
    assert _ok(ha.get(f"{API}/documents/{DOC}/en"))["document"]["status"] == "retired"
    again = ha.post(f"{API}/documents/{DOC}/en/retire", json={"reason": "again"})
    assert again.status_code == 409


# -- validation and errors -------------------------------------------------------------------


def test_an_incomplete_draft_is_saved_but_cannot_be_submitted(ha):
    draft = _save(ha, title="", topics=[], source="")
    problems = draft["problems"]
    assert any(p.startswith("title") for p in problems), problems
    assert any(p.startswith("topics") for p in problems), problems
    response = ha.post(f"{API}/revisions/{draft['revision']['id']}/submit")
    assert response.status_code == 422
    assert response.json()["problems"] == problems
    page = ha.get(f"/console/content/{DOC}/en")
    assert "Problems to fix before review" in page.text
    assert all(p.split(":")[0] in page.text for p in problems)


def test_clear_errors_for_bad_requests(ha):
    assert ha.post(f"{API}/drafts", json=_fields(reason="   ")).status_code == 422
    bad_id = ha.post(f"{API}/drafts", json=_fields(doc_id="Not An Id"))
    assert bad_id.status_code == 422 and "doc_id" in bad_id.json()["detail"]
    exists = ha.post(f"{API}/drafts", json={**_fields(doc_id="passport-lost"), "new": True})
    assert exists.status_code == 409
    assert exists.json()["detail"] == (
        "A document passport-lost (en) exists already: open it to change it."
    )

    draft = _save(ha)
    rid = draft["revision"]["id"]
    twice = ha.post(f"{API}/revisions/{rid}/publish", json={})
    assert twice.status_code == 409  # a draft must be submitted first (and by someone else)
    _ok(ha.post(f"{API}/revisions/{rid}/submit"))
    resubmit = ha.post(f"{API}/revisions/{rid}/submit")
    assert resubmit.status_code == 409 and "only a draft" in resubmit.json()["detail"]

    missing = ha.get(f"{API}/documents/no-such-doc/en")
    assert missing.status_code == 404 and "no-such-doc" in missing.json()["detail"]
    assert ha.get(f"{API}/revisions/987654").status_code == 404
    assert ha.post(f"{API}/revisions/987654/submit").status_code == 404
    assert ha.get(f"{API}/diff", params={"old": 987654, "new": rid}).status_code == 404
    page = ha.get("/console/content/no-such-doc/en")
    assert page.status_code == 404 and "no-such-doc" in page.text


# -- preview, history and diff ---------------------------------------------------------------


def test_the_preview_renders_markdown_and_escapes_html(ha):
    body = (
        "Intro <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "## Fee\n**10 USD** [mission](https://example.gov.vn) [bad](javascript:alert(3))\n"
    )
    html = _ok(ha.post(f"{API}/preview", json={"body": body}))["html"]
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "<h2>Fee</h2>" in html and "<strong>10 USD</strong>" in html
    assert '<a href="https://example.gov.vn">mission</a>' in html
    assert 'href="javascript' not in html


def test_history_and_side_by_side_diff(ha):
    first = _save(ha, fee="17 USD")
    second = _save(ha, fee="23 USD", reason="fee raised")
    old, new = first["revision"]["id"], second["revision"]["id"]
    history = _ok(ha.get(f"{API}/documents/{DOC}/en"))["history"]
    assert [(r["number"], r["author"], r["reason"]) for r in history] == [
        (2, "ha", "fee raised"),
        (1, "ha", "new guidance from the ministry"),
    ]

    data = _ok(ha.get(f"{API}/diff", params={"old": old, "new": new}))
    assert (data["old"]["number"], data["new"]["number"]) == (1, 2)
    changed = [r for r in data["rows"] if r["kind"] != "same"]
    assert len(changed) == 1 and changed[0]["kind"] == "changed"
    assert "17 USD" in changed[0]["left"] and "23 USD" in changed[0]["right"]
    assert changed[0]["left_no"] == changed[0]["right_no"]

    page = ha.get(f"/console/content/{DOC}/en/diff", params={"old": old, "new": new})
    assert page.status_code == 200
    row = re.search(r'<tr class="changed">.*?</tr>', page.text, re.S).group(0)
    assert 'class="left removed"' in row and 'class="right added"' in row
    assert "17 USD" in row and "23 USD" in row
    editor = ha.get(f"/console/content/{DOC}/en")
    assert f"/console/content/{DOC}/en/diff?old={old}&amp;new={new}" in editor.text
    other = ha.get("/console/content/passport-lost/en/diff", params={"old": old, "new": new})
    assert other.status_code == 404


def test_the_editor_shows_an_older_revision_on_request(ha):
    first = _save(ha, fee="17 USD")
    _save(ha, fee="23 USD")
    latest = ha.get(f"/console/content/{DOC}/en")
    assert "23 USD" in latest.text and "older revision" not in latest.text
    older = ha.get(f"/console/content/{DOC}/en", params={"revision": first["revision"]["id"]})
    assert "17 USD" in older.text and "This is an older revision" in older.text
    assert ha.get(f"/console/content/{DOC}/en", params={"revision": 987654}).status_code == 404


# -- uploads ---------------------------------------------------------------------------------


def _upload_form(**changes) -> dict:
    form = {
        "doc_id": "legalization-upload",
        "lang": "en",
        "title": "Legalization of foreign documents",
        "topics": ["legalization"],
        "source": "https://example.gov.vn/legalization",
        "reviewed": "2026-11-01",
    }
    form.update(changes)
    return form


def test_an_html_upload_larger_than_other_requests_becomes_a_draft(ha):
    padding = "".join(f"<p>Paragraph {i} about consular legalization.</p>" for i in range(2500))
    html = f"<html><body><h1>Legalization</h1><h2>Fee</h2><p>10 USD.</p>{padding}</body></html>"
    assert len(html) > 65536  # over CONSULAR_MAX_REQUEST_BYTES: only the upload allows it
    files = {"file": ("legalization.html", html.encode(), "text/html")}
    done = _ok(ha.post(f"{API}/upload", data=_upload_form(), files=files))
    assert done["revision"]["origin"] == "upload" and done["revision"]["state"] == "draft"
    assert done["editor_url"] == "/console/content/legalization-upload/en"
    assert "## Fee" in done["body"] and done["fields"]["topics"] == ["legalization"]
    # The editor can preview (and save) the converted text whole; past its own cap, 413.
    assert ha.post(f"{API}/preview", json={"body": done["body"]}).status_code == 200
    too_long = {"body": "x" * (EDITOR_MAX_BYTES + 1)}
    assert ha.post(f"{API}/preview", json=too_long).status_code == 413


def test_a_docx_upload_becomes_a_draft(ha):
    import docx

    document = docx.Document()
    document.add_heading("Legalization of foreign documents", level=1)
    document.add_paragraph("For documents issued abroad and used in Viet Nam.")
    document.add_heading("Fee", level=2)
    document.add_paragraph("10 USD per document.")
    buffer = io.BytesIO()
    document.save(buffer)
    files = {"file": ("legalization.docx", buffer.getvalue(), "application/octet-stream")}
    done = _ok(ha.post(f"{API}/upload", data=_upload_form(reason="from the ministry"), files=files))
    assert "10 USD per document." in done["body"]
    assert done["revision"]["reason"] == "from the ministry"
    assert done["problems"] == []


def test_an_unsupported_or_empty_upload_is_422(ha):
    files = {"file": ("notes.txt", b"some text", "text/plain")}
    response = ha.post(f"{API}/upload", data=_upload_form(), files=files)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "notes.txt: this kind of file cannot be imported; upload HTML, PDF, DOCX or Markdown."
    )
    empty = ha.post(
        f"{API}/upload", data=_upload_form(), files={"file": ("a.html", b"", "text/html")}
    )
    assert empty.status_code == 422 and empty.json()["detail"] == "a.html is empty."


def test_an_oversized_upload_is_413(web_settings, live_assistant):
    add_user(live_assistant.store, "ha", "content_editor")
    settings = web_settings.model_copy(update={"max_upload_bytes": 4096})
    with TestClient(create_app(settings, assistant=live_assistant)) as client:
        signed_in(client, "ha")
        files = {"file": ("big.html", b"<p>" + b"a" * 8000 + b"</p>", "text/html")}
        response = client.post(f"{API}/upload", data=_upload_form(), files=files)
        assert response.status_code == 413
        assert "at most 4096 bytes" in response.json()["detail"]
        assert not live_assistant.content.exists("legalization-upload", "en")


def test_editing_a_sample_document_through_the_form_changes_only_what_was_edited(ha):
    lost = _ok(ha.get(f"{API}/documents/passport-lost/en"))["history"][0]
    shown = _ok(ha.get(f"{API}/revisions/{lost['id']}"))
    fields = shown["fields"]
    assert fields["topics"] == ["passport", "emergency", "protection"]
    body = shown["body"].replace("150 USD", "160 USD")
    draft = _ok(
        ha.post(
            f"{API}/drafts",
            json={
                **{k: v for k, v in fields.items() if k not in ("id", "lang")},
                "doc_id": "passport-lost",
                "lang": "en",
                "body": body,
                "reason": "fee changed",
            },
        )
    )
    assert draft["problems"] == []
    rows = _ok(ha.get(f"{API}/diff", params={"old": lost["id"], "new": draft["revision"]["id"]}))
    changed = [(r["kind"], r["left"], r["right"]) for r in rows["rows"] if r["kind"] != "same"]
    assert len(changed) == 1 and changed[0][0] == "changed"
    assert "150 USD" in changed[0][1] and "160 USD" in changed[0][2]


def test_every_sample_document_survives_the_form_unchanged():
    from channels.content_form import compose_markdown, split_markdown
    from consular.settings import DEFAULT_KB_DIR

    for path in sorted(DEFAULT_KB_DIR.glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        assert compose_markdown(*split_markdown(text)) == text, path

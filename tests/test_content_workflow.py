"""The content workflow on SQLite and PostgreSQL: every transition, the second-person rule,
races, history, diff, stale flags, file sync, uploads and the audit trail."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from bot.audit import AuditLog
from bot.store import ConversationStore
from consular.errors import (
    DocumentNotFoundError,
    InvalidDocumentError,
    InvalidTransitionError,
    ReasonRequiredError,
    RevisionNotFoundError,
    SelfApprovalError,
)
from knowledge.content_store import DiffRow
from knowledge.workflow import ContentWorkflow
from tests.conftest import make_doc, write_doc
from tests.test_ingest import DEJAVU, HTML, META, _make_docx, _make_pdf

MISSIONS = frozenset({"jp-tokyo", "fr-paris"})
TODAY = date(2026, 12, 1)
NEW_FEE = "Intro for citizens.\n\n## Documents to bring\n- the old passport\n\n## Fee\n90 USD."


class Changes:
    """Counts the workflow's on_change calls (what LiveKnowledge.refresh is hooked to)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def audit(store: ConversationStore) -> AuditLog:
    return AuditLog(store.sessions)


@pytest.fixture
def workflow(store: ConversationStore, audit: AuditLog, changes: Changes) -> ContentWorkflow:
    return ContentWorkflow(
        store.sessions,
        audit,
        review_max_age_days=365,
        mission_ids=MISSIONS,
        on_change=changes,
        today=lambda: TODAY,
    )


def _published(workflow: ContentWorkflow, text: str | None = None, *, author: str = "an") -> int:
    """A draft by ``author``, submitted and published by another editor; its revision id."""
    draft = workflow.save_draft(author, "passport-renewal", "en", text or make_doc(), "new page")
    workflow.submit(author, draft.id)
    return workflow.publish("binh", draft.id, "checked against the source").id


def test_a_draft_is_saved_as_a_new_document_and_numbered(workflow: ContentWorkflow) -> None:
    assert not workflow.exists("passport-renewal", "en")
    first = workflow.save_draft("an", "passport-renewal", "en", make_doc(), "first version")
    second = workflow.save_draft("an", "passport-renewal", "en", "not even front matter", "wip")
    assert (first.number, first.state, first.origin) == (1, "draft", "editor")
    assert first.title == "Renewing a passport abroad" and first.author == "an"
    # An incomplete draft is kept as typed; its title falls back to the id.
    assert (second.number, second.title, second.markdown) == (
        2,
        "passport-renewal",
        "not even front matter",
    )
    assert workflow.exists("passport-renewal", "en")
    summary = workflow.document("passport-renewal", "en")
    assert (summary.status, summary.live_number, summary.latest_number) == ("draft", None, 2)
    assert summary.updated_by == "an"
    assert workflow.problems(second.id)
    assert workflow.problems(first.id) == []


def test_ids_and_languages_are_checked_on_save(workflow: ContentWorkflow) -> None:
    with pytest.raises(InvalidDocumentError) as excinfo:
        workflow.save_draft("an", "Passport Renewal", "english", make_doc(), "x")
    assert [p.split(":")[0] for p in excinfo.value.problems] == ["id", "lang"]
    with pytest.raises(DocumentNotFoundError):
        workflow.document("passport-renewal", "en")
    with pytest.raises(RevisionNotFoundError):
        workflow.revision(12345)


def test_submit_lists_every_problem_of_an_invalid_draft(workflow: ContentWorkflow) -> None:
    text = make_doc(doc_id="other-id", extra="missions: [xx-nowhere]\n").replace(
        "missions: all\n", ""
    )
    draft = workflow.save_draft("an", "passport-renewal", "en", text, "wrong id")
    with pytest.raises(InvalidDocumentError) as excinfo:
        workflow.submit("an", draft.id)
    problems = excinfo.value.problems
    assert any(p.startswith("id: 'other-id' differs") for p in problems)
    assert any("xx-nowhere" in p for p in problems)
    assert workflow.revision(draft.id).state == "draft"
    broken = workflow.save_draft(
        "an", "passport-renewal", "en", make_doc(body="", footer=""), "empty"
    )
    with pytest.raises(InvalidDocumentError) as excinfo:
        workflow.submit("an", broken.id)
    assert excinfo.value.problems == ["body: empty: the document has no text"]


def test_draft_review_publish_and_a_second_publish_supersedes(
    workflow: ContentWorkflow, changes: Changes
) -> None:
    draft = workflow.save_draft("an", "passport-renewal", "en", make_doc(status="draft"), "new")
    submitted = workflow.submit("an", draft.id)
    assert submitted.state == "in_review"
    assert workflow.document("passport-renewal", "en").status == "in_review"
    assert [r.id for r in workflow.review_queue()] == [draft.id]
    assert workflow.published_documents() == [] and changes.calls == 0

    published = workflow.publish("binh", draft.id, "looks right")
    assert (published.state, published.reviewer, published.review_note) == (
        "published",
        "binh",
        "looks right",
    )
    assert published.reviewed_at is not None and changes.calls == 1
    assert workflow.review_queue() == []
    [doc] = workflow.published_documents()
    # The front matter said draft; the workflow decides what is published.
    assert doc.is_published and "70 USD" in doc.body

    newer = workflow.save_draft("binh", "passport-renewal", "en", make_doc(body=NEW_FEE), "fee")
    workflow.submit("binh", newer.id)
    assert workflow.document("passport-renewal", "en").status == "published"
    workflow.publish("an", newer.id)
    assert workflow.revision(draft.id).state == "superseded"
    [doc] = workflow.published_documents()
    assert "90 USD" in doc.body and "70 USD" not in doc.body
    summary = workflow.document("passport-renewal", "en")
    assert (summary.live_number, summary.latest_number, summary.updated_by) == (2, 2, "an")


def test_an_editor_cannot_publish_their_own_change(workflow: ContentWorkflow) -> None:
    draft = workflow.save_draft("an", "passport-renewal", "en", make_doc(), "new")
    workflow.submit("an", draft.id)
    with pytest.raises(SelfApprovalError):
        workflow.publish("an", draft.id)
    assert workflow.revision(draft.id).state == "in_review"


def test_transitions_out_of_order_are_refused(workflow: ContentWorkflow) -> None:
    draft = workflow.save_draft("an", "passport-renewal", "en", make_doc(), "new")
    with pytest.raises(InvalidTransitionError, match="no longer waiting for review"):
        workflow.publish("binh", draft.id)
    with pytest.raises(InvalidTransitionError, match="only a revision under review"):
        workflow.reject("binh", draft.id, "no")
    workflow.submit("an", draft.id)
    with pytest.raises(InvalidTransitionError, match="only a draft can be submitted"):
        workflow.submit("an", draft.id)
    with pytest.raises(InvalidTransitionError, match="no published version"):
        workflow.retire("an", "passport-renewal", "en", "obsolete")


def test_reject_needs_a_note_and_ends_the_revision(workflow: ContentWorkflow) -> None:
    draft = workflow.save_draft("an", "passport-renewal", "en", make_doc(), "new")
    workflow.submit("an", draft.id)
    with pytest.raises(ReasonRequiredError):
        workflow.reject("binh", draft.id, "  ")
    rejected = workflow.reject("binh", draft.id, "The fee is out of date.")
    assert (rejected.state, rejected.reviewer, rejected.review_note) == (
        "rejected",
        "binh",
        "The fee is out of date.",
    )
    with pytest.raises(InvalidTransitionError):
        workflow.publish("binh", draft.id)
    assert workflow.document("passport-renewal", "en").status == "draft"


def test_two_editors_publishing_at_once_give_one_publish_and_one_error(
    workflow: ContentWorkflow, audit: AuditLog
) -> None:
    draft = workflow.save_draft("an", "passport-renewal", "en", make_doc(), "new")
    workflow.submit("an", draft.id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def publish(actor: str) -> None:
        barrier.wait()
        try:
            outcomes[actor] = workflow.publish(actor, draft.id).state
        except InvalidTransitionError as exc:
            outcomes[actor] = exc.user_message

    threads = [threading.Thread(target=publish, args=(a,)) for a in ("binh", "chi")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = sorted(outcomes.values(), key=lambda r: r != "published")
    assert results[0] == "published" and "no longer waiting for review" in results[1]
    assert [r.state for r in workflow.history("passport-renewal", "en")] == ["published"]
    assert [e.action for e in audit.entries()].count("content_publish") == 1


def test_concurrent_saves_never_share_a_revision_number(workflow: ContentWorkflow) -> None:
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def save(n: int) -> None:
        barrier.wait()
        try:
            workflow.save_draft(f"editor{n}", "passport-renewal", "en", make_doc(), f"save {n}")
        except Exception as exc:  # reported below: the assertion shows what went wrong
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.number for r in workflow.history("passport-renewal", "en")] == [4, 3, 2, 1]


def test_retire_takes_the_document_off_the_air(workflow: ContentWorkflow, changes: Changes) -> None:
    live = _published(workflow)
    with pytest.raises(ReasonRequiredError):
        workflow.retire("binh", "passport-renewal", "en", "")
    retired = workflow.retire("binh", "passport-renewal", "en", "procedure abolished")
    assert (retired.id, retired.state) == (live, "retired")
    assert workflow.published_documents() == [] and changes.calls == 2
    summary = workflow.document("passport-renewal", "en")
    assert (summary.status, summary.live_number) == ("retired", None)
    assert workflow.documents(status="retired") == [summary]


def test_rollback_publishes_a_copy_of_an_earlier_version(
    workflow: ContentWorkflow, changes: Changes
) -> None:
    first = _published(workflow)
    second = _published(workflow, make_doc(body=NEW_FEE), author="chi")
    restored = workflow.rollback("an", "passport-renewal", "en", first, "the new fee is wrong")
    assert (restored.number, restored.state, restored.origin, restored.author) == (
        3,
        "published",
        "rollback",
        "an",
    )
    assert restored.markdown == workflow.revision(first).markdown
    assert restored.review_note == "restores revision 1"
    assert workflow.revision(second).state == "superseded"
    [doc] = workflow.published_documents()
    assert "70 USD" in doc.body and changes.calls == 3

    # Retired, then restored: a retired version can come back too.
    workflow.retire("binh", "passport-renewal", "en", "paused")
    again = workflow.rollback("binh", "passport-renewal", "en", second, "resume")
    assert again.number == 4 and "90 USD" in workflow.published_documents()[0].body


def test_rollback_refuses_unpublished_and_foreign_revisions(workflow: ContentWorkflow) -> None:
    _published(workflow)
    draft = workflow.save_draft("an", "passport-renewal", "en", make_doc(), "never published")
    with pytest.raises(InvalidTransitionError, match="never published"):
        workflow.rollback("an", "passport-renewal", "en", draft.id, "try")
    other = workflow.save_draft("an", "passport-renewal", "vi", make_doc(lang="vi"), "vi")
    with pytest.raises(RevisionNotFoundError):
        workflow.rollback("an", "passport-renewal", "en", other.id, "try")
    with pytest.raises(ReasonRequiredError):
        workflow.rollback("an", "passport-renewal", "en", draft.id, "")


def test_history_is_newest_first_with_who_when_and_why(workflow: ContentWorkflow) -> None:
    _published(workflow)
    workflow.save_draft("chi", "passport-renewal", "en", make_doc(body=NEW_FEE), "fee changed")
    history = workflow.history("passport-renewal", "en")
    assert [(r.number, r.state, r.author, r.reason) for r in history] == [
        (2, "draft", "chi", "fee changed"),
        (1, "published", "an", "new page"),
    ]
    assert history[0].created_at >= history[1].created_at


def test_diff_pairs_changed_lines_and_shows_added_and_removed(workflow: ContentWorkflow) -> None:
    old = workflow.save_draft("an", "passport-renewal", "en", "a\nb\nc\nd\n", "x")
    new = workflow.save_draft("an", "passport-renewal", "en", "a\nB\nc\nd\ne\n", "x")
    assert workflow.diff(old.id, new.id) == [
        DiffRow("same", 1, "a", 1, "a"),
        DiffRow("changed", 2, "b", 2, "B"),
        DiffRow("same", 3, "c", 3, "c"),
        DiffRow("same", 4, "d", 4, "d"),
        DiffRow("added", None, "", 5, "e"),
    ]
    assert workflow.diff(new.id, old.id)[-1] == DiffRow("removed", 5, "e", None, "")


def test_documents_reviewed_too_long_ago_are_flagged_stale(
    store: ConversationStore, audit: AuditLog
) -> None:
    def at(today: date) -> ContentWorkflow:
        return ContentWorkflow(
            store.sessions, audit, review_max_age_days=30, mission_ids=MISSIONS, today=lambda: today
        )

    workflow = at(date(2026, 10, 20))  # make_doc is reviewed on 2026-10-01
    _published(workflow)
    workflow.save_draft("an", "passport-lost", "en", make_doc(doc_id="passport-lost"), "draft")
    assert [s.stale for s in workflow.documents()] == [False, False]
    later = at(date(2026, 11, 15))
    summaries = {s.doc_id: s for s in later.documents()}
    assert summaries["passport-renewal"].stale
    assert summaries["passport-renewal"].reviewed == date(2026, 10, 1)
    # A draft is not stale: only what citizens are answered from is due for review.
    assert not summaries["passport-lost"].stale
    assert [s.doc_id for s in later.documents(stale_only=True)] == ["passport-renewal"]
    assert [s.doc_id for s in later.documents(status="draft")] == ["passport-lost"]


def test_sync_files_imports_new_and_changed_files_only(
    workflow: ContentWorkflow, tmp_path: Path, changes: Changes
) -> None:
    kb = tmp_path / "kb"
    write_doc(kb, "passport-renewal", "en", make_doc())
    write_doc(kb, "passport-lost", "en", make_doc(doc_id="passport-lost", status="draft"))
    write_doc(kb, "visa-old", "en", make_doc(doc_id="visa-old", status="retired"))
    first = workflow.sync_files(kb)
    assert (first.published, first.drafted, first.retired) == (
        ["passport-renewal/en"],
        ["passport-lost/en"],
        ["visa-old/en"],
    )
    assert changes.calls == 1
    [doc] = workflow.published_documents()
    assert doc.id == "passport-renewal"
    [record] = workflow.history("passport-renewal", "en")
    assert (record.author, record.origin, record.reviewer) == ("files", "files", "files")

    again = workflow.sync_files(kb)
    assert (again.unchanged, again.published, again.drafted) == (3, [], [])
    assert changes.calls == 1

    write_doc(kb, "passport-renewal", "en", make_doc(body=NEW_FEE))
    changed = workflow.sync_files(kb)
    assert (changed.published, changed.unchanged) == (["passport-renewal/en"], 2)
    assert [r.state for r in workflow.history("passport-renewal", "en")] == [
        "published",
        "superseded",
    ]
    assert "90 USD" in workflow.published_documents()[0].body


def test_an_editors_change_survives_a_resync_of_unchanged_files(
    workflow: ContentWorkflow, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    write_doc(kb, "passport-renewal", "en", make_doc())
    workflow.sync_files(kb)
    workflow.retire("an", "passport-renewal", "en", "no longer offered")
    assert workflow.sync_files(kb).unchanged == 1
    assert workflow.document("passport-renewal", "en").status == "retired"
    assert workflow.published_documents() == []


def test_sync_keeps_an_invalid_published_file_as_a_draft(
    workflow: ContentWorkflow, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    write_doc(kb, "passport-renewal", "en", make_doc(extra="colour: blue\n"))
    report = workflow.sync_files(kb)
    assert report.drafted == ["passport-renewal/en"] and report.published == []
    assert any("colour" in p for p in report.problems)
    assert workflow.published_documents() == []


def _upload(workflow: ContentWorkflow, name: str, data: bytes, **overrides: object):
    return workflow.import_upload("an", name, data, {**META, **overrides}, "ministry page")


def test_uploaded_html_and_markdown_become_drafts(workflow: ContentWorkflow) -> None:
    html = _upload(workflow, "ho-chieu.html", HTML.encode())
    assert (html.origin, html.state, html.doc_id, html.lang) == ("upload", "draft", *META_KEY)
    assert "## Giấy tờ cần chuẩn bị" in html.markdown and "alert" not in html.markdown
    assert workflow.problems(html.id) == []
    markdown = workflow.import_upload(
        "an", "renewal.md", make_doc(status="published").encode(), {}, "from git"
    )
    assert (markdown.doc_id, markdown.lang, markdown.number) == ("passport-renewal", "en", 1)
    # An upload is a draft, whatever its front matter says.
    assert markdown.state == "draft" and workflow.published_documents() == []


META_KEY = (META["id"], META["lang"])


def test_uploaded_docx_and_pdf_become_drafts(workflow: ContentWorkflow, tmp_path: Path) -> None:
    docx_path = tmp_path / "legalization.docx"
    _make_docx(docx_path)
    docx = _upload(workflow, "legalization.docx", docx_path.read_bytes(), lang="en")
    assert "## Documents to bring" in docx.markdown and "10 USD" in docx.markdown
    if not DEJAVU.is_file():
        pytest.skip("DejaVu fonts (Debian fonts-dejavu-core) not installed")
    pdf_path = tmp_path / "khai-sinh.pdf"
    _make_pdf(pdf_path)
    pdf = _upload(workflow, "khai-sinh.pdf", pdf_path.read_bytes())
    assert "## Lệ phí" in pdf.markdown and "5 USD" in pdf.markdown
    assert [r.origin for r in workflow.history(*META_KEY)] == ["upload"]


def test_uploads_that_cannot_be_converted_give_clear_errors(workflow: ContentWorkflow) -> None:
    with pytest.raises(InvalidDocumentError, match="cannot be converted") as excinfo:
        _upload(workflow, "notes.odt", b"x")
    assert excinfo.value.problems == [".odt: upload Markdown, HTML, PDF or DOCX"]
    with pytest.raises(InvalidDocumentError) as excinfo:
        _upload(workflow, "broken.pdf", b"%PDF-1.4 not really")
    assert excinfo.value.problems == ["broken.pdf: the file could not be read (PdfminerException)."]
    with pytest.raises(InvalidDocumentError) as excinfo:
        workflow.import_upload("an", "page.html", HTML.encode(), {"id": "x"}, "no metadata")
    assert "lang" in excinfo.value.problems[0] and "source" in excinfo.value.problems[0]
    assert not workflow.exists(*META_KEY)


def test_every_action_is_audited_without_the_document_text(
    workflow: ContentWorkflow, audit: AuditLog, tmp_path: Path
) -> None:
    write_doc(tmp_path / "kb", "passport-lost", "en", make_doc(doc_id="passport-lost"))
    workflow.sync_files(tmp_path / "kb")
    first = _published(workflow)
    second = workflow.save_draft("chi", "passport-renewal", "en", make_doc(body=NEW_FEE), "fee")
    workflow.submit("chi", second.id)
    workflow.reject("an", second.id, "call +84 912 345 678 first")
    workflow.retire("an", "passport-renewal", "en", "abolished")
    workflow.rollback("binh", "passport-renewal", "en", first, "restored")
    _upload(workflow, "ho-chieu.html", HTML.encode())
    entries = list(reversed(audit.entries()))
    assert [(e.actor, e.action) for e in entries] == [
        ("files", "content_sync"),
        ("an", "content_draft"),
        ("an", "content_submit"),
        ("binh", "content_publish"),
        ("chi", "content_draft"),
        ("chi", "content_submit"),
        ("an", "content_reject"),
        ("an", "content_retire"),
        ("binh", "content_rollback"),
        ("an", "content_import"),
    ]
    assert entries[0].detail == "passport-lost/en r1 published from passport-lost.md"
    assert entries[3].detail == "passport-renewal/en r1: checked against the source"
    assert entries[8].detail == "passport-renewal/en r3 restores r1: restored"
    # Personal data in a note is redacted; no entry carries the document's text.
    assert "912 345 678" not in entries[6].detail
    assert all("Documents to bring" not in (e.detail or "") for e in entries)


# -- what the review found -------------------------------------------------------------------


def test_a_deleted_file_withdraws_its_document_but_not_an_editors_version(
    workflow: ContentWorkflow, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    renewal = write_doc(kb, "passport-renewal", "en", make_doc())
    lost = write_doc(kb, "passport-lost", "en", make_doc(doc_id="passport-lost"))
    workflow.sync_files(kb)
    # An editor publishes their own version of one of them.
    draft = workflow.save_draft(
        "an", "passport-lost", "en", make_doc(doc_id="passport-lost", body=NEW_FEE), "fee"
    )
    workflow.submit("an", draft.id)
    workflow.publish("binh", draft.id)
    renewal.unlink()
    lost.unlink()
    report = workflow.sync_files(kb)
    assert report.retired == ["passport-renewal/en"]
    assert workflow.document("passport-renewal", "en").status == "retired"
    assert [d.id for d in workflow.published_documents()] == ["passport-lost"]
    assert workflow.sync_files(kb).retired == []


def test_a_draft_written_before_the_live_version_cannot_undo_it(
    workflow: ContentWorkflow,
) -> None:
    _published(workflow)
    older = workflow.save_draft("an", "passport-renewal", "en", make_doc(body=NEW_FEE), "fee")
    workflow.submit("an", older.id)
    newer = workflow.save_draft("chi", "passport-renewal", "en", make_doc(title="New"), "title")
    workflow.submit("chi", newer.id)
    workflow.publish("binh", newer.id)
    with pytest.raises(InvalidTransitionError, match="newer version was published"):
        workflow.publish("binh", older.id)
    [live] = workflow.published_documents()
    assert live.meta.title == "New"


def test_a_reviewed_date_with_a_time_is_read_as_its_day(workflow: ContentWorkflow) -> None:
    text = make_doc().replace("reviewed: 2026-10-01", "reviewed: 2024-01-01 00:00:00")
    _published(workflow, text)
    [summary] = workflow.documents()
    assert summary.reviewed == date(2024, 1, 1) and summary.stale


def test_a_markdown_upload_with_broken_front_matter_is_refused_in_words(
    workflow: ContentWorkflow,
) -> None:
    with pytest.raises(InvalidDocumentError) as excinfo:
        _upload(workflow, "bad.md", b"---\ntitle: [oops\n---\n\nbody\n")
    assert excinfo.value.problems == [
        "bad.md: the front matter (between the --- lines) is not valid YAML."
    ]


def test_an_overlong_text_is_refused(workflow: ContentWorkflow) -> None:
    with pytest.raises(InvalidDocumentError) as excinfo:
        workflow.save_draft("an", "passport-renewal", "en", "x" * 200_001, "huge")
    assert "at most 200,000" in excinfo.value.problems[0]
    assert not workflow.exists("passport-renewal", "en")


def test_guidance_cited_in_emergencies_can_be_revised_but_not_retired(
    store: ConversationStore, audit: AuditLog
) -> None:
    workflow = ContentWorkflow(
        store.sessions, audit, review_max_age_days=365, protected=frozenset({"passport-renewal"})
    )
    _published(workflow)
    with pytest.raises(InvalidTransitionError, match="cannot be retired"):
        workflow.retire("binh", "passport-renewal", "en", "trying")
    assert workflow.document("passport-renewal", "en").status == "published"

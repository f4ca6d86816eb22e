"""The content console's JSON API: documents, revisions, the review queue, drafts,
uploads, preview, diff, and the actions of the workflow (submit, publish, reject, retire,
roll back).

Role checks happen here (content editors and administrators; every POST with CSRF); the
business rules (states, a second editor publishes) are the workflow's. Each action is
audited by the workflow, in the transaction of the change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from channels.console_deps import ActingEditor, ContentEditor
from channels.content_form import compose_markdown, render_preview, split_markdown
from channels.errors import HttpError, NotReady
from channels.services import Services, ServicesDep
from consular.errors import (
    ContentError,
    DocumentNotFoundError,
    IngestionError,
    InvalidDocumentError,
    InvalidTransitionError,
    RevisionNotFoundError,
    SelfApprovalError,
)
from knowledge.content_text import MAX_DOCUMENT_CHARS
from knowledge.ingest import SUPPORTED_SUFFIXES
from knowledge.model import DOC_ID_PATTERN, LANG_PATTERN

if TYPE_CHECKING:
    from knowledge.content_store import DocumentSummary, RevisionRecord
    from knowledge.workflow import ContentWorkflow

router = APIRouter(prefix="/console/api/content", tags=["content"])
UPLOAD_PATH = "/console/api/content/upload"
# The editor sends the whole body as JSON: up to 4 bytes a character, with room to spare.
EDITOR_PATHS = ("/console/api/content/drafts", "/console/api/content/preview")
STATUSES = ("published", "in_review", "draft", "retired")
SELF_APPROVAL = "A second editor must publish your change: you cannot approve your own revision."
MAX_BODY_CHARS = MAX_DOCUMENT_CHARS
EDITOR_MAX_BYTES = 4 * MAX_BODY_CHARS + 64 * 1024


class DocumentExists(HttpError):
    status_code = 409


class UploadRefused(HttpError):
    status_code = 422


class UploadTooLarge(HttpError):
    status_code = 413


def _reason(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("say why (it is kept in the history and the audit log)")
    return value


class DraftBody(BaseModel):
    """The editor's form: front-matter fields, the Markdown body, and why."""

    doc_id: str = Field(pattern=DOC_ID_PATTERN, max_length=80)
    lang: str = Field(pattern=LANG_PATTERN)
    title: str = Field(default="", max_length=400)
    topics: list[str] = Field(default_factory=list, max_length=20)
    missions: str = Field(default="all", max_length=1000)
    source: str = Field(default="", max_length=1000)
    reviewed: str = Field(default="", max_length=20)
    summary: str = Field(default="", max_length=1000)
    status: str = Field(default="draft", max_length=20)
    body: str = Field(default="", max_length=MAX_BODY_CHARS)
    reason: str = Field(max_length=500)
    # From the "new document" page: refuse to add a draft to a document that exists.
    new: bool = False

    @field_validator("reason")
    @classmethod
    def _why(cls, value: str) -> str:
        return _reason(value)

    def markdown(self) -> str:
        fields = self.model_dump(exclude={"body", "reason", "new", "doc_id"})
        return compose_markdown({**fields, "id": self.doc_id}, self.body)


class NoteBody(BaseModel):
    note: str = Field(default="", max_length=1000)


class ReasonBody(BaseModel):
    reason: str = Field(max_length=500)

    @field_validator("reason")
    @classmethod
    def _why(cls, value: str) -> str:
        return _reason(value)


class RollbackBody(ReasonBody):
    to_revision_id: int


class PreviewBody(BaseModel):
    body: str = Field(max_length=MAX_BODY_CHARS)


# -- reading --------------------------------------------------------------------------------


@router.get("/documents")
async def documents(
    session: ContentEditor,
    services: ServicesDep,
    status: str | None = Query(default=None, pattern="^(published|in_review|draft|retired)$"),
    stale: bool = False,
    lang: str | None = Query(default=None, pattern=LANG_PATTERN),
    q: str = Query(default="", max_length=200),
) -> dict[str, Any]:
    """Every document with its status, live revision and stale flag, filtered; and the
    review queue."""
    workflow = content_workflow(services)
    listed = await run_in_threadpool(filtered_documents, workflow, status, stale, lang, q)
    queue = await run_in_threadpool(workflow.review_queue)
    now = datetime.now(UTC)
    return {
        "me": session.user.username,
        "documents": [summary_json(d) for d in listed],
        "review_queue": [queue_json(r, now) for r in queue],
    }


@router.get("/documents/{doc_id}/{lang}")
async def document(
    doc_id: str, lang: str, session: ContentEditor, services: ServicesDep
) -> dict[str, Any]:
    """One document: its summary and its whole history, newest first."""
    workflow = content_workflow(services)
    summary = await run_in_threadpool(workflow.document, doc_id, lang)
    history = await run_in_threadpool(workflow.history, doc_id, lang)
    return {"document": summary_json(summary), "history": [revision_json(r) for r in history]}


@router.get("/revisions/{revision_id}")
async def revision(revision_id: int, session: ContentEditor, services: ServicesDep) -> dict:
    """One revision with its text, as form fields and body, and its problems."""
    workflow = content_workflow(services)
    record = await run_in_threadpool(workflow.revision, revision_id)
    problems = await run_in_threadpool(workflow.problems, revision_id)
    return revision_detail(record, problems)


@router.get("/diff")
async def diff(
    session: ContentEditor, services: ServicesDep, old: int = Query(), new: int = Query()
) -> dict[str, Any]:
    """Side-by-side rows between two revisions (same, changed, added, removed)."""
    workflow = content_workflow(services)
    rows = await run_in_threadpool(workflow.diff, old, new)
    return {
        "old": revision_json(await run_in_threadpool(workflow.revision, old)),
        "new": revision_json(await run_in_threadpool(workflow.revision, new)),
        "rows": [
            {
                "kind": r.kind,
                "left_no": r.left_no,
                "left": r.left,
                "right_no": r.right_no,
                "right": r.right,
            }
            for r in rows
        ],
    }


@router.post("/preview")
async def preview(body: PreviewBody, session: ActingEditor) -> dict[str, str]:
    """The body rendered as HTML (raw HTML in it is escaped: safe to insert)."""
    return {"html": render_preview(body.body)}


# -- changing -------------------------------------------------------------------------------


@router.post("/drafts")
async def save_draft(body: DraftBody, session: ActingEditor, services: ServicesDep) -> dict:
    """A new draft revision (the document is created when new); its problems are listed
    but do not stop the save: a draft may be unfinished."""
    workflow = content_workflow(services)
    if body.new and await run_in_threadpool(workflow.exists, body.doc_id, body.lang):
        raise DocumentExists(
            f"A document {body.doc_id} ({body.lang}) exists already: open it to change it."
        )
    record = await run_in_threadpool(
        workflow.save_draft,
        session.user.username,
        body.doc_id,
        body.lang,
        body.markdown(),
        body.reason,
    )
    return await _detail(workflow, record)


@router.post(UPLOAD_PATH.removeprefix("/console/api/content"))
async def upload(
    session: ActingEditor,
    services: ServicesDep,
    file: UploadFile = File(),
    doc_id: str = Form(pattern=DOC_ID_PATTERN, max_length=80),
    lang: str = Form(pattern=LANG_PATTERN),
    title: str = Form(default="", max_length=400),
    topics: list[str] = Form(default=[]),
    source: str = Form(default="", max_length=1000),
    reviewed: str = Form(default="", max_length=20),
    reason: str = Form(default="", max_length=500),
) -> dict:
    """An HTML, PDF, DOCX or Markdown file converted into a new draft."""
    workflow = content_workflow(services)
    filename = PurePath(file.filename or "upload").name
    if PurePath(filename).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UploadRefused(
            f"{filename}: this kind of file cannot be imported; upload HTML, PDF, DOCX or Markdown."
        )
    limit = services.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLarge(f"{filename} is too large: files may be at most {limit} bytes.")
    if not data:
        raise UploadRefused(f"{filename} is empty.")
    overrides = {
        "id": doc_id,
        "lang": lang,
        "title": title.strip() or None,
        "topics": topics or None,
        "source": source.strip() or None,
        "reviewed": reviewed.strip() or None,
    }
    record = await run_in_threadpool(
        workflow.import_upload,
        session.user.username,
        filename,
        data,
        overrides,
        reason.strip() or f"Imported from {filename}",
    )
    return await _detail(workflow, record)


@router.post("/revisions/{revision_id}/submit")
async def submit(revision_id: int, session: ActingEditor, services: ServicesDep) -> dict:
    """Send a draft for review; an invalid document is refused with its problems (422)."""
    workflow = content_workflow(services)
    record = await run_in_threadpool(workflow.submit, session.user.username, revision_id)
    return await _detail(workflow, record)


@router.post("/revisions/{revision_id}/publish")
async def publish(
    revision_id: int, body: NoteBody, session: ActingEditor, services: ServicesDep
) -> dict:
    """A second editor publishes a revision in review: citizens are answered from it."""
    workflow = content_workflow(services)
    record = await run_in_threadpool(
        workflow.publish, session.user.username, revision_id, body.note.strip()
    )
    return await _changed(services, record, f"Revision {record.number} is published")


@router.post("/revisions/{revision_id}/reject")
async def reject(
    revision_id: int, body: ReasonBody, session: ActingEditor, services: ServicesDep
) -> dict:
    """Send a revision in review back to its author, with the reason."""
    workflow = content_workflow(services)
    record = await run_in_threadpool(
        workflow.reject, session.user.username, revision_id, body.reason
    )
    return await _detail(workflow, record)


@router.post("/documents/{doc_id}/{lang}/retire")
async def retire(
    doc_id: str, lang: str, body: ReasonBody, session: ActingEditor, services: ServicesDep
) -> dict:
    """Take the live revision out of the answers."""
    workflow = content_workflow(services)
    record = await run_in_threadpool(
        workflow.retire, session.user.username, doc_id, lang, body.reason
    )
    return await _changed(services, record, f"{doc_id} ({lang}) is retired")


@router.post("/documents/{doc_id}/{lang}/rollback")
async def rollback(
    doc_id: str, lang: str, body: RollbackBody, session: ActingEditor, services: ServicesDep
) -> dict:
    """Publish again the text of an earlier revision (as a new revision)."""
    workflow = content_workflow(services)
    record = await run_in_threadpool(
        workflow.rollback, session.user.username, doc_id, lang, body.to_revision_id, body.reason
    )
    return await _changed(services, record, f"Rolled back: revision {record.number} is published")


# -- helpers ------------------------------------------------------------------------------


def content_workflow(services: Services) -> ContentWorkflow:
    if services.content is None:
        raise NotReady("The content workflow is not available in this server.")
    return services.content


def filtered_documents(
    workflow: ContentWorkflow, status: str | None, stale: bool, lang: str | None, text: str
) -> list[DocumentSummary]:
    """The workflow's list, narrowed by language and by words in the id or title."""
    listed = workflow.documents(status=status, stale_only=stale)
    needle = text.strip().casefold()
    return [
        d
        for d in listed
        if (lang is None or d.lang == lang)
        and (not needle or needle in d.doc_id.casefold() or needle in d.title.casefold())
    ]


async def _detail(workflow: ContentWorkflow, record: RevisionRecord) -> dict[str, Any]:
    problems = await run_in_threadpool(workflow.problems, record.id)
    return revision_detail(record, problems)


async def _changed(services: Services, record: RevisionRecord, what: str) -> dict:
    # The workflow's on_change (bot/live_knowledge.py) re-indexes and swaps the engine's
    # knowledge before the action returns; whether that worked is checked, not assumed.
    data = await _detail(content_workflow(services), record)
    live = services.assistant.live
    data["live"] = live is not None and await run_in_threadpool(live.is_current)
    if data["live"]:
        data["message"] = f"{what}; citizens' answers use the change from now on."
    else:
        data["message"] = (
            f"{what}, but the assistant could not switch to it yet: it retries every "
            f"{services.settings.content_poll_seconds:g} s. Tell the administrator if this stays."
        )
    return data


def summary_json(d: DocumentSummary) -> dict[str, Any]:
    return {
        "doc_id": d.doc_id,
        "lang": d.lang,
        "title": d.title,
        "status": d.status,
        "live_number": d.live_number,
        "latest_number": d.latest_number,
        "latest_state": d.latest_state,
        "reviewed": d.reviewed.isoformat() if d.reviewed else None,
        "stale": d.stale,
        "updated_at": d.updated_at.isoformat(),
        "updated_by": d.updated_by,
    }


def revision_json(r: RevisionRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "doc_id": r.doc_id,
        "lang": r.lang,
        "number": r.number,
        "state": r.state,
        "title": r.title,
        "author": r.author,
        "reason": r.reason,
        "origin": r.origin,
        "created_at": r.created_at.isoformat(),
        "reviewer": r.reviewer,
        "review_note": r.review_note,
        "reviewed_at": r.reviewed_at.isoformat() if r.reviewed_at else None,
    }


def revision_detail(r: RevisionRecord, problems: list[str]) -> dict[str, Any]:
    fields, body = split_markdown(r.markdown)
    return {
        "revision": revision_json(r),
        "markdown": r.markdown,
        "fields": fields,
        "body": body,
        "problems": problems,
        "editor_url": f"/console/content/{r.doc_id}/{r.lang}",
    }


def queue_json(r: RevisionRecord, now: datetime) -> dict[str, Any]:
    created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC)
    return {
        **revision_json(r),
        "waiting_seconds": max(0, int((now - created).total_seconds())),
    }


# -- errors -------------------------------------------------------------------------------

# The workflow's errors by the HTTP status they stand for; the rest of ContentError is 422.
_STATUS: dict[type[Exception], int] = {
    SelfApprovalError: 409,
    InvalidTransitionError: 409,
    RevisionNotFoundError: 404,
    DocumentNotFoundError: 404,
    IngestionError: 422,
}


def install_content_error_handlers(app: FastAPI) -> None:
    """Content errors as JSON: the message, and the problem list of an invalid document."""

    async def _content(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ContentError | DocumentNotFoundError | IngestionError)
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 422)
        detail = SELF_APPROVAL if isinstance(exc, SelfApprovalError) else exc.user_message
        body: dict[str, Any] = {"detail": detail}
        if isinstance(exc, InvalidDocumentError):
            body["problems"] = exc.problems
        return JSONResponse(body, status)

    for kind in (ContentError, DocumentNotFoundError, IngestionError):
        app.add_exception_handler(kind, _content)

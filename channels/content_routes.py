"""The content console's pages (HTML): the document list with the review queue, the
editor (new or existing document, with history and actions), the upload form and the
side-by-side diff. Actions go through the JSON API (channels/content_api.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from channels.auth import CONTENT_ROLES, Session, read_session
from channels.console import TEMPLATES
from channels.content_api import STATUSES, content_workflow, filtered_documents
from channels.content_form import TOPIC_CHOICES, render_preview, split_markdown
from channels.services import Services, ServicesDep
from consular.errors import ContentError, DocumentNotFoundError
from knowledge.model import LANG_PATTERN

if TYPE_CHECKING:
    from knowledge.workflow import ContentWorkflow

router = APIRouter(prefix="/console/content", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def list_page(
    request: Request,
    services: ServicesDep,
    status: str = Query(default="", pattern="^(|published|in_review|draft|retired)$"),
    stale: bool = False,
    lang: str = Query(default="", pattern=f"^$|{LANG_PATTERN}"),
    q: str = Query(default="", max_length=200),
) -> Response:
    session = await _session(request, services)
    if not isinstance(session, Session):
        return session
    workflow = content_workflow(services)
    filters = {"status": status, "stale": stale, "lang": lang, "q": q}
    listed = await run_in_threadpool(
        filtered_documents, workflow, status or None, stale, lang or None, q
    )
    everything = await run_in_threadpool(workflow.documents)
    queue = await run_in_threadpool(workflow.review_queue)
    now = datetime.now(UTC)
    context = {
        "documents": listed,
        "review_queue": [_queued(r, now) for r in queue],
        "languages": sorted({d.lang for d in everything}),
        "statuses": STATUSES,
        "filters": filters,
        "max_age_days": services.settings.content_review_max_age_days,
    }
    return _page(request, session, "content_list.html", context)


@router.get("/new", response_class=HTMLResponse)
async def new_page(request: Request, services: ServicesDep) -> Response:
    session = await _session(request, services)
    if not isinstance(session, Session):
        return session
    context = _editor_context(doc_id="", lang="", new=True)
    return _page(request, session, "content_editor.html", context)


@router.get("/upload", response_class=HTMLResponse)
async def upload_page(request: Request, services: ServicesDep) -> Response:
    session = await _session(request, services)
    if not isinstance(session, Session):
        return session
    context = {
        "topic_choices": TOPIC_CHOICES,
        "max_upload_mib": f"{services.settings.max_upload_bytes / (1 << 20):.3g}",
    }
    return _page(request, session, "content_upload.html", context)


@router.get("/{doc_id}/{lang}", response_class=HTMLResponse)
async def editor_page(
    request: Request,
    doc_id: str,
    lang: str,
    services: ServicesDep,
    revision: int | None = None,
) -> Response:
    """The document's editor on one revision (the latest unless ``revision`` is given)."""
    session = await _session(request, services)
    if not isinstance(session, Session):
        return session
    workflow = content_workflow(services)
    try:
        context = await run_in_threadpool(_document_context, workflow, doc_id, lang, revision)
    except (ContentError, DocumentNotFoundError) as exc:
        return _missing(request, session, exc)
    return _page(request, session, "content_editor.html", context)


@router.get("/{doc_id}/{lang}/diff", response_class=HTMLResponse)
async def diff_page(
    request: Request,
    doc_id: str,
    lang: str,
    services: ServicesDep,
    old: int = Query(),
    new: int = Query(),
) -> Response:
    """Two revisions side by side."""
    session = await _session(request, services)
    if not isinstance(session, Session):
        return session
    workflow = content_workflow(services)
    try:
        old_rev = await run_in_threadpool(workflow.revision, old)
        new_rev = await run_in_threadpool(workflow.revision, new)
        if {(old_rev.doc_id, old_rev.lang), (new_rev.doc_id, new_rev.lang)} != {(doc_id, lang)}:
            raise DocumentNotFoundError("These revisions are not both of this document.")
        rows = await run_in_threadpool(workflow.diff, old, new)
    except (ContentError, DocumentNotFoundError) as exc:
        return _missing(request, session, exc)
    context = {
        "doc_id": doc_id,
        "lang": lang,
        "old": old_rev,
        "new": new_rev,
        "rows": rows,
        "changed": any(r.kind != "same" for r in rows),
    }
    return _page(request, session, "content_diff.html", context)


# -- helpers ------------------------------------------------------------------------------


async def _session(request: Request, services: Services) -> Session | Response:
    """The content editor's session; else the sign-in page, or 403 for other roles."""
    session = await run_in_threadpool(read_session, request, services.sessions, services.users)
    if session is None:
        return RedirectResponse("/console/login", status_code=303)
    if session.user.role not in CONTENT_ROLES:
        message = (
            "The content console is for content editors and administrators; "
            f"your role is {session.user.role.replace('_', ' ')}."
        )
        context = {"heading": "No access to the content console", "message": message}
        return _page(request, session, "message.html", context, status_code=403)
    return session


def _page(
    request: Request,
    session: Session,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    full = {"user": session.user, "csrf_token": session.csrf_token, **context}
    return TEMPLATES.TemplateResponse(
        request, template, full, status_code=status_code, headers={"Cache-Control": "no-store"}
    )


def _missing(request: Request, session: Session, exc: Exception) -> Response:
    message = getattr(exc, "user_message", "Not found.")
    context = {"heading": "Not found", "message": message}
    return _page(request, session, "message.html", context, status_code=404)


def _editor_context(
    *, doc_id: str, lang: str, new: bool, markdown: str = "", **extra: Any
) -> dict[str, Any]:
    fields, body = split_markdown(markdown) if markdown else ({}, "")
    return {
        "doc_id": doc_id,
        "lang": lang,
        "new": new,
        "fields": fields,
        "body": body,
        "preview_html": render_preview(body),
        "topic_choices": TOPIC_CHOICES,
        "summary": None,
        "rev": None,
        "history": [],
        "problems": [],
        "latest_id": None,
        **extra,
    }


def _document_context(
    workflow: ContentWorkflow, doc_id: str, lang: str, revision_id: int | None
) -> dict[str, Any]:
    summary = workflow.document(doc_id, lang)
    history = workflow.history(doc_id, lang)
    shown = history[0]
    if revision_id is not None:
        shown = next((r for r in history if r.id == revision_id), None)
        if shown is None:
            raise DocumentNotFoundError(f"No revision {revision_id} of {doc_id} ({lang}).")
    return _editor_context(
        doc_id=doc_id,
        lang=lang,
        new=False,
        markdown=shown.markdown,
        summary=summary,
        rev=shown,
        history=history,
        problems=workflow.problems(shown.id),
        latest_id=history[0].id,
    )


def _queued(r: Any, now: datetime) -> dict[str, Any]:
    created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC)
    minutes = max(0, int((now - created).total_seconds() // 60))
    waiting = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
    if minutes >= 48 * 60:
        waiting = f"{minutes // 1440} days"
    return {
        "id": r.id,
        "doc_id": r.doc_id,
        "lang": r.lang,
        "title": r.title,
        "number": r.number,
        "author": r.author,
        "reason": r.reason,
        "waiting": waiting,
    }

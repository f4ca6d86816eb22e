"""The knowledge-gaps report in the console: the page, its JSON, and drafts started from a
group of questions or from an officer's reply.

Content editors and administrators see the report and start drafts from it; an officer
(or an administrator) proposes one of their own replies as guidance from the queue's
conversation view. Every draft lands in the content workflow and in the audit log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.analytics import check_dates
from bot.gap_clusters import GapGroup
from bot.gap_report import DocumentIdTaken, GapDrafts, GapReport, StartedDraft
from bot.gaps import GAP_REASONS, GapFilters, GapGroupNotFound, OfficerReply, OfficerReplyNotFound
from channels.auth import CONTENT_ROLES, read_session
from channels.console import TEMPLATES
from channels.console_deps import ActingEditor, ActingOfficer, ContentEditor
from channels.errors import Forbidden, HttpError, NotReady
from channels.services import Services, ServicesDep
from knowledge.model import DOC_ID_PATTERN, LANG_PATTERN

router = APIRouter(include_in_schema=False)
REVIEW_NOTICE = "Saved as a draft: a content editor will review it before citizens see it."
_REASON_PATTERN = "^(" + "|".join(GAP_REASONS) + ")$"


class GapNotFound(HttpError):
    status_code = 404


class IdTaken(HttpError):
    status_code = 409


class DraftFilters(BaseModel):
    """The report's filters as the page had them, so that the group is found again."""

    since: date | None = None
    until: date | None = None
    language: str | None = Field(default=None, pattern=LANG_PATTERN)
    reason: str | None = Field(default=None, pattern=_REASON_PATTERN)
    doc_id: str | None = Field(default=None, pattern=DOC_ID_PATTERN, max_length=80)


# -- page --------------------------------------------------------------------------------


@router.get("/console/gaps", response_class=HTMLResponse)
async def gaps_page(request: Request, services: ServicesDep) -> Response:
    session = await run_in_threadpool(read_session, request, services.sessions, services.users)
    if session is None:
        return RedirectResponse("/console/login", status_code=303)
    context: dict[str, Any] = {"user": session.user, "csrf_token": session.csrf_token}
    if session.user.role not in CONTENT_ROLES:
        context["heading"] = "No access to the knowledge-gaps report"
        context["message"] = (
            "The knowledge-gaps report is for content editors and administrators; "
            f"your role is {session.user.role.replace('_', ' ')}."
        )
        return TEMPLATES.TemplateResponse(request, "message.html", context, status_code=403)
    context["reasons"] = GAP_REASONS
    return TEMPLATES.TemplateResponse(
        request, "gaps.html", context, headers={"Cache-Control": "no-store"}
    )


# -- JSON --------------------------------------------------------------------------------


@router.get("/console/api/gaps")
async def gap_groups(
    session: ContentEditor,
    services: ServicesDep,
    since: date | None = None,
    until: date | None = None,
    language: str | None = Query(default=None, pattern=LANG_PATTERN),
    reason: str | None = Query(default=None, pattern=_REASON_PATTERN),
) -> dict[str, Any]:
    """The groups of unanswered questions, largest first (texts redacted)."""
    filters = _filters(since, until, language, reason)
    groups = await run_in_threadpool(_report(services).groups, filters)
    return {
        "groups": [group_json(g) for g in groups],
        "questions": sum(g.count for g in groups),
        "reasons": list(GAP_REASONS),
    }


@router.get("/console/api/gaps/replies")
async def officer_replies(session: ContentEditor, services: ServicesDep) -> dict[str, Any]:
    """Recent officer replies, each a possible starting point for guidance."""
    replies = await run_in_threadpool(_report(services).recent_replies)
    return {"replies": [reply_json(r) for r in replies]}


@router.post("/console/api/gaps/{group_id}/draft")
async def draft_from_group(
    group_id: str, body: DraftFilters, session: ActingEditor, services: ServicesDep
) -> dict[str, Any]:
    """A new draft document for the group; the response gives the editor's URL."""
    filters = _filters(body.since, body.until, body.language, body.reason)
    drafts = _drafts(services)
    try:
        started = await run_in_threadpool(
            drafts.from_group, session.user.username, group_id, filters, body.doc_id
        )
    except GapGroupNotFound as exc:
        raise GapNotFound(exc.user_message) from exc
    except DocumentIdTaken as exc:
        raise IdTaken(exc.user_message) from exc
    return started_json(started)


@router.post("/console/api/gaps/replies/{message_id}/draft")
async def editor_draft_from_reply(
    message_id: int, session: ActingEditor, services: ServicesDep
) -> dict[str, Any]:
    """An editor turns an officer's reply (listed on the gaps page) into a draft. The reply
    is found by its message id: editors never see conversation ids (a citizen's bearer
    credential)."""
    reply = await _officer_reply(services, message_id)
    started = await run_in_threadpool(
        _drafts(services).from_officer_reply, session.user.username, reply
    )
    return started_json(started)


@router.post("/console/api/conversations/{conversation_id}/messages/{message_id}/draft")
async def officer_draft_from_reply(
    conversation_id: str, message_id: int, session: ActingOfficer, services: ServicesDep
) -> dict[str, Any]:
    """An officer proposes their own reply as guidance ("Propose as guidance")."""
    reply = await _officer_reply(services, message_id, conversation_id)
    me = session.user.username
    if session.user.role != "admin" and reply.officer != me:
        raise Forbidden("You can propose guidance only from your own replies.")
    started = await run_in_threadpool(_drafts(services).from_officer_reply, me, reply)
    return started_json(started)


# -- helpers -----------------------------------------------------------------------------


def _filters(
    since: date | None, until: date | None, language: str | None, reason: str | None
) -> GapFilters:
    """Dates are whole UTC days; ``until`` includes its day. Dates outside
    2000-01-01..tomorrow or more than three years apart are a 422."""
    check_dates(since, until)
    return GapFilters(
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
        language=language or None,
        reason=reason or None,
    )


def _report(services: Services) -> GapReport:
    if services.gaps is None:
        raise NotReady("The knowledge-gaps report is not available in this server.")
    return services.gaps


def _drafts(services: Services) -> GapDrafts:
    if services.content is None:
        raise NotReady("The content workflow is not available in this server.")
    return GapDrafts(_report(services), services.content, services.audit)


async def _officer_reply(
    services: Services, message_id: int, conversation_id: str | None = None
) -> OfficerReply:
    try:
        return await run_in_threadpool(
            _report(services).officer_replies.get, message_id, conversation_id
        )
    except OfficerReplyNotFound as exc:
        raise GapNotFound(exc.user_message) from exc


def _when(value: datetime) -> str:
    return value.isoformat()


def group_json(group: GapGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "language": group.language,
        "count": group.count,
        "representative": group.representative,
        "reasons": group.reasons,
        "first_seen": _when(group.first_seen),
        "last_seen": _when(group.last_seen),
        "examples": [
            {
                "message_id": e.message_id,
                "text": e.text,
                "asked_at": _when(e.asked_at),
                "reasons": list(e.reasons),
            }
            for e in group.examples
        ],
        "documents": [
            {"doc_id": d.doc_id, "lang": d.lang, "title": d.title, "questions": d.questions}
            for d in group.documents
        ],
    }


def reply_json(reply: OfficerReply) -> dict[str, Any]:
    return {
        "message_id": reply.message_id,
        "officer": reply.officer,
        "language": reply.language,
        "question": reply.question,
        "reply": reply.reply,
        "created_at": _when(reply.created_at),
        "cited": (
            {"doc_id": reply.cited.doc_id, "lang": reply.cited.lang, "title": reply.cited.title}
            if reply.cited
            else None
        ),
    }


def started_json(started: StartedDraft) -> dict[str, Any]:
    r = started.revision
    return {
        "doc_id": r.doc_id,
        "lang": r.lang,
        "revision": r.number,
        "revision_id": r.id,
        "state": r.state,
        "origin": r.origin,
        "url": started.url,
        "notice": REVIEW_NOTICE,
    }

"""The console's JSON API: queue, conversation view, claim, reply, notes, resolve, release,
and erasure (administrators only).

Every action is written to the audit log; a reply is stored as an officer message before
it is acknowledged, then delivered on the citizen's channel.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from bot.engine import MAX_MESSAGE_CHARS
from bot.feedback import ConversationRating
from bot.officer_store import QueueItem
from bot.store import ConversationRecord
from channels.api import message_json
from channels.console_deps import ActingAdmin, ActingOfficer, QueueOfficer
from channels.errors import ClaimConflict, NotClaimedByYou
from channels.events import QUEUE_TOPIC, conversation_topic
from channels.services import Services, ServicesDep
from channels.sse import bus_stream, sse_response
from consular.errors import ConsularError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console/api", tags=["console"])


class TextBody(BaseModel):
    text: str = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the text is empty")
        return value


class ResolveBody(BaseModel):
    resolution: str | None = Field(default=None, max_length=2000)


@router.get("/queue")
async def queue(session: QueueOfficer, services: ServicesDep) -> dict[str, Any]:
    """Waiting conversations: urgent first, then the longest wait."""
    items = await run_in_threadpool(services.officers.queue)
    now = datetime.now(UTC)
    return {"me": session.user.username, "items": [_queue_json(item, now) for item in items]}


@router.get("/events")
async def queue_events(session: QueueOfficer, services: ServicesDep):
    """SSE: a ``queue`` event whenever the queue changes."""
    return sse_response(bus_stream(services, QUEUE_TOPIC))


@router.get("/conversations/{conversation_id}")
async def conversation(
    conversation_id: str, session: QueueOfficer, services: ServicesDep
) -> dict[str, Any]:
    """The full history with what the assistant used, notes, mission entry and audit trail."""
    return await run_in_threadpool(_conversation_view, services, conversation_id)


@router.post("/conversations/{conversation_id}/claim")
async def claim(conversation_id: str, session: ActingOfficer, services: ServicesDep) -> dict:
    officer = session.user.username
    won = await run_in_threadpool(services.assistant.store.claim, conversation_id, officer)
    if not won:
        current = services.assistant.store.get_conversation(conversation_id)
        raise ClaimConflict(
            f"{current.claimed_by} has already claimed this conversation; it stays with them."
        )
    await run_in_threadpool(services.audit.record, officer, "claim", conversation_id)
    await _announce(services, conversation_id, "claimed")
    return {"conversation_id": conversation_id, "claimed_by": officer}


@router.post("/conversations/{conversation_id}/reply")
async def reply(
    conversation_id: str, body: TextBody, session: ActingOfficer, services: ServicesDep
) -> dict:
    """Stored first (the citizen's history never misses it), then delivered."""
    officer = session.user.username
    record = await _own(services, conversation_id, officer)
    store = services.assistant.store
    message = await run_in_threadpool(
        store.add_message, conversation_id, "officer", body.text, language=record.language
    )
    await run_in_threadpool(
        services.audit.record, officer, "reply", conversation_id, f"message {message.id}"
    )
    delivered, problem = True, None
    try:
        await services.deliveries.deliver(record, body.text)
    except ConsularError as exc:
        delivered, problem = False, exc.user_message
        log.warning("reply %s in %s not delivered: %s", message.id, conversation_id, problem)
    except Exception:
        delivered, problem = False, "The reply is saved but could not be delivered now."
        log.exception("reply %s in %s not delivered", message.id, conversation_id)
    await services.bus.publish(QUEUE_TOPIC, {"type": "queue"})
    return {"message": message_json(message), "delivered": delivered, "problem": problem}


@router.post("/conversations/{conversation_id}/notes")
async def add_note(
    conversation_id: str, body: TextBody, session: ActingOfficer, services: ServicesDep
) -> dict:
    """An internal note: officers only, never shown to the citizen."""
    officer = session.user.username
    note = await run_in_threadpool(services.officers.add_note, conversation_id, officer, body.text)
    await run_in_threadpool(
        services.audit.record, officer, "note", conversation_id, f"note {note.id}"
    )
    return {"id": note.id, "author": note.author, "text": note.text}


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(
    conversation_id: str, body: ResolveBody, session: ActingOfficer, services: ServicesDep
) -> dict:
    officer = session.user.username
    record = await _own(services, conversation_id, officer)
    await run_in_threadpool(services.officers.resolve, conversation_id, officer, body.resolution)
    await run_in_threadpool(
        services.audit.record, officer, "resolve", conversation_id, body.resolution
    )
    await _announce(services, conversation_id, "resolved")
    # The rating question on the citizen's channel; the resolution stands without it.
    try:
        await services.deliveries.resolved(record)
    except Exception:
        log.warning("rating question for %s not delivered", conversation_id, exc_info=True)
    return {"conversation_id": conversation_id, "resolved_by": officer}


@router.post("/conversations/{conversation_id}/release")
async def release(conversation_id: str, session: ActingOfficer, services: ServicesDep) -> dict:
    """Hand the conversation back to the assistant: unclaimed and out of the queue."""
    officer = session.user.username
    await _own(services, conversation_id, officer)
    store = services.assistant.store
    await run_in_threadpool(store.release, conversation_id, officer)
    await run_in_threadpool(
        store.set_handoff,
        conversation_id,
        "none",
        "handed back to the assistant",
        f"officer:{officer}",
    )
    await run_in_threadpool(services.audit.record, officer, "release", conversation_id)
    await _announce(services, conversation_id, "released")
    return {"conversation_id": conversation_id, "claimed_by": None}


@router.post("/conversations/{conversation_id}/erase")
async def erase(conversation_id: str, session: ActingAdmin, services: ServicesDep) -> dict:
    """Delete the conversation whole at the citizen's request: administrators only."""
    admin = session.user.username
    await run_in_threadpool(services.retention.erase, conversation_id, admin)
    # It may have been waiting in the queue.
    await services.bus.publish(QUEUE_TOPIC, {"type": "queue"})
    return {"conversation_id": conversation_id, "erased_by": admin}


async def _own(services: Services, conversation_id: str, officer: str) -> ConversationRecord:
    """The conversation, when this officer has claimed it; 409 otherwise."""
    record = await run_in_threadpool(services.assistant.store.get_conversation, conversation_id)
    if record.claimed_by == officer:
        return record
    if record.claimed_by:
        raise ClaimConflict(f"{record.claimed_by} has claimed this conversation, not you.")
    raise NotClaimedByYou()


async def _announce(services: Services, conversation_id: str, status: str) -> None:
    await services.bus.publish(
        conversation_topic(conversation_id), {"type": "status", "status": status}
    )
    await services.bus.publish(QUEUE_TOPIC, {"type": "queue"})


def _queue_json(item: QueueItem, now: datetime) -> dict[str, Any]:
    c = item.conversation
    return {
        "conversation_id": c.id,
        "status": c.handoff_status,
        "reason": c.handoff_reason,
        "language": c.language,
        "channel": c.channel,
        "topic": c.topic_doc_id,
        "mission": c.mission_id,
        "claimed_by": c.claimed_by,
        "waiting_since": item.waiting_since.isoformat(),
        "waiting_seconds": max(0, int((now - item.waiting_since).total_seconds())),
    }


def _conversation_view(services: Services, conversation_id: str) -> dict[str, Any]:
    assistant = services.assistant
    c = assistant.store.get_conversation(conversation_id)
    mission = assistant.knowledge.missions.get(c.mission_id or "")
    resolved_at, resolved_by, resolution = services.officers.resolution(conversation_id)
    messages = []
    for message in assistant.store.messages(conversation_id):
        data = message_json(message)
        if message.role == "assistant" and isinstance(message.trace, dict):
            data["retrieved"] = [
                {k: hit.get(k) for k in ("doc_id", "lang", "title", "confidence")}
                for hit in message.trace.get("results", [])[:3]
            ]
        messages.append(data)
    return {
        "conversation": {
            "id": c.id,
            "channel": c.channel,
            "language": c.language,
            "status": c.handoff_status,
            "reason": c.handoff_reason,
            "topic": c.topic_doc_id,
            "claimed_by": c.claimed_by,
            "created_at": c.created_at.isoformat(),
            "resolved_at": resolved_at.isoformat() if resolved_at else None,
            "resolved_by": resolved_by,
            "resolution": resolution,
        },
        "messages": messages,
        "notes": [
            {"author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
            for n in services.officers.notes(conversation_id)
        ],
        "mission": mission.model_dump(mode="json") if mission else None,
        **_rating_json(services.feedback.conversation_rating(conversation_id)),
        "audit": [
            {"actor": a.actor, "action": a.action, "created_at": a.created_at.isoformat()}
            for a in services.audit.entries(conversation_id, limit=50)
        ],
    }


def _rating_json(rating: ConversationRating | None) -> dict[str, Any]:
    """The citizen's 1-5 and comment (redacted when stored), for the conversation view."""
    return {
        "rating": rating.score if rating else None,
        "rating_comment": rating.comment if rating else None,
    }

"""The chat API of ../shared/spec/chat-api.md, plus streaming, live events and ratings."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from bot.engine import EngineResult, InvalidMessageError, validate_message
from bot.feedback import MAX_COMMENT_CHARS
from bot.officer_store import QUEUE_STATUSES
from bot.store import MessageRecord
from channels.errors import NotReady, RateLimited
from channels.events import QUEUE_TOPIC, RedisEventBus, conversation_topic
from channels.services import Services, ServicesDep
from channels.sse import bus_stream, frame, sse_response

router = APIRouter(prefix="/api/v1", tags=["chat"])
# Pieces of the reply on the stream: the page shows text as it arrives.
_STREAM_PIECE = re.compile(r"\S+\s*|\s+")


class ChatRequest(BaseModel):
    message: str = Field(description="1 to 4,000 characters after trimming.")
    conversation_id: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$", description="ISO 639-1.")

    @field_validator("message")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        # The engine's own rule, checked here so that a bad message is a 422 like the rest.
        try:
            return validate_message(value)
        except InvalidMessageError as error:
            raise ValueError(error.user_message) from error


class RatingRequest(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    comment: str | None = Field(
        default=None,
        max_length=MAX_COMMENT_CHARS,
        description="Optional; personal data in it is redacted before it is stored.",
    )


class FeedbackRequest(BaseModel):
    helpful: bool = Field(description="true: the answer helped; false: it did not.")


@router.get("/health")
async def health(request: Request) -> dict[str, str]:
    """200 once the app can answer; 503 with the reason otherwise."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise NotReady("The assistant is still starting (loading the index).")
    try:
        await run_in_threadpool(_ping_database, services)
    except Exception as exc:
        raise NotReady("The conversation database cannot be reached.") from exc
    if isinstance(services.bus, RedisEventBus):
        try:
            await services.bus.ping()
        except Exception as exc:
            raise NotReady("Redis (live events) cannot be reached.") from exc
    return {"status": "ok"}


def _ping_database(services: Services) -> None:
    with services.assistant.store.sessions() as session:
        session.execute(text("SELECT 1"))


@router.post("/chat")
async def chat(body: ChatRequest, request: Request, services: ServicesDep) -> dict[str, Any]:
    """Answer one message (see the contract); an unknown conversation_id is a 404."""
    result = await _handle(body, request, services, channel="api")
    return result.to_api()


@router.post("/chat/stream", summary="Chat, with the reply streamed as Server-Sent Events")
async def chat_stream(body: ChatRequest, request: Request, services: ServicesDep):
    """Events: ``start``, then ``delta`` pieces of the reply text, then ``done`` with the
    same JSON as ``POST /chat``. Errors before the stream starts are plain JSON errors."""
    _limit(request, services, body.conversation_id)
    if body.conversation_id:
        services.assistant.store.get_conversation(body.conversation_id)  # 404 before streaming

    async def events() -> AsyncIterator[str]:
        yield frame("start", {})
        result = await _handle(body, request, services, channel="web", limited=True)
        payload = result.to_api()
        if payload["reply"]:
            for piece in _STREAM_PIECE.findall(payload["reply"]["text"]):
                yield frame("delta", {"text": piece})
                await asyncio.sleep(0)
        yield frame("done", payload)

    return sse_response(events())


@router.get("/conversations/{conversation_id}/messages")
async def messages(conversation_id: str, services: ServicesDep) -> dict[str, Any]:
    """The conversation's messages in order (citations on assistant messages)."""
    store = services.assistant.store
    conversation = await run_in_threadpool(store.get_conversation, conversation_id)
    history = await run_in_threadpool(store.messages, conversation_id)
    votes = await run_in_threadpool(services.feedback.answer_votes, conversation_id)
    return {
        "conversation_id": conversation.id,
        "handoff": {"status": conversation.handoff_status, "reason": conversation.handoff_reason},
        # Whether an officer has it now (the officer's name stays in the console).
        "claimed": conversation.claimed_by is not None,
        "messages": [_with_vote(message_json(m), votes) for m in history],
    }


def _with_vote(data: dict[str, Any], votes: dict[int, bool]) -> dict[str, Any]:
    """An assistant answer carries the citizen's vote on it (None: not voted)."""
    if data["role"] == "assistant":
        data["helpful"] = votes.get(data["id"])
    return data


@router.get("/conversations/{conversation_id}/events", summary="Live events (SSE)")
async def conversation_events(conversation_id: str, services: ServicesDep):
    """``ready``, then ``message`` (an officer's reply, with its text), ``status`` (claimed,
    resolved, handed back) and ``update`` events for this conversation."""
    services.assistant.store.get_conversation(conversation_id)
    return sse_response(bus_stream(services, conversation_topic(conversation_id)))


@router.post("/conversations/{conversation_id}/rating")
async def rate(conversation_id: str, body: RatingRequest, services: ServicesDep) -> dict:
    """The answer to "how satisfied are you?" at the end of a conversation, with an
    optional comment (a later rating without one keeps the earlier comment)."""
    rating = await run_in_threadpool(
        services.feedback.rate_conversation, conversation_id, body.score, body.comment
    )
    return {
        "conversation_id": conversation_id,
        "score": rating.score,
        "has_comment": rating.comment is not None,
    }


@router.post("/conversations/{conversation_id}/messages/{message_id}/feedback")
async def answer_feedback(
    conversation_id: str, message_id: int, body: FeedbackRequest, services: ServicesDep
) -> dict:
    """Helpful / not helpful on one assistant answer; a second vote replaces the first.
    404 when the message is not an assistant answer of this conversation."""
    vote = await run_in_threadpool(
        services.feedback.rate_answer, conversation_id, message_id, body.helpful
    )
    return {
        "conversation_id": conversation_id,
        "message_id": vote.message_id,
        "helpful": vote.helpful,
    }


def message_json(message: MessageRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "language": message.language,
    }
    if message.role == "assistant":
        data["citations"] = message.citations
        data["confidence"] = message.confidence
        data["declined"] = message.declined
    return data


def _limit(request: Request, services: Services, conversation_id: str | None) -> None:
    client = request.client.host if request.client else "unknown"
    by_conversation = services.settings.rate_limit_key == "conversation" and conversation_id
    wait = services.chat_limiter.hit(f"c:{conversation_id}" if by_conversation else f"ip:{client}")
    if wait is not None:
        raise RateLimited(wait)


async def _handle(
    body: ChatRequest, request: Request, services: Services, *, channel: str, limited: bool = False
) -> EngineResult:
    if not limited:
        _limit(request, services, body.conversation_id)
    result = await run_in_threadpool(
        services.assistant.engine.handle,
        body.message,
        body.conversation_id,
        body.language,
        channel=channel,
    )
    await services.bus.publish(conversation_topic(result.conversation_id), {"type": "update"})
    if result.handoff_status in QUEUE_STATUSES:
        await services.bus.publish(QUEUE_TOPIC, {"type": "queue"})
    return result

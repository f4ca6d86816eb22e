"""Conversation persistence for the engine and the channels.

Every write commits before the method returns, so a citizen's message is on disk before
the assistant answers it. Methods return frozen records copied out of the session;
callers never hold live ORM objects.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.models import (
    CHANNELS,
    HANDOFF_STATUSES,
    ROLES,
    Conversation,
    HandoffEvent,
    Message,
    SafetyEvent,
    new_conversation_id,
    utcnow,
)
from bot.redaction import redact
from consular.errors import ConversationNotFound

logger = logging.getLogger(__name__)

_HANDOFF_RANK = {status: rank for rank, status in enumerate(HANDOFF_STATUSES)}
# Once a person is waiting for an officer, only an officer may lower the status.
_STICKY_STATUSES = frozenset({"requested", "urgent"})
_CITIZEN_SIDE_ACTORS = frozenset({"assistant", "user"})
_SAFETY_DETAIL_MAX = 2000
# Compare-and-set attempts when two writers change the handoff status at once.
_HANDOFF_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    channel: str
    channel_ref: str | None
    language: str | None
    mission_id: str | None
    topic_doc_id: str | None
    handoff_status: str
    handoff_reason: str | None
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    conversation_id: str
    role: str
    text: str
    created_at: datetime
    language: str | None
    citations: list[dict[str, Any]]
    confidence: float | None
    declined: bool
    client_ref: str | None
    trace: Any


@dataclass(frozen=True, slots=True)
class HandoffEventRecord:
    id: int
    conversation_id: str
    from_status: str
    to_status: str
    reason: str | None
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SafetyEventRecord:
    id: int
    conversation_id: str | None
    kind: str
    detail: str
    created_at: datetime


def _conversation_record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        channel=row.channel,
        channel_ref=row.channel_ref,
        language=row.language,
        mission_id=row.mission_id,
        topic_doc_id=row.topic_doc_id,
        handoff_status=row.handoff_status,
        handoff_reason=row.handoff_reason,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _message_record(row: Message) -> MessageRecord:
    # Deep copies: the JSON values must not alias anything a session still tracks.
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        role=row.role,
        text=row.text,
        created_at=row.created_at,
        language=row.language,
        citations=copy.deepcopy(row.citations or []),
        confidence=row.confidence,
        declined=bool(row.declined),
        client_ref=row.client_ref,
        trace=copy.deepcopy(row.trace),
    )


def _handoff_record(row: HandoffEvent) -> HandoffEventRecord:
    return HandoffEventRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        from_status=row.from_status,
        to_status=row.to_status,
        reason=row.reason,
        actor=row.actor,
        created_at=row.created_at,
    )


def _safety_record(row: SafetyEvent) -> SafetyEventRecord:
    return SafetyEventRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        detail=row.detail,
        created_at=row.created_at,
    )


def _check_actor(actor: str) -> None:
    if actor in _CITIZEN_SIDE_ACTORS:
        return
    if actor.startswith("officer:") and len(actor) > len("officer:"):
        return
    raise ValueError(f"unknown actor {actor!r}: expected 'assistant', 'user' or 'officer:<id>'")


def _next_status(current: str, requested: str, actor: str) -> str:
    """The status after ``actor`` asks for ``requested``: citizen-side actors cannot
    lower a requested or urgent handoff (they may still withdraw an offer)."""
    if (
        actor in _CITIZEN_SIDE_ACTORS
        and current in _STICKY_STATUSES
        and _HANDOFF_RANK[requested] < _HANDOFF_RANK[current]
    ):
        return current
    return requested


class ConversationStore:
    """Conversations, messages, handoff and safety events in one SQL database."""

    def __init__(self, sessions: sessionmaker[Session] | Engine) -> None:
        if isinstance(sessions, Engine):
            # expire_on_commit=False: records are built after commit without a reload.
            sessions = sessionmaker(sessions, expire_on_commit=False)
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory, shared by the console's stores on the same database."""
        return self._sessions

    # -- conversations -------------------------------------------------------------------

    def create_conversation(
        self, channel: str, *, language: str | None = None, channel_ref: str | None = None
    ) -> ConversationRecord:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
        now = utcnow()
        row = Conversation(
            id=new_conversation_id(),
            channel=channel,
            channel_ref=channel_ref,
            language=language,
            handoff_status="none",
            created_at=now,
            updated_at=now,
        )
        with self._sessions() as session:
            session.add(row)
            session.flush()
            record = _conversation_record(row)
            session.commit()
        return record

    def get_conversation(self, conversation_id: str) -> ConversationRecord:
        with self._sessions() as session:
            return _conversation_record(self._load(session, conversation_id))

    def find_by_channel_ref(self, channel: str, channel_ref: str) -> ConversationRecord | None:
        """The most recently active conversation of that chat, if any."""
        with self._sessions() as session:
            row = session.scalars(
                select(Conversation)
                .where(Conversation.channel == channel, Conversation.channel_ref == channel_ref)
                .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc())
                .limit(1)
            ).first()
            return _conversation_record(row) if row is not None else None

    def update_context(
        self,
        conversation_id: str,
        *,
        language: str | None = None,
        mission_id: str | None = None,
        topic_doc_id: str | None = None,
    ) -> None:
        """Set the given fields; None means "leave as it is", not "clear"."""
        values = {
            name: value
            for name, value in (
                ("language", language),
                ("mission_id", mission_id),
                ("topic_doc_id", topic_doc_id),
            )
            if value is not None
        }
        with self._sessions() as session:
            row = self._load(session, conversation_id)
            if not values:
                return
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.commit()

    # -- messages ------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        language: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        confidence: float | None = None,
        declined: bool = False,
        client_ref: str | None = None,
        trace: Any = None,
    ) -> MessageRecord:
        """Store and commit one message; a repeated ``client_ref`` returns the first one."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
        with self._sessions() as session:
            conversation = self._load(session, conversation_id)
            if client_ref is not None:
                existing = self._find_client_ref(session, conversation_id, client_ref)
                if existing is not None:
                    return existing
            now = utcnow()
            row = Message(
                conversation_id=conversation_id,
                role=role,
                text=text,
                created_at=now,
                language=language,
                citations=copy.deepcopy(citations) if citations else [],
                confidence=confidence,
                declined=declined,
                client_ref=client_ref,
                trace=copy.deepcopy(trace),
            )
            session.add(row)
            conversation.updated_at = now
            try:
                session.flush()
                record = _message_record(row)
                session.commit()
                return record
            except IntegrityError:
                # Another request with this client_ref won the race between our check
                # and our insert; the unique constraint stopped the duplicate.
                session.rollback()
                if client_ref is None:
                    raise
        with self._sessions() as session:
            existing = self._find_client_ref(session, conversation_id, client_ref)
            if existing is None:
                raise RuntimeError("client_ref conflict without a stored message")
            return existing

    def messages(self, conversation_id: str) -> list[MessageRecord]:
        """All messages of the conversation, oldest first."""
        with self._sessions() as session:
            self._load(session, conversation_id)
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            )
            return [_message_record(row) for row in rows]

    # -- handoff -------------------------------------------------------------------------

    def set_handoff(
        self, conversation_id: str, status: str, reason: str | None, actor: str
    ) -> ConversationRecord:
        """Move the handoff status; returns the conversation as it now stands.

        "assistant" and "user" never lower a "requested" or "urgent" handoff (the call is
        then a no-op); "officer:<id>" may set any status. An event is recorded only when
        the status changes.
        """
        if status not in _HANDOFF_RANK:
            raise ValueError(f"unknown handoff status {status!r}; expected {HANDOFF_STATUSES}")
        _check_actor(actor)
        for _ in range(_HANDOFF_ATTEMPTS):
            with self._sessions() as session:
                row = self._load(session, conversation_id)
                current = row.handoff_status
                target = _next_status(current, status, actor)
                if target == current:
                    return _conversation_record(row)
                now = utcnow()
                # Compare-and-set: if someone else changed the status since we read it,
                # no row matches and we decide again on the fresh value.
                result = session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .where(Conversation.handoff_status == current)
                    .values(handoff_status=target, handoff_reason=reason, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:
                    session.rollback()
                    continue
                session.add(
                    HandoffEvent(
                        conversation_id=conversation_id,
                        from_status=current,
                        to_status=target,
                        reason=reason,
                        actor=actor,
                        created_at=now,
                    )
                )
                session.commit()
                session.refresh(row)
                return _conversation_record(row)
        raise RuntimeError(f"handoff status of {conversation_id} kept changing; not updated")

    def claim(self, conversation_id: str, officer_id: str) -> bool:
        """Give the conversation to one officer; False when another officer already has it.

        One conditional UPDATE, so when two officers click at once exactly one wins.
        """
        with self._sessions() as session:
            self._load(session, conversation_id)
            result = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .where(Conversation.claimed_by.is_(None))
                .values(claimed_by=officer_id, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            session.commit()
            if result.rowcount == 1:
                return True
            return self._load(session, conversation_id).claimed_by == officer_id

    def release(self, conversation_id: str, officer_id: str) -> None:
        """Hand the conversation back to the assistant (only its officer can)."""
        with self._sessions() as session:
            self._load(session, conversation_id)
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .where(Conversation.claimed_by == officer_id)
                .values(claimed_by=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def handoff_events(self, conversation_id: str) -> list[HandoffEventRecord]:
        """The conversation's handoff transitions, oldest first."""
        with self._sessions() as session:
            self._load(session, conversation_id)
            rows = session.scalars(
                select(HandoffEvent)
                .where(HandoffEvent.conversation_id == conversation_id)
                .order_by(HandoffEvent.id)
            )
            return [_handoff_record(row) for row in rows]

    # -- safety --------------------------------------------------------------------------

    def log_safety_event(self, conversation_id: str | None, kind: str, detail: str) -> None:
        """Record a manipulation attempt; ``detail`` is redacted and shortened first."""
        # Redact before cutting, so that a cut never leaves half a phone number behind.
        detail = redact(detail)[:_SAFETY_DETAIL_MAX]
        with self._sessions() as session:
            if conversation_id is not None:
                self._load(session, conversation_id)
            session.add(
                SafetyEvent(
                    conversation_id=conversation_id, kind=kind, detail=detail, created_at=utcnow()
                )
            )
            session.commit()
        logger.info("safety event %s in %s", kind, conversation_id or "-")

    def safety_events(
        self, conversation_id: str | None = None, *, limit: int = 100
    ) -> list[SafetyEventRecord]:
        """The newest safety events, of one conversation or of all, newest first."""
        with self._sessions() as session:
            query = select(SafetyEvent).order_by(SafetyEvent.id.desc()).limit(limit)
            if conversation_id is not None:
                query = query.where(SafetyEvent.conversation_id == conversation_id)
            return [_safety_record(row) for row in session.scalars(query)]

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _load(session: Session, conversation_id: str) -> Conversation:
        row = session.get(Conversation, conversation_id)
        if row is None:
            raise ConversationNotFound(conversation_id=conversation_id)
        return row

    @staticmethod
    def _find_client_ref(
        session: Session, conversation_id: str, client_ref: str
    ) -> MessageRecord | None:
        row = session.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.client_ref == client_ref
            )
        ).first()
        return _message_record(row) if row is not None else None

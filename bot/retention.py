"""Retention: old conversations are anonymised or deleted, and one can be erased on request.

Anonymising keeps what the analytics count (the conversation row, its handoff events, the
assistant's citations and confidence, ratings and answer votes) and removes what a person
wrote: citizen and officer texts, the chat reference, the resolution text, officer notes,
rating comments and retrieval traces (they quote the question). Each conversation's change commits together with its audit entry,
in batches, so a large table never sits in one long transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.audit import AuditLog
from bot.models import (
    AnswerRating,
    AuditEntry,
    Conversation,
    HandoffEvent,
    Message,
    OfficerNote,
    Rating,
    SafetyEvent,
    TelegramChat,
    utcnow,
)
from bot.redaction import redact
from consular.errors import ConversationNotFound
from consular.settings import Settings

REMOVED = "[removed]"
RETENTION_ACTOR = "retention"
# Roles whose texts are a person's own words; the assistant's come from the knowledge base.
_PERSONAL_ROLES = ("user", "officer")
DEFAULT_BATCH_SIZE = 200

RetentionAction = Literal["delete", "anonymise"]


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What a run did (or, in a dry run, would do)."""

    action: RetentionAction
    cutoff: datetime
    dry_run: bool
    conversations: int
    messages: int
    notes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "conversations": self.conversations,
            "messages": self.messages,
            "notes": self.notes,
        }


class Retention:
    """The retention job and erasure on request, on the conversation database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        audit: AuditLog,
        *,
        days: int,
        action: RetentionAction,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if days < 1 or batch_size < 1:
            raise ValueError("retention days and batch size must be at least 1")
        if action not in ("delete", "anonymise"):
            raise ValueError(f"unknown retention action {action!r}")
        self._sessions = sessions
        self._audit = audit
        self.days = days
        self.action: RetentionAction = action
        self._batch_size = batch_size

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: sessionmaker[Session], audit: AuditLog
    ) -> Retention:
        return cls(sessions, audit, days=settings.retention_days, action=settings.retention_action)

    def run(self, now: datetime | None = None, *, dry_run: bool = False) -> RetentionReport:
        """Anonymise or delete every conversation without activity since the cutoff."""
        cutoff = (now or utcnow()) - timedelta(days=self.days)
        if dry_run:
            return self._preview(cutoff)
        # Never before the cutoff: a conversation just anonymised is then not due again in
        # this run, even when its last activity is stamped later than our clock.
        stamp = max(utcnow(), cutoff)
        conversations = messages = notes = 0
        while True:
            with self._sessions() as session:
                ids = list(
                    session.scalars(
                        self._due(cutoff)
                        .order_by(Conversation.updated_at, Conversation.id)
                        .limit(self._batch_size)
                    )
                )
                if not ids:
                    break
                for conversation_id in ids:
                    if self.action == "delete":
                        m, n = _delete(session, conversation_id)
                        # The row is gone, so the id goes in the text, not the foreign key.
                        self._audit.add(
                            session,
                            RETENTION_ACTOR,
                            "retention_delete",
                            None,
                            f"deleted {conversation_id}: {m} messages, {n} notes",
                        )
                    else:
                        m, n = _anonymise(session, conversation_id, stamp)
                        self._audit.add(
                            session,
                            RETENTION_ACTOR,
                            "retention_anonymise",
                            conversation_id,
                            f"anonymised {conversation_id}: {m} messages, {n} notes",
                        )
                    messages, notes = messages + m, notes + n
                session.commit()
            conversations += len(ids)
        return RetentionReport(self.action, cutoff, False, conversations, messages, notes)

    def erase(self, conversation_id: str, actor: str) -> None:
        """Delete one conversation whole, at the citizen's request; audited under ``actor``."""
        with self._sessions() as session:
            if session.get(Conversation, conversation_id) is None:
                raise ConversationNotFound(conversation_id=conversation_id)
            m, n = _delete(session, conversation_id)
            self._audit.add(
                session, actor, "erase", None, f"erased {conversation_id}: {m} messages, {n} notes"
            )
            session.commit()

    def _due(self, cutoff: datetime) -> Select[tuple[str]]:
        query = select(Conversation.id).where(Conversation.updated_at < cutoff)
        if self.action == "anonymise":
            # Anonymised ones are left alone, unless the citizen wrote again afterwards.
            query = query.where(
                or_(
                    Conversation.anonymised_at.is_(None),
                    Conversation.anonymised_at < Conversation.updated_at,
                )
            )
        return query

    def _preview(self, cutoff: datetime) -> RetentionReport:
        due = self._due(cutoff).subquery()
        message_query = select(func.count()).where(Message.conversation_id.in_(select(due.c.id)))
        if self.action == "anonymise":
            message_query = message_query.where(Message.role.in_(_PERSONAL_ROLES))
        with self._sessions() as session:
            conversations = session.scalar(select(func.count()).select_from(due)) or 0
            messages = session.scalar(message_query) or 0
            notes = (
                session.scalar(
                    select(func.count()).where(OfficerNote.conversation_id.in_(select(due.c.id)))
                )
                or 0
            )
        return RetentionReport(self.action, cutoff, True, conversations, messages, notes)


def _anonymise(session: Session, conversation_id: str, stamp: datetime) -> tuple[int, int]:
    """Remove the personal texts of one conversation; returns (messages, notes) removed."""
    removed = session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id, Message.role.in_(_PERSONAL_ROLES))
        .values(text=REMOVED, trace=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    # The assistant's answers stay for analytics, but a generated one may repeat what
    # the citizen gave (a phone number, an e-mail), so they are redacted.
    answers = session.execute(
        select(Message.id, Message.text).where(
            Message.conversation_id == conversation_id, Message.role == "assistant"
        )
    ).all()
    for message_id, text in answers:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(text=redact(text), trace=None)
            .execution_options(synchronize_session=False)
        )
    notes = _delete_rows(session, OfficerNote, conversation_id)
    # The score stays for the satisfaction figures; the comment is the citizen's words.
    session.execute(
        update(Rating)
        .where(Rating.conversation_id == conversation_id)
        .values(comment=None)
        .execution_options(synchronize_session=False)
    )
    _forget_comment_prompt(session, conversation_id)
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(channel_ref=None, resolution=None, anonymised_at=stamp)
        .execution_options(synchronize_session=False)
    )
    return removed, notes


def _forget_comment_prompt(session: Session, conversation_id: str) -> None:
    """A Telegram chat waiting for a comment on this conversation's rating links the chat
    id to the conversation: the link goes, like ``channel_ref``."""
    session.execute(
        update(TelegramChat)
        .where(TelegramChat.comment_for == conversation_id)
        .values(comment_for=None, comment_asked_at=None)
        .execution_options(synchronize_session=False)
    )


def _delete(session: Session, conversation_id: str) -> tuple[int, int]:
    """Delete one conversation and what hangs on it; returns (messages, notes) deleted."""
    # Explicit rather than left to ON DELETE, so the counts are known and nothing depends
    # on SQLite having foreign keys switched on for this connection. Answer votes first:
    # they point at the messages.
    _delete_rows(session, AnswerRating, conversation_id)
    messages = _delete_rows(session, Message, conversation_id)
    notes = _delete_rows(session, OfficerNote, conversation_id)
    _delete_rows(session, HandoffEvent, conversation_id)
    _delete_rows(session, Rating, conversation_id)
    _forget_comment_prompt(session, conversation_id)
    # Safety events and the audit trail outlive the conversation, detached from it.
    for model in (SafetyEvent, AuditEntry):
        session.execute(
            update(model)
            .where(model.conversation_id == conversation_id)
            .values(conversation_id=None)
            .execution_options(synchronize_session=False)
        )
    session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    return messages, notes


def _delete_rows(
    session: Session,
    model: type[Message]
    | type[OfficerNote]
    | type[HandoffEvent]
    | type[Rating]
    | type[AnswerRating],
    conversation_id: str,
) -> int:
    result = session.execute(
        delete(model)
        .where(model.conversation_id == conversation_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount

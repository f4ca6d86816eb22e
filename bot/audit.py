"""The audit log: one row for every officer action (sign-in, claim, reply, note, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import AuditEntry, utcnow
from bot.redaction import redact

AUDIT_ACTIONS = frozenset(
    {"sign_in", "sign_in_failed", "sign_in_throttled", "sign_out"}
    | {"claim", "reply", "note", "resolve", "release"}
    # Retention: the scheduled job's per-conversation changes, and erasure on request.
    | {"retention_anonymise", "retention_delete", "erase"}
    # Content workflow: every change to a guidance document (knowledge/workflow.py).
    | {"content_draft", "content_import", "content_submit", "content_publish"}
    | {"content_reject", "content_retire", "content_rollback", "content_sync"}
    # Knowledge gaps: a draft started from a group of questions or from an officer's reply.
    | {"gap_draft", "officer_reply_draft"}
    # Analytics: a figure downloaded as CSV (the data leaves the console).
    | {"analytics_export"}
)
_DETAIL_MAX = 500


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    actor: str
    action: str
    conversation_id: str | None
    detail: str | None
    created_at: datetime


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(
        self, actor: str, action: str, conversation_id: str | None = None, detail: str | None = None
    ) -> None:
        """Commit one entry; ``detail`` is redacted and shortened (a reply's text is in
        the conversation itself, the log only says who did what and when)."""
        with self._sessions() as session:
            self.add(session, actor, action, conversation_id, detail)
            session.commit()

    @staticmethod
    def add(
        session: Session,
        actor: str,
        action: str,
        conversation_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Add one entry to ``session`` without committing: the entry then commits (or
        rolls back) together with the change it records."""
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        session.add(
            AuditEntry(
                actor=actor[:64],
                action=action,
                conversation_id=conversation_id,
                detail=redact(detail)[:_DETAIL_MAX] if detail else None,
                created_at=utcnow(),
            )
        )

    def entries(self, conversation_id: str | None = None, *, limit: int = 200) -> list[AuditRecord]:
        """The newest entries, of one conversation or of all, newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if conversation_id is not None:
            query = query.where(AuditEntry.conversation_id == conversation_id)
        with self._sessions() as session:
            return [
                AuditRecord(r.id, r.actor, r.action, r.conversation_id, r.detail, r.created_at)
                for r in session.scalars(query)
            ]

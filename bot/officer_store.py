"""What the officer console reads and writes besides messages: users, the queue, notes,
resolution and the citizens' satisfaction ratings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pwdlib import PasswordHash
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.feedback import FeedbackStore
from bot.models import USER_ROLES, Conversation, HandoffEvent, OfficerNote, Rating, User, utcnow
from bot.store import ConversationRecord, ConversationStore
from consular.errors import ConsularError, ConversationNotFound

# Statuses that put a conversation in the officers' queue, in queue order.
QUEUE_STATUSES = ("urgent", "requested")
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
MIN_PASSWORD_CHARS = 10


class UserExistsError(ConsularError):
    user_message = "An account with this username already exists."


class InvalidAccountError(ConsularError):
    """A username, role or password that cannot make an account."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class QueueItem:
    conversation: ConversationRecord
    waiting_since: datetime


@dataclass(frozen=True, slots=True)
class NoteRecord:
    id: int
    author: str
    text: str
    created_at: datetime


class UserStore:
    """Console accounts; passwords are kept as argon2 hashes only."""

    def __init__(self, sessions: sessionmaker[Session], hasher: PasswordHash | None = None):
        self._sessions = sessions
        self._hasher = hasher or PasswordHash.recommended()

    def add(self, username: str, password: str, role: str) -> UserRecord:
        if not re.match(USERNAME_PATTERN, username):
            raise InvalidAccountError(
                "A username is 2 to 64 lower-case letters, digits, '.', '_' or '-'."
            )
        if role not in USER_ROLES:
            raise InvalidAccountError(f"Unknown role {role!r}: use one of {', '.join(USER_ROLES)}.")
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidAccountError(
                f"The password is too short: at least {MIN_PASSWORD_CHARS} characters."
            )
        row = User(
            username=username,
            password_hash=self._hasher.hash(password),
            role=role,
            active=True,
            created_at=utcnow(),
        )
        with self._sessions() as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError as exc:
                raise UserExistsError() from exc
        return UserRecord(username, role, True)

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The user when the password matches an active account, else None."""
        with self._sessions() as session:
            row = session.scalars(select(User).where(User.username == username)).first()
            if row is None:
                # Hash anyway, so that response time does not tell which usernames exist.
                self._hasher.hash(password)
                return None
            if not row.active or not self._hasher.verify(password, row.password_hash):
                return None
            return UserRecord(row.username, row.role, row.active)

    def get(self, username: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalars(select(User).where(User.username == username)).first()
            return UserRecord(row.username, row.role, row.active) if row else None


class OfficerStore:
    """The queue, notes, resolution and ratings, on the conversation database."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations
        self._sessions = conversations.sessions

    def queue(self) -> list[QueueItem]:
        """Conversations waiting for an officer: urgent first, then the longest wait."""
        with self._sessions() as session:
            ids = session.scalars(
                select(Conversation.id).where(Conversation.handoff_status.in_(QUEUE_STATUSES))
            ).all()
            events = session.scalars(
                select(HandoffEvent)
                .where(HandoffEvent.conversation_id.in_(ids))
                .order_by(HandoffEvent.id)
            ).all()
        since: dict[str, datetime] = {}
        for event in events:
            if event.to_status not in QUEUE_STATUSES:
                since.pop(event.conversation_id, None)
            elif event.from_status not in QUEUE_STATUSES:
                since[event.conversation_id] = event.created_at
        items = []
        for conversation_id in ids:
            record = self._conversations.get_conversation(conversation_id)
            items.append(QueueItem(record, since.get(conversation_id, record.updated_at)))
        items.sort(
            key=lambda item: (
                QUEUE_STATUSES.index(item.conversation.handoff_status),
                item.waiting_since,
            )
        )
        return items

    def resolve(self, conversation_id: str, officer: str, resolution: str | None) -> None:
        """Close the officer's part: out of the queue, claim released, outcome kept."""
        actor = f"officer:{officer}"
        self._conversations.set_handoff(conversation_id, "none", "resolved", actor)
        with self._sessions() as session:
            result = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(
                    resolved_at=utcnow(),
                    resolved_by=officer,
                    resolution=resolution,
                    claimed_by=None,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
        if result.rowcount != 1:
            raise ConversationNotFound(conversation_id=conversation_id)

    def resolution(self, conversation_id: str) -> tuple[datetime | None, str | None, str | None]:
        """When, by whom and how the conversation was last resolved."""
        with self._sessions() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                raise ConversationNotFound(conversation_id=conversation_id)
            return row.resolved_at, row.resolved_by, row.resolution

    def add_note(self, conversation_id: str, author: str, text: str) -> NoteRecord:
        self._conversations.get_conversation(conversation_id)
        row = OfficerNote(
            conversation_id=conversation_id, author=author, text=text, created_at=utcnow()
        )
        with self._sessions() as session:
            session.add(row)
            session.flush()
            record = NoteRecord(row.id, row.author, row.text, row.created_at)
            session.commit()
        return record

    def notes(self, conversation_id: str) -> list[NoteRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(OfficerNote)
                .where(OfficerNote.conversation_id == conversation_id)
                .order_by(OfficerNote.id)
            )
            return [NoteRecord(r.id, r.author, r.text, r.created_at) for r in rows]

    def rate(self, conversation_id: str, score: int) -> None:
        """Keep the citizen's 1-5 rating; a second answer replaces the first."""
        if not 1 <= score <= 5:
            raise ValueError("a rating is 1 to 5")
        FeedbackStore(self._sessions).rate_conversation(conversation_id, score)

    def rating(self, conversation_id: str) -> int | None:
        with self._sessions() as session:
            row = session.scalars(
                select(Rating).where(Rating.conversation_id == conversation_id)
            ).first()
            return row.score if row else None

"""Citizens' feedback: helpful / not helpful on one answer, 1-5 (and a comment) on a
conversation. Web and Telegram both write here; the analytics read the same tables.

A second vote on the same answer, or a second rating of the same conversation,
replaces the first: a citizen may change their mind, and a redelivered vote changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.models import AnswerRating, Conversation, Message, Rating, utcnow
from bot.redaction import redact
from consular.errors import ConsularError, ConversationNotFound

MAX_COMMENT_CHARS = 1000
# Unique constraints decide between two writers; one retry sees the winner's row.
_ATTEMPTS = 2


class AnswerNotFound(ConsularError):
    """The message is not an assistant answer of that conversation."""

    user_message = "This answer does not exist in this conversation."


class ConversationAnonymised(ConversationNotFound):
    """The conversation was anonymised by retention: it takes no more feedback (a 404 at
    the API, like a conversation that does not exist)."""

    user_message = (
        "This conversation was anonymised under the retention policy; "
        "it can no longer be rated or commented on."
    )


class InvalidFeedbackError(ConsularError):
    """A score outside 1-5 or a comment that is too long."""


class NoRatingYet(ConsularError):
    """A comment came before any 1-5 score of the conversation."""

    user_message = "Rate the conversation (1 to 5) before adding a comment."


@dataclass(frozen=True, slots=True)
class AnswerVote:
    message_id: int
    conversation_id: str
    helpful: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationRating:
    conversation_id: str
    score: int
    comment: str | None
    created_at: datetime


def clean_comment(comment: str | None) -> str | None:
    """The comment as stored: trimmed, personal data redacted; None when blank."""
    if comment is None:
        return None
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidFeedbackError(f"A comment is at most {MAX_COMMENT_CHARS} characters.")
    return redact(comment) if comment else None


class FeedbackStore:
    """Answer votes and conversation ratings on the conversation database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- answers -------------------------------------------------------------------------

    def rate_answer(self, conversation_id: str, message_id: int, helpful: bool) -> AnswerVote:
        """Keep the citizen's vote on one assistant answer; a second vote replaces it."""
        for attempt in range(_ATTEMPTS):
            with self._sessions() as session:
                _check_answer(session, conversation_id, message_id)
                row = session.scalars(
                    select(AnswerRating).where(AnswerRating.message_id == message_id)
                ).first()
                now = utcnow()
                if row is None:
                    row = AnswerRating(
                        message_id=message_id,
                        conversation_id=conversation_id,
                        helpful=helpful,
                        created_at=now,
                    )
                    session.add(row)
                else:
                    row.helpful, row.created_at = helpful, now
                try:
                    session.commit()
                except IntegrityError:
                    # A concurrent first vote on this answer: update that one instead.
                    session.rollback()
                    if attempt + 1 == _ATTEMPTS:
                        raise
                    continue
                return AnswerVote(message_id, conversation_id, helpful, now)
        raise AssertionError("unreachable")

    def rate_answer_in_chat(
        self, channel: str, channel_ref: str, message_id: int, helpful: bool
    ) -> AnswerVote:
        """A vote from a chat (Telegram), which knows the message but not the conversation:
        the answer must belong to a conversation of that very chat."""
        with self._sessions() as session:
            conversation_id = session.scalar(
                select(Message.conversation_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Message.id == message_id,
                    Message.role == "assistant",
                    Conversation.channel == channel,
                    Conversation.channel_ref == channel_ref,
                )
            )
        if conversation_id is None:
            raise AnswerNotFound()
        return self.rate_answer(conversation_id, message_id, helpful)

    def answer_votes(self, conversation_id: str) -> dict[int, bool]:
        """message id -> helpful, for the answers of one conversation that have a vote."""
        with self._sessions() as session:
            rows = session.execute(
                select(AnswerRating.message_id, AnswerRating.helpful).where(
                    AnswerRating.conversation_id == conversation_id
                )
            ).all()
        return {message_id: bool(helpful) for message_id, helpful in rows}

    # -- conversations -------------------------------------------------------------------

    def rate_conversation(
        self, conversation_id: str, score: int, comment: str | None = None
    ) -> ConversationRating:
        """Keep the 1-5 rating; ``comment`` None leaves an earlier comment as it was."""
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidFeedbackError("A rating is a whole number from 1 to 5.")
        cleaned = clean_comment(comment)
        for attempt in range(_ATTEMPTS):
            with self._sessions() as session:
                _check_conversation(session, conversation_id)
                row = _rating_row(session, conversation_id)
                now = utcnow()
                if row is None:
                    row = Rating(
                        conversation_id=conversation_id,
                        score=score,
                        comment=cleaned,
                        created_at=now,
                    )
                    session.add(row)
                else:
                    row.score, row.created_at = score, now
                    if comment is not None:
                        row.comment = cleaned
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    if attempt + 1 == _ATTEMPTS:
                        raise
                    continue
                return ConversationRating(conversation_id, row.score, row.comment, now)
        raise AssertionError("unreachable")

    def add_comment(self, conversation_id: str, comment: str) -> ConversationRating:
        """Attach a comment to the conversation's rating (Telegram asks for it after the
        score); NoRatingYet when there is no score."""
        cleaned = clean_comment(comment)
        with self._sessions() as session:
            _check_conversation(session, conversation_id)
            row = _rating_row(session, conversation_id)
            if row is None:
                raise NoRatingYet()
            row.comment = cleaned
            session.commit()
            return ConversationRating(conversation_id, row.score, row.comment, row.created_at)

    def conversation_rating(self, conversation_id: str) -> ConversationRating | None:
        with self._sessions() as session:
            row = _rating_row(session, conversation_id)
            if row is None:
                return None
            return ConversationRating(conversation_id, row.score, row.comment, row.created_at)


def _check_conversation(session: Session, conversation_id: str) -> None:
    """ConversationNotFound, or ConversationAnonymised once retention anonymised it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id=conversation_id)
    if conversation.anonymised_at is not None:
        raise ConversationAnonymised(conversation_id=conversation_id)


def _check_answer(session: Session, conversation_id: str, message_id: int) -> None:
    _check_conversation(session, conversation_id)
    found = session.scalar(
        select(Message.id).where(
            Message.id == message_id,
            Message.conversation_id == conversation_id,
            Message.role == "assistant",
        )
    )
    if found is None:
        raise AnswerNotFound()


def _rating_row(session: Session, conversation_id: str) -> Rating | None:
    return session.scalars(select(Rating).where(Rating.conversation_id == conversation_id)).first()

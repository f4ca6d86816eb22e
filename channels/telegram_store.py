"""What the Telegram channel keeps besides conversations: processed updates, chosen
languages, and whether a chat's next message is a comment on its rating.

Synchronous SQLAlchemy on the conversation database; handlers call it through
``asyncio.to_thread``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.models import TelegramChat, TelegramUpdate, utcnow

# Telegram drops an undelivered update after 24 hours; a week leaves room for outages.
UPDATE_RETENTION = timedelta(days=7)
# A text message is the comment on a rating only this long after the bot asked for it.
COMMENT_WINDOW = timedelta(minutes=10)


class TelegramStore:
    """Update ids taken for processing (each answered once) and each chat's language."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim_update(self, update_id: int) -> bool:
        """Take the update for processing; False when it was taken before (a redelivery)."""
        with self._sessions() as session:
            session.add(TelegramUpdate(update_id=update_id, received_at=utcnow()))
            try:
                session.commit()
            except IntegrityError:
                # The primary key decides, so two webhook calls at once cannot both win.
                session.rollback()
                return False
        return True

    def release_update(self, update_id: int) -> None:
        """Forget a claim whose processing failed, so that a redelivery is processed."""
        with self._sessions() as session:
            session.execute(delete(TelegramUpdate).where(TelegramUpdate.update_id == update_id))
            session.commit()

    def is_claimed(self, update_id: int) -> bool:
        with self._sessions() as session:
            return session.get(TelegramUpdate, update_id) is not None

    def prune_updates(self, older_than: timedelta = UPDATE_RETENTION) -> int:
        """Delete claims older than ``older_than``; returns how many."""
        with self._sessions() as session:
            result = session.execute(
                delete(TelegramUpdate).where(TelegramUpdate.received_at < utcnow() - older_than)
            )
            session.commit()
            return result.rowcount

    def chosen_language(self, chat_id: str) -> str | None:
        with self._sessions() as session:
            return session.scalar(
                select(TelegramChat.language).where(TelegramChat.chat_id == chat_id)
            )

    def choose_language(self, chat_id: str, language: str) -> None:
        self._set(chat_id, language=language)

    def await_comment(self, chat_id: str, conversation_id: str | None) -> None:
        """The chat's next text message (within COMMENT_WINDOW) comments on this
        conversation's rating (None: not)."""
        self._set(
            chat_id,
            comment_for=conversation_id,
            comment_asked_at=utcnow() if conversation_id else None,
        )

    def clear_comment(self, chat_id: str) -> None:
        """No comment is awaited any more (a command, an urgent message): one statement,
        nothing written when none was awaited."""
        with self._sessions() as session:
            session.execute(
                update(TelegramChat)
                .where(TelegramChat.chat_id == chat_id, TelegramChat.comment_for.is_not(None))
                .values(comment_for=None, comment_asked_at=None, updated_at=utcnow())
            )
            session.commit()

    def comment_for(self, chat_id: str, window: timedelta = COMMENT_WINDOW) -> str | None:
        """The conversation whose rating the chat's next text message comments on; None
        when none was asked for or the bot asked more than ``window`` ago."""
        with self._sessions() as session:
            row = session.execute(
                select(TelegramChat.comment_for, TelegramChat.comment_asked_at).where(
                    TelegramChat.chat_id == chat_id
                )
            ).first()
        if row is None or row.comment_for is None:
            return None
        if row.comment_asked_at is None or row.comment_asked_at < utcnow() - window:
            return None
        return row.comment_for

    def _set(self, chat_id: str, **values: object) -> None:
        for _ in range(2):  # a concurrent first write may insert the row between our steps
            with self._sessions() as session:
                row = session.get(TelegramChat, chat_id)
                if row is None:
                    session.add(TelegramChat(chat_id=chat_id, updated_at=utcnow(), **values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.updated_at = utcnow()
                try:
                    session.commit()
                    return
                except IntegrityError:
                    session.rollback()
        raise RuntimeError(f"could not record the state of chat {chat_id}")

"""Domain errors. Each carries a message that is safe to show to a person."""

from __future__ import annotations


class ConsularError(Exception):
    """Base class: ``user_message`` is fit for a citizen, an officer or an editor."""

    user_message = "The request could not be completed."

    def __init__(self, user_message: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(self.user_message)


class IngestionError(ConsularError):
    """A file could not be converted into a guidance document."""


class DocumentNotFoundError(ConsularError):
    """No document with that id (and language) exists."""


class IndexNotBuiltError(ConsularError):
    """Search was asked for before ``consular index`` built the index."""

    user_message = "The search index has not been built yet: run `consular index`."


class EmbeddingModelError(ConsularError):
    """The configured embedding model cannot be loaded."""


class ConversationNotFound(ConsularError):
    """No conversation with that id exists (expired link, typo, or a guessed id)."""

    user_message = "This conversation does not exist."

    def __init__(self, user_message: str | None = None, *, conversation_id: str | None = None):
        super().__init__(user_message)
        # Kept for logs and the officer console; never part of the user message.
        self.conversation_id = conversation_id

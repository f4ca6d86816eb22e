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


class ContentError(ConsularError):
    """A content-workflow action that cannot be done (shown to the editor as it is)."""

    user_message = "The content change could not be made."


class InvalidDocumentError(ContentError):
    """The document text has problems; each one is listed for the editor."""

    user_message = "The document has problems; fix them and try again."

    def __init__(self, problems: list[str], user_message: str | None = None) -> None:
        super().__init__(user_message)
        self.problems = list(problems)


class SelfApprovalError(ContentError):
    """An editor tried to publish their own revision: a second person must approve it."""

    user_message = "You cannot publish your own change: another editor must review it."


class InvalidTransitionError(ContentError):
    """The revision is not in a state that allows this action (or someone acted first)."""

    user_message = "This action is not possible in the revision's current state."


class RevisionNotFoundError(ContentError):
    """No revision with that id exists (or it belongs to another document)."""

    user_message = "This revision does not exist."


class ReasonRequiredError(ContentError):
    """Retire, rollback and reject need a reason, for the history and the audit log."""

    user_message = "Give a reason: it is kept in the history and the audit log."

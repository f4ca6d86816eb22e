"""Persistence of the content workflow: documents, their revisions, and the records out.

The store knows rows and transactions, not business rules (those are in
``knowledge/workflow.py``). Every state change is a conditional UPDATE whose row count
says whether it happened, so two editors acting at once can never both win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.models import ContentDocument, ContentRevision, utcnow
from consular.errors import InvalidTransitionError

T = TypeVar("T")
# Saves racing for the same revision number or the same new document: try again.
_WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class RevisionRecord:
    """One saved version of a document, as callers see it."""

    id: int
    doc_id: str
    lang: str
    number: int
    state: str
    markdown: str
    title: str
    author: str
    reason: str
    created_at: datetime
    reviewer: str | None
    review_note: str | None
    reviewed_at: datetime | None
    origin: str


@dataclass(frozen=True)
class DocumentSummary:
    """One document's standing: what people see in lists."""

    doc_id: str
    lang: str
    title: str
    status: str
    live_number: int | None
    latest_number: int
    latest_state: str
    reviewed: date | None
    stale: bool
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; a side's number is None where it has no line."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


@dataclass
class SyncReport:
    """What ``sync_files`` did, per document key ``<doc_id>/<lang>``."""

    published: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    drafted: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether what citizens are answered from changed."""
        return bool(self.published or self.retired)


@dataclass(frozen=True)
class StoredDocument:
    """A document row with all its revisions, newest first."""

    doc_id: str
    lang: str
    live_revision_id: int | None
    updated_at: datetime
    updated_by: str
    revisions: list[RevisionRecord]

    @property
    def live(self) -> RevisionRecord | None:
        return next((r for r in self.revisions if r.id == self.live_revision_id), None)


def revision_record(row: ContentRevision, document: ContentDocument) -> RevisionRecord:
    return RevisionRecord(
        id=row.id,
        doc_id=document.doc_id,
        lang=document.lang,
        number=row.number,
        state=row.state,
        markdown=row.markdown,
        title=row.title,
        author=row.author,
        reason=row.reason,
        created_at=row.created_at,
        reviewer=row.reviewer,
        review_note=row.review_note,
        reviewed_at=row.reviewed_at,
        origin=row.origin,
    )


class ContentStore:
    """Rows of ``content_documents`` and ``content_revisions``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session; the caller commits (a block left by an exception rolls back)."""
        with self._sessions() as session:
            yield session

    # -- reads ---------------------------------------------------------------------------

    @staticmethod
    def find_document(session: Session, doc_id: str, lang: str) -> ContentDocument | None:
        return session.scalars(
            select(ContentDocument).where(
                ContentDocument.doc_id == doc_id, ContentDocument.lang == lang
            )
        ).first()

    @staticmethod
    def load_revision(
        session: Session, revision_id: int
    ) -> tuple[ContentRevision, ContentDocument] | None:
        row = session.get(ContentRevision, revision_id)
        if row is None:
            return None
        return row, session.get_one(ContentDocument, row.document_id)

    def revision(self, revision_id: int) -> RevisionRecord | None:
        with self._sessions() as session:
            found = self.load_revision(session, revision_id)
            return revision_record(*found) if found else None

    def stored_document(self, doc_id: str, lang: str) -> StoredDocument | None:
        with self._sessions() as session:
            document = self.find_document(session, doc_id, lang)
            if document is None:
                return None
            return self._stored(session, document)

    def stored_documents(self) -> list[StoredDocument]:
        """Every document with its revisions, sorted by id and language."""
        with self._sessions() as session:
            documents = session.scalars(
                select(ContentDocument).order_by(ContentDocument.doc_id, ContentDocument.lang)
            ).all()
            revisions: dict[int, list[ContentRevision]] = {}
            for row in session.scalars(
                select(ContentRevision).order_by(ContentRevision.number.desc())
            ):
                revisions.setdefault(row.document_id, []).append(row)
            return [self._stored(session, d, revisions.get(d.id, [])) for d in documents]

    def live_revisions(self) -> list[RevisionRecord]:
        """The live revision of every document that has one."""
        with self._sessions() as session:
            rows = session.execute(
                select(ContentRevision, ContentDocument)
                .join(ContentDocument, ContentDocument.live_revision_id == ContentRevision.id)
                .order_by(ContentDocument.doc_id, ContentDocument.lang)
            ).all()
            return [revision_record(r, d) for r, d in rows]

    def live_revision_ids(self) -> list[int]:
        """The live revision id of every document, in a stable order (cheap to poll)."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(ContentDocument.live_revision_id)
                    .where(ContentDocument.live_revision_id.is_not(None))
                    .order_by(ContentDocument.live_revision_id)
                )
            )

    def revisions_in_state(self, state: str) -> list[RevisionRecord]:
        """Revisions in ``state``, oldest first."""
        with self._sessions() as session:
            rows = session.execute(
                select(ContentRevision, ContentDocument)
                .join(ContentDocument, ContentDocument.id == ContentRevision.document_id)
                .where(ContentRevision.state == state)
                .order_by(ContentRevision.created_at, ContentRevision.id)
            ).all()
            return [revision_record(r, d) for r, d in rows]

    @staticmethod
    def last_file_hash(session: Session, document: ContentDocument) -> str | None:
        """The hash of the file the document was last imported from, if ever."""
        return session.scalars(
            select(ContentRevision.source_hash)
            .where(
                ContentRevision.document_id == document.id,
                ContentRevision.source_hash.is_not(None),
            )
            .order_by(ContentRevision.number.desc())
            .limit(1)
        ).first()

    # -- writes (inside the caller's transaction) ----------------------------------------

    @staticmethod
    def get_or_create_document(
        session: Session, doc_id: str, lang: str, actor: str
    ) -> ContentDocument:
        """The document row; a new one is flushed (a concurrent twin raises IntegrityError)."""
        document = ContentStore.find_document(session, doc_id, lang)
        if document is None:
            now = utcnow()
            document = ContentDocument(
                doc_id=doc_id, lang=lang, created_at=now, updated_at=now, updated_by=actor
            )
            session.add(document)
            session.flush()
        return document

    @staticmethod
    def add_revision(
        session: Session, document: ContentDocument, **values: object
    ) -> ContentRevision:
        """The next-numbered revision; the unique (document, number) pair refuses a twin."""
        latest = session.scalar(
            select(func.max(ContentRevision.number)).where(
                ContentRevision.document_id == document.id
            )
        )
        row = ContentRevision(
            document_id=document.id, number=(latest or 0) + 1, created_at=utcnow(), **values
        )
        session.add(row)
        session.flush()
        return row

    @staticmethod
    def change_state(
        session: Session, revision_id: int, from_state: str, to_state: str, **values: object
    ) -> bool:
        """Move one revision from ``from_state`` to ``to_state``; False when it was not in
        ``from_state`` any more (someone else acted first)."""
        result = session.execute(
            update(ContentRevision)
            .where(ContentRevision.id == revision_id, ContentRevision.state == from_state)
            .values(state=to_state, **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    @staticmethod
    def move_live(
        session: Session,
        document: ContentDocument,
        expected: int | None,
        new: int | None,
        actor: str,
    ) -> bool:
        """Point the document at ``new`` if it still points at ``expected``."""
        current = (
            ContentDocument.live_revision_id.is_(None)
            if expected is None
            else ContentDocument.live_revision_id == expected
        )
        result = session.execute(
            update(ContentDocument)
            .where(ContentDocument.id == document.id, current)
            .values(live_revision_id=new, updated_at=utcnow(), updated_by=actor)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def replace_live(
        self,
        session: Session,
        document: ContentDocument,
        previous: int | None,
        new: int | None,
        actor: str,
    ) -> None:
        """Point the document at ``new`` (None: nothing live); the old live revision is
        superseded. InvalidTransitionError when another version went live meanwhile."""
        if not self.move_live(session, document, previous, new, actor):
            session.rollback()
            raise InvalidTransitionError(
                "Another version was published just now; reload and try again."
            )
        if previous is not None and previous != new:
            self.change_state(session, previous, "published", "superseded")

    def write(self, write: Callable[[Session], T]) -> T:
        """Run ``write`` in a transaction and commit; retried when a concurrent save took
        the same revision number or created the same document first."""
        for attempt in range(_WRITE_ATTEMPTS):
            with self._sessions() as session:
                try:
                    result = write(session)
                    session.commit()
                    return result
                except IntegrityError:
                    session.rollback()
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")

    @staticmethod
    def touch(session: Session, document: ContentDocument, actor: str) -> None:
        """Record who changed the document last (a save or a review)."""
        session.execute(
            update(ContentDocument)
            .where(ContentDocument.id == document.id)
            .values(updated_at=utcnow(), updated_by=actor)
            .execution_options(synchronize_session=False)
        )

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _stored(
        session: Session,
        document: ContentDocument,
        rows: list[ContentRevision] | None = None,
    ) -> StoredDocument:
        if rows is None:
            rows = list(
                session.scalars(
                    select(ContentRevision)
                    .where(ContentRevision.document_id == document.id)
                    .order_by(ContentRevision.number.desc())
                )
            )
        return StoredDocument(
            doc_id=document.doc_id,
            lang=document.lang,
            live_revision_id=document.live_revision_id,
            updated_at=document.updated_at,
            updated_by=document.updated_by,
            revisions=[revision_record(r, document) for r in rows],
        )

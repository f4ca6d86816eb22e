"""The content workflow: draft → review → published → retired, every version kept.

Business rules live here (states, a second person publishes, reasons); roles are checked
at the edge (HTTP dependencies, the CLI). Every action is audited in the transaction of
the change it records. After a change to what citizens see (publish, retire, rollback, a
changed published file) the ``on_change`` callback runs, e.g. ``LiveKnowledge.refresh``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.audit import AuditLog
from bot.models import CONTENT_ORIGINS, ContentDocument, utcnow
from consular.errors import (
    DocumentNotFoundError,
    IngestionError,
    InvalidDocumentError,
    InvalidTransitionError,
    ReasonRequiredError,
    RevisionNotFoundError,
    SelfApprovalError,
)
from knowledge import content_text
from knowledge.content_store import (
    ContentStore,
    DiffRow,
    DocumentSummary,
    RevisionRecord,
    StoredDocument,
    SyncReport,
)
from knowledge.content_sync import FileSync
from knowledge.ingest import SUPPORTED_SUFFIXES, import_file
from knowledge.model import GuidanceDocument

logger = logging.getLogger(__name__)

_REVIEWABLE = ("published", "superseded", "retired")


class ContentWorkflow:
    """Guidance documents as content staff change them, and what citizens are answered from."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        audit: AuditLog,
        *,
        review_max_age_days: int,
        mission_ids: frozenset[str] | None = None,
        on_change: Callable[[], object] | None = None,
        today: Callable[[], date] = date.today,
        protected: frozenset[str] = frozenset(),
    ) -> None:
        self._store = ContentStore(sessions)
        self._audit = audit
        self._max_age = timedelta(days=review_max_age_days)
        self._mission_ids = mission_ids
        # Public: the assembly sets it once the live knowledge exists (it needs the workflow).
        self.on_change = on_change
        self._today = today
        # Documents that must always have a live version (the engine cites them in every
        # emergency reply): they can be revised or rolled back, never retired.
        self._protected = protected

    # -- reading -------------------------------------------------------------------------

    def documents(
        self, *, status: str | None = None, stale_only: bool = False
    ) -> list[DocumentSummary]:
        """Every document's standing, by id and language; optionally filtered."""
        summaries = [self._summary(d) for d in self._store.stored_documents() if d.revisions]
        return [
            s
            for s in summaries
            if (status is None or s.status == status) and (not stale_only or s.stale)
        ]

    def document(self, doc_id: str, lang: str) -> DocumentSummary:
        """One document's standing; DocumentNotFoundError when there is none."""
        return self._summary(self._stored(doc_id, lang))

    def history(self, doc_id: str, lang: str) -> list[RevisionRecord]:
        """Every revision of the document, newest first."""
        return self._stored(doc_id, lang).revisions

    def revision(self, revision_id: int) -> RevisionRecord:
        record = self._store.revision(revision_id)
        if record is None:
            raise RevisionNotFoundError()
        return record

    def exists(self, doc_id: str, lang: str) -> bool:
        return self._store.stored_document(doc_id, lang) is not None

    def problems(self, revision_id: int) -> list[str]:
        """What stops the revision from being submitted; [] when it is valid."""
        record = self.revision(revision_id)
        return self._validate(record)[1]

    def review_queue(self) -> list[RevisionRecord]:
        """Revisions waiting for a second person, oldest first."""
        return self._store.revisions_in_state("in_review")

    def published_documents(self) -> list[GuidanceDocument]:
        """The live version of every document: all that citizens are answered from."""
        documents = []
        for record in self._store.live_revisions():
            doc, problems = self._validate(record)
            if doc is None:
                # Validated when published; only a changed mission list can get here.
                logger.warning(
                    "live %s/%s r%d skipped: %s",
                    record.doc_id,
                    record.lang,
                    record.number,
                    "; ".join(problems),
                )
                continue
            documents.append(content_text.as_published(doc))
        return documents

    def live_signature(self) -> tuple[int, ...]:
        """Which revisions are live: it changes with every publish, retire and rollback,
        whichever process (another worker, the CLI) made it."""
        return tuple(self._store.live_revision_ids())

    def diff(self, old_revision_id: int, new_revision_id: int) -> list[DiffRow]:
        """Side-by-side rows from the old revision's text to the new one's."""
        old, new = self.revision(old_revision_id), self.revision(new_revision_id)
        return content_text.side_by_side(old.markdown, new.markdown)

    # -- writing -------------------------------------------------------------------------

    def save_draft(
        self,
        actor: str,
        doc_id: str,
        lang: str,
        markdown: str,
        reason: str,
        *,
        origin: str = "editor",
    ) -> RevisionRecord:
        """A new draft revision (the document is created if new); the text may be invalid."""
        return self._save(actor, doc_id, lang, markdown, reason, origin, "content_draft")

    def import_upload(
        self, actor: str, filename: str, data: bytes, overrides: dict[str, Any], reason: str
    ) -> RevisionRecord:
        """Convert an uploaded HTML, PDF, DOCX or Markdown file into a draft."""
        suffix = Path(filename).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise InvalidDocumentError(
                [f"{suffix or 'no extension'}: upload Markdown, HTML, PDF or DOCX"],
                "This file type cannot be converted.",
            )
        with tempfile.TemporaryDirectory(prefix="consular-upload-") as folder:
            # A fixed name: the uploaded name is the citizen-facing file name, not a path.
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                doc = import_file(path, overrides)
            except IngestionError as exc:
                raise InvalidDocumentError(
                    [exc.user_message.replace(path.name, Path(filename).name)],
                    "The file could not be converted into a guidance document.",
                ) from exc
        markdown = _original_markdown(suffix, data, doc) or doc.to_markdown()
        return self._save(actor, doc.id, doc.lang, markdown, reason, "upload", "content_import")

    def submit(self, actor: str, revision_id: int) -> RevisionRecord:
        """Send a valid draft for review; InvalidDocumentError lists what must be fixed."""
        record = self.revision(revision_id)
        problems = self._validate(record)[1]
        if problems:
            raise InvalidDocumentError(problems)
        with self._store.transaction() as session:
            if not self._store.change_state(session, revision_id, "draft", "in_review"):
                raise InvalidTransitionError(
                    f"Revision {record.number} is {self._state(revision_id)}; "
                    "only a draft can be submitted."
                )
            self._touch_and_audit(session, actor, "content_submit", record, record.reason)
            session.commit()
        return self.revision(revision_id)

    def publish(self, actor: str, revision_id: int, note: str = "") -> RevisionRecord:
        """A second person makes the revision live; the previous live one is superseded."""
        record = self.revision(revision_id)
        if record.author == actor:
            raise SelfApprovalError()
        with self._store.transaction() as session:
            document = self._document_row(session, record)
            previous = document.live_revision_id
            if previous is not None and previous > revision_id:
                # Written before the live version: publishing it would silently undo that.
                raise InvalidTransitionError(
                    f"A newer version was published after revision {record.number} was "
                    "written. Compare the two, then save a new draft that keeps both changes."
                )
            review = {"reviewer": actor, "review_note": note or None, "reviewed_at": utcnow()}
            if not self._store.change_state(
                session, revision_id, "in_review", "published", **review
            ):
                raise InvalidTransitionError(
                    f"Revision {record.number} is {self._state(revision_id)}: it is no longer "
                    "waiting for review (someone may have acted on it just now)."
                )
            self._store.replace_live(session, document, previous, revision_id, actor)
            self._audit.add(session, actor, "content_publish", detail=_detail(record, note))
            session.commit()
        return self._changed(revision_id)

    def reject(self, actor: str, revision_id: int, note: str) -> RevisionRecord:
        """Send a revision under review back with a note; the author saves a new draft."""
        note = _required(note)
        record = self.revision(revision_id)
        with self._store.transaction() as session:
            review = {"reviewer": actor, "review_note": note, "reviewed_at": utcnow()}
            if not self._store.change_state(
                session, revision_id, "in_review", "rejected", **review
            ):
                raise InvalidTransitionError(
                    f"Revision {record.number} is {self._state(revision_id)}; "
                    "only a revision under review can be rejected."
                )
            self._touch_and_audit(session, actor, "content_reject", record, note)
            session.commit()
        return self.revision(revision_id)

    def retire(self, actor: str, doc_id: str, lang: str, reason: str) -> RevisionRecord:
        """Take the document off the air: its live revision becomes ``retired``."""
        reason = _required(reason)
        if doc_id in self._protected:
            raise InvalidTransitionError(
                f"'{doc_id}' is cited in emergency replies and cannot be retired; "
                "publish a corrected version instead."
            )
        live = self._stored(doc_id, lang).live
        if live is None:
            raise InvalidTransitionError("The document has no published version to retire.")
        with self._store.transaction() as session:
            document = self._document_row(session, live)
            if not (
                self._store.change_state(session, live.id, "published", "retired")
                and self._store.move_live(session, document, live.id, None, actor)
            ):
                session.rollback()
                raise InvalidTransitionError(
                    "The published version changed just now; reload and try again."
                )
            self._audit.add(session, actor, "content_retire", detail=_detail(live, reason))
            session.commit()
        return self._changed(live.id)

    def rollback(
        self, actor: str, doc_id: str, lang: str, to_revision_id: int, reason: str
    ) -> RevisionRecord:
        """Publish a copy of an earlier published version (it was reviewed then)."""
        reason = _required(reason)
        source = self.revision(to_revision_id)
        if (source.doc_id, source.lang) != (doc_id, lang):
            raise RevisionNotFoundError("That revision belongs to another document.")
        if source.state not in _REVIEWABLE:
            raise InvalidTransitionError(
                f"Revision {source.number} was never published; only a version that was "
                "published can be restored."
            )
        problems = self._validate(source)[1]
        if problems:
            raise InvalidDocumentError(problems)

        def write(session: Session) -> int:
            document = self._document_row(session, source)
            previous = document.live_revision_id
            row = self._store.add_revision(
                session,
                document,
                state="published",
                markdown=source.markdown,
                title=source.title,
                author=actor,
                reason=reason,
                origin="rollback",
                reviewer=actor,
                review_note=f"restores revision {source.number}",
                reviewed_at=utcnow(),
            )
            self._store.replace_live(session, document, previous, row.id, actor)
            self._audit.add(
                session,
                actor,
                "content_rollback",
                detail=f"{doc_id}/{lang} r{row.number} restores r{source.number}: {reason}",
            )
            return row.id

        return self._changed(self._store.write(write))

    def sync_files(self, kb_dir: Path) -> SyncReport:
        """Import every file that changed since its last import (actor ``files``).

        A file marked published is published at once (the repository is reviewed in
        git), one marked retired retires the document, any other becomes a draft. A file
        that did not change leaves its document alone, so editors' later changes survive.
        """
        report = FileSync(self._store, self._audit, self._mission_ids).run(Path(kb_dir))
        if report.changed:
            self._notify()
        return report

    # -- internals -----------------------------------------------------------------------

    def _save(
        self,
        actor: str,
        doc_id: str,
        lang: str,
        markdown: str,
        reason: str,
        origin: str,
        action: str,
    ) -> RevisionRecord:
        problems = content_text.key_problems(doc_id, lang)
        if len(markdown) > content_text.MAX_DOCUMENT_CHARS:
            problems.append(
                f"the text is {len(markdown):,} characters; at most "
                f"{content_text.MAX_DOCUMENT_CHARS:,} (split it into several documents)"
            )
        if problems:
            raise InvalidDocumentError(problems)
        if origin not in CONTENT_ORIGINS:
            raise ValueError(f"unknown origin {origin!r}; expected one of {CONTENT_ORIGINS}")
        reason = (reason or "").strip() or "no reason given"

        def write(session: Session) -> int:
            document = self._store.get_or_create_document(session, doc_id, lang, actor)
            row = self._store.add_revision(
                session,
                document,
                state="draft",
                markdown=markdown,
                title=content_text.title_of(markdown, doc_id),
                author=actor,
                reason=reason,
                origin=origin,
            )
            self._store.touch(session, document, actor)
            self._audit.add(
                session, actor, action, detail=f"{doc_id}/{lang} r{row.number} ({origin}): {reason}"
            )
            return row.id

        return self.revision(self._store.write(write))

    def _touch_and_audit(
        self, session: Session, actor: str, action: str, record: RevisionRecord, why: str
    ) -> None:
        document = self._document_row(session, record)
        self._store.touch(session, document, actor)
        self._audit.add(session, actor, action, detail=_detail(record, why))

    def _document_row(self, session: Session, record: RevisionRecord) -> ContentDocument:
        document = self._store.find_document(session, record.doc_id, record.lang)
        if document is None:
            raise DocumentNotFoundError(f"No document '{record.doc_id}' in '{record.lang}'.")
        return document

    def _stored(self, doc_id: str, lang: str) -> StoredDocument:
        stored = self._store.stored_document(doc_id, lang)
        if stored is None or not stored.revisions:
            raise DocumentNotFoundError(f"No document '{doc_id}' in '{lang}'.")
        return stored

    def _state(self, revision_id: int) -> str:
        return self.revision(revision_id).state.replace("_", " ")

    def _validate(self, record: RevisionRecord) -> tuple[GuidanceDocument | None, list[str]]:
        return content_text.validate(record.markdown, record.doc_id, record.lang, self._mission_ids)

    def _summary(self, stored: StoredDocument) -> DocumentSummary:
        latest, live = stored.revisions[0], stored.live
        shown = live or latest
        reviewed = content_text.reviewed_of(shown.markdown)
        stale = (
            live is not None and reviewed is not None and (reviewed < self._today() - self._max_age)
        )
        return DocumentSummary(
            doc_id=stored.doc_id,
            lang=stored.lang,
            title=shown.title,
            status=_status(live, latest),
            live_number=live.number if live else None,
            latest_number=latest.number,
            latest_state=latest.state,
            reviewed=reviewed,
            stale=stale,
            updated_at=stored.updated_at,
            updated_by=stored.updated_by,
        )

    def _changed(self, revision_id: int) -> RevisionRecord:
        record = self.revision(revision_id)
        self._notify()
        return record

    def _notify(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change()
        except Exception:
            # The change is committed; the next refresh picks it up. Say so loudly.
            logger.exception("content changed but the live knowledge was not refreshed")


def _status(live: RevisionRecord | None, latest: RevisionRecord) -> str:
    """What people are shown: published while a version is live, else the latest state."""
    if live is not None:
        return "published"
    return {"in_review": "in_review", "retired": "retired", "superseded": "retired"}.get(
        latest.state, "draft"
    )


def _original_markdown(suffix: str, data: bytes, doc: GuidanceDocument) -> str | None:
    """An uploaded Markdown file as it was written (footer and layout kept), when the
    metadata given with the upload changed nothing in it."""
    if suffix not in {".md", ".markdown"}:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    original, _ = content_text.parse(text)
    return text if original is not None and original.meta == doc.meta else None


def _detail(record: RevisionRecord, why: str) -> str:
    suffix = f": {why}" if why else ""
    return f"{record.doc_id}/{record.lang} r{record.number}{suffix}"


def _required(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReasonRequiredError()
    return text

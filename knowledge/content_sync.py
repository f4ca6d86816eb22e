"""Importing the guidance files (``<kb_dir>/<lang>/<id>.md``) into the content store.

The repository's files are reviewed in git, so a file marked published is published at
once by the system actor ``files``. Only files whose bytes changed since their last
import are read into a new revision: an editor's later edit or retirement in the console
survives every restart that finds the same file.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bot.audit import AuditLog
from bot.models import utcnow
from knowledge import content_text
from knowledge.content_store import ContentStore, SyncReport
from knowledge.loader import iter_document_files

FILES_ACTOR = "files"
# What a file's front-matter status makes of its revision (anything else: a draft).
_STATES = {"published": "published", "retired": "retired"}


class FileSync:
    """One pass over a knowledge-base folder."""

    def __init__(
        self, store: ContentStore, audit: AuditLog, mission_ids: frozenset[str] | None
    ) -> None:
        self._store = store
        self._audit = audit
        self._mission_ids = mission_ids

    def run(self, kb_dir: Path) -> SyncReport:
        """Import every new or changed file; report what became of each."""
        report = SyncReport()
        present = set()
        for path in iter_document_files(kb_dir):
            present.add((path.stem, path.parent.name))
            try:
                self._file(path, report)
            except UnicodeDecodeError:
                report.problems.append(f"{path}: not UTF-8 text")
        self._retire_deleted(present, report)
        return report

    def _retire_deleted(self, present: set[tuple[str, str]], report: SyncReport) -> None:
        """A file deleted from the repository withdraws its document, as deleting it did
        before the content store; a version an editor published stays theirs."""
        for live in self._store.live_revisions():
            if live.origin != "files" or (live.doc_id, live.lang) in present:
                continue

            def write(session: Session, live=live) -> bool:
                document = self._store.find_document(session, live.doc_id, live.lang)
                if document is None or not self._store.move_live(
                    session, document, live.id, None, FILES_ACTOR
                ):
                    return False  # changed meanwhile: leave it to whoever changed it
                self._store.change_state(session, live.id, "published", "retired")
                self._audit.add(
                    session,
                    FILES_ACTOR,
                    "content_retire",
                    detail=f"{live.doc_id}/{live.lang} r{live.number}: its file was deleted",
                )
                return True

            if self._store.write(write):
                report.retired.append(f"{live.doc_id}/{live.lang}")

    def _file(self, path: Path, report: SyncReport) -> None:
        doc_id, lang = path.stem, path.parent.name
        if content_text.key_problems(doc_id, lang):
            report.problems.append(f"{path}: not <lang>/<id>.md")
            return
        data = path.read_bytes()
        markdown = data.decode("utf-8")
        state = _STATES.get(content_text.status_of(markdown), "draft")
        problems = content_text.validate(markdown, doc_id, lang, self._mission_ids)[1]
        if problems:
            report.problems.extend(f"{path}: {p}" for p in problems)
            state = "draft"  # nothing invalid reaches citizens, whatever the file says
        digest = content_text.content_hash(data)

        def write(session: Session) -> bool:
            return self._import(session, path, markdown, digest, state)

        if not self._store.write(write):
            report.unchanged += 1
            return
        target = {"published": report.published, "retired": report.retired}.get(state)
        (target if target is not None else report.drafted).append(f"{doc_id}/{lang}")

    def _import(self, session: Session, path: Path, markdown: str, digest: str, state: str) -> bool:
        """Add the file's revision; False when the file is the one imported last."""
        doc_id, lang = path.stem, path.parent.name
        document = self._store.find_document(session, doc_id, lang)
        if document is not None and self._store.last_file_hash(session, document) == digest:
            return False
        document = self._store.get_or_create_document(session, doc_id, lang, FILES_ACTOR)
        previous = document.live_revision_id
        reviewed = {"reviewer": FILES_ACTOR, "reviewed_at": utcnow()} if state != "draft" else {}
        row = self._store.add_revision(
            session,
            document,
            state=state,
            markdown=markdown,
            title=content_text.title_of(markdown, doc_id),
            author=FILES_ACTOR,
            reason=f"imported from {path.name}",
            origin="files",
            source_hash=digest,
            **reviewed,
        )
        if state == "published" or (state == "retired" and previous is not None):
            self._store.replace_live(
                session, document, previous, row.id if state == "published" else None, FILES_ACTOR
            )
        else:
            self._store.touch(session, document, FILES_ACTOR)
        self._audit.add(
            session,
            FILES_ACTOR,
            "content_sync",
            detail=f"{doc_id}/{lang} r{row.number} {state} from {path.name}",
        )
        return True

"""The knowledge-gaps report and the drafts started from it.

``GapReport`` finds the questions (``bot/gaps.py``) and groups them
(``bot/gap_clusters.py``); ``GapDrafts`` turns a group, or an officer's reply, into a
draft of the content workflow. Role checks are the caller's (HTTP dependencies).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import gap_drafts
from bot.audit import AuditLog
from bot.engine import ConversationEngine, Thresholds
from bot.gap_clusters import CLUSTER_DISTANCE, GapGroup, QuestionClusterer
from bot.gaps import (
    DEFAULT_OFFICER_REPLIES,
    GapCollector,
    GapFilters,
    GapGroupNotFound,
    GapQuestion,
    OfficerReplies,
    OfficerReply,
    Searcher,
)
from consular.errors import ConsularError, DocumentNotFoundError
from knowledge import content_text
from retrieval.embeddings import Embedder

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from knowledge.content_store import RevisionRecord
    from knowledge.workflow import ContentWorkflow

# Drafts are written in a language of the knowledge base; anything else starts in English.
_FALLBACK_LANG = "en"


class LiveSearcher:
    """The engine's current searcher (it changes when a document is published), with the
    answers kept until it does: every page load searches the same declines again."""

    def __init__(self, engine: ConversationEngine, *, cache_size: int = 5_000) -> None:
        self._engine = engine
        self._cache_size = cache_size
        self._searcher: object | None = None
        self._answers: dict[tuple[str, str | None, int], Any] = {}
        self._lock = threading.Lock()

    def search(self, query: str, lang: str | None = None, k: int = 5) -> Any:
        searcher = self._engine.searcher
        key = (query, lang, k)
        with self._lock:
            if searcher is not self._searcher:
                self._searcher, self._answers = searcher, {}
            if key in self._answers:
                return self._answers[key]
        response = searcher.search(query, lang=lang, k=k)
        with self._lock:
            if searcher is self._searcher:
                if len(self._answers) >= self._cache_size:
                    self._answers.clear()
                self._answers[key] = response
        return response


class GapReport:
    """Gap questions grouped by meaning and language, and recent officer replies."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        *,
        searcher: Searcher | None = None,
        thresholds: Thresholds | None = None,
        distance: float = CLUSTER_DISTANCE,
    ) -> None:
        self._collector = GapCollector(sessions, searcher=searcher, thresholds=thresholds)
        self._clusterer = QuestionClusterer(embedder, distance=distance)
        self.officer_replies = OfficerReplies(sessions)

    def questions(self, filters: GapFilters | None = None) -> list[GapQuestion]:
        return self._collector.questions(filters)

    def groups(self, filters: GapFilters | None = None) -> list[GapGroup]:
        """The groups of similar questions, largest first."""
        return self._clusterer.groups(self._collector.questions(filters))

    def group(self, group_id: str, filters: GapFilters | None = None) -> GapGroup:
        """One group of the report with these filters; GapGroupNotFound when the questions
        changed since the page was loaded (a new question joins a group: new id)."""
        for group in self.groups(filters):
            if group.id == group_id:
                return group
        raise GapGroupNotFound()

    def recent_replies(self, limit: int = DEFAULT_OFFICER_REPLIES) -> list[OfficerReply]:
        return self.officer_replies.recent(limit)


class DocumentIdTaken(ConsularError):
    """A gap draft may only start a new document, never a new revision of live guidance."""

    user_message = "A document with this id exists; pick another id."


@dataclass(frozen=True, slots=True)
class StartedDraft:
    revision: RevisionRecord
    url: str


def editor_url(doc_id: str, lang: str) -> str:
    return f"/console/content/{doc_id}/{lang}"


class GapDrafts:
    """Drafts in the content workflow from a gap group or an officer's reply, audited."""

    def __init__(
        self,
        report: GapReport,
        workflow: ContentWorkflow,
        audit: AuditLog,
    ) -> None:
        self._report = report
        self._workflow = workflow
        self._audit = audit

    def from_group(
        self, actor: str, group_id: str, filters: GapFilters, doc_id: str | None = None
    ) -> StartedDraft:
        """A new document for the group: title from its typical question, its example
        questions under "Common questions", topics from the closest document.

        A ``doc_id`` chosen by the editor must be new (in any language): DocumentIdTaken
        otherwise, so that the skeleton never becomes a revision of live guidance."""
        if doc_id and doc_id in {d.doc_id for d in self._workflow.documents()}:
            raise DocumentIdTaken()
        group = self._report.group(group_id, filters)
        lang = _draft_lang(group.language)
        title = gap_drafts.title_from(group.representative)
        doc_id = doc_id or self._new_id(title, lang)
        closest = [f"{d.title} ({d.doc_id})" for d in group.documents]
        topics = (
            self._topics(group.documents[0].doc_id, group.documents[0].lang)
            if group.documents
            else []
        )
        markdown = gap_drafts.gap_markdown(
            doc_id,
            lang,
            title,
            [e.text for e in group.examples],
            topics=topics,
            closest=closest,
        )
        reason = f"From knowledge gap: {group.count} questions"
        revision = self._workflow.save_draft(actor, doc_id, lang, markdown, reason, origin="gap")
        self._audit.record(
            actor,
            "gap_draft",
            detail=f"group {group.id} ({group.count} questions) -> {doc_id}/{lang} r{revision.number}",
        )
        return StartedDraft(revision, editor_url(doc_id, lang))

    def from_officer_reply(self, actor: str, reply: OfficerReply) -> StartedDraft:
        """A draft holding the citizen's question and the officer's answer: a new revision
        of the guidance the conversation cited, or a new document when it cited none."""
        question = reply.question or "(The citizen's question)"
        starting = self._starting_point(reply)
        if starting is not None:
            doc_id, lang = starting.doc_id, starting.lang
            markdown = gap_drafts.with_common_question(
                starting.markdown, lang, question, reply.reply
            )
        else:
            lang = _draft_lang(reply.language or _FALLBACK_LANG)
            doc_id = self._new_id(question, lang)
            topics = self._topics(reply.topic_doc_id, lang) if reply.topic_doc_id else []
            markdown = gap_drafts.officer_reply_markdown(
                doc_id, lang, question, reply.reply, topics=topics
            )
        reason = f"From an officer's reply in conversation {reply.conversation_id[:10]}…"
        revision = self._workflow.save_draft(
            actor, doc_id, lang, markdown, reason, origin="officer_reply"
        )
        self._audit.record(
            actor,
            "officer_reply_draft",
            reply.conversation_id,
            f"message {reply.message_id} -> {doc_id}/{lang} r{revision.number}",
        )
        return StartedDraft(revision, editor_url(doc_id, lang))

    def _starting_point(self, reply: OfficerReply) -> RevisionRecord | None:
        """The live (else latest) revision of the guidance the conversation cited."""
        if reply.cited is None:
            return None
        try:
            history = self._workflow.history(reply.cited.doc_id, reply.cited.lang)
        except DocumentNotFoundError:
            return None
        return next((r for r in history if r.state == "published"), history[0])

    def _topics(self, doc_id: str, lang: str) -> list[str]:
        """The topics of a document's live (else latest) revision; [] when unknown, for
        the editor to choose."""
        try:
            history = self._workflow.history(doc_id, lang)
        except DocumentNotFoundError:
            return []
        revision = next((r for r in history if r.state == "published"), history[0])
        doc, _ = content_text.parse(revision.markdown)
        return list(doc.meta.topics) if doc is not None else []

    def _new_id(self, text: str, lang: str) -> str:
        """A document id from the text, with -2, -3, ... when any language has it."""
        base = gap_drafts.slug(text)
        known = {d.doc_id for d in self._workflow.documents()}
        candidate, n = base, 1
        while candidate in known:
            n += 1
            candidate = f"{base}-{n}"
        return candidate


def _draft_lang(language: str) -> str:
    """The group's language when it is a language code, English otherwise ("und")."""
    return language if len(language) == 2 and language.isalpha() else _FALLBACK_LANG

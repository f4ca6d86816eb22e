"""Keeping the running engine on what is published now.

After a publish, retire or rollback the content workflow calls ``refresh()``: the index
is brought up to date incrementally (only new or changed chunks are embedded, removed
ones deleted), a new searcher is built over it and the engine swaps searcher and
documents in one step, so a citizen never sees a draft or a retired document again.
"""

from __future__ import annotations

import logging
import threading

from bot.engine import ConversationEngine
from knowledge.base import KnowledgeBase
from knowledge.missions import MissionDirectory
from knowledge.workflow import ContentWorkflow
from retrieval.indexer import IndexReport
from retrieval.service import RetrievalService

logger = logging.getLogger(__name__)


class LiveKnowledge:
    """The published documents of the workflow, indexed and in the engine's hands."""

    def __init__(
        self,
        workflow: ContentWorkflow,
        retrieval: RetrievalService,
        engine: ConversationEngine,
        missions: MissionDirectory,
        *,
        signature: tuple[int, ...] | None = None,
    ) -> None:
        self._workflow = workflow
        self._retrieval = retrieval
        self._engine = engine
        self._missions = missions
        # Two editors publishing at once: the second refresh waits for the first, so the
        # index and the engine's documents always come from one reading of the store.
        self._lock = threading.Lock()
        # The live revisions the engine was last given (None: unknown, refresh on poll).
        self._signature = signature

    def is_current(self) -> bool:
        """Whether the engine answers from exactly the revisions live in the store now."""
        return self._workflow.live_signature() == self._signature

    def refresh_if_changed(self) -> IndexReport | None:
        """Refresh when the live revisions differ from the last refresh: picks up what
        another app process or the ``consular content`` CLI published."""
        return None if self.is_current() else self.refresh()

    def refresh(self) -> IndexReport:
        """Re-index what is published and hand it to the engine; returns what changed."""
        with self._lock:
            # Read before the documents: a publish in between is seen by the next poll.
            signature = self._workflow.live_signature()
            documents = self._workflow.published_documents()
            report = self._retrieval.index(documents)
            searcher = self._retrieval.build_searcher()
            self._engine.use_knowledge(searcher, KnowledgeBase(documents, self._missions))
            # Only now: after a failure the next poll tries again.
            self._signature = signature
        logger.info(
            "live knowledge refreshed: %d documents, %d chunks added, %d removed in %.2fs",
            len(documents),
            report.added,
            report.removed,
            report.seconds,
        )
        return report

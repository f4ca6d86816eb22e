"""Incremental indexing: embed only new or changed chunks, remove what is gone."""

from __future__ import annotations

import time
from dataclasses import dataclass

from knowledge.model import GuidanceDocument
from retrieval.chunking import chunk_documents
from retrieval.embeddings import Embedder
from retrieval.vector_store import ChromaVectorStore


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    added: int
    removed: int
    unchanged: int
    seconds: float
    rebuilt: bool

    @property
    def total(self) -> int:
        return self.added + self.unchanged


class Indexer:
    """Keeps the vector store in step with the published documents."""

    def __init__(self, embedder: Embedder, store: ChromaVectorStore) -> None:
        self._embedder = embedder
        self._store = store

    def sync(self, documents: list[GuidanceDocument], *, rebuild: bool = False) -> IndexReport:
        """Bring the index to exactly the chunks of the published ``documents``."""
        started = time.perf_counter()
        # Vectors from another model live in another space: start over rather than mix them.
        rebuild = rebuild or self._store.embedder_name not in ("", self._embedder.name)
        if rebuild:
            self._store.reset()
        wanted = {c.chunk_id: c for c in chunk_documents(documents)}
        stored = self._store.stored_ids()
        new = [c for cid, c in wanted.items() if cid not in stored]
        stale = sorted(stored - wanted.keys())
        if new:
            vectors = self._embedder.embed_passages([c.passage for c in new])
            self._store.upsert(new, vectors)
        if stale:
            self._store.delete(stale)
        return IndexReport(
            added=len(new),
            removed=len(stale),
            unchanged=len(wanted) - len(new),
            seconds=time.perf_counter() - started,
            rebuilt=rebuild,
        )

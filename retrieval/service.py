"""Assembling the retrieval components from settings (used by the CLI, the app and evals)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consular.errors import IndexNotBuiltError
from consular.settings import Settings
from knowledge.model import GuidanceDocument
from retrieval.abbreviations import AbbreviationList
from retrieval.chunking import Chunk
from retrieval.confidence import ConfidenceModel
from retrieval.diacritics import DiacriticRestorer
from retrieval.embeddings import Embedder, build_embedder
from retrieval.hubness import hubness_scores
from retrieval.indexer import Indexer, IndexReport
from retrieval.language import LanguageDetector
from retrieval.query import QueryPreparer
from retrieval.search import FusionConfig, HybridSearcher
from retrieval.vector_store import ChromaVectorStore, make_chroma_client


@dataclass
class RetrievalService:
    """The embedder and the vector store, and what can be built from them."""

    embedder: Embedder
    store: ChromaVectorStore
    abbreviations: AbbreviationList
    confidence: ConfidenceModel
    fusion: FusionConfig
    high_accuracy_language_detection: bool = True

    @classmethod
    def from_settings(
        cls, settings: Settings, *, index_dir: Path | None = None, embedder: Embedder | None = None
    ) -> RetrievalService:
        embedder = embedder or build_embedder(settings)
        client = make_chroma_client(index_dir or settings.index_dir, settings.chroma_url)
        store = ChromaVectorStore(client, settings.chroma_collection, embedder.name)
        return cls(
            embedder=embedder,
            store=store,
            abbreviations=AbbreviationList.load(settings.abbreviations_file),
            confidence=ConfidenceModel.load(settings.calibration_file),
            fusion=FusionConfig(candidates=settings.search_candidates),
            high_accuracy_language_detection=settings.language_detection_high_accuracy,
        )

    def index(self, documents: list[GuidanceDocument], *, rebuild: bool = False) -> IndexReport:
        """Embed new or changed chunks of the published documents; drop the rest."""
        return Indexer(self.embedder, self.store).sync(documents, rebuild=rebuild)

    def build_searcher(self) -> HybridSearcher:
        """A searcher over what the index holds now."""
        chunks = self.store.all_chunks()
        if not chunks:
            raise IndexNotBuiltError()
        restorer = DiacriticRestorer.train(
            [c.passage for c in chunks if c.lang == "vi"]
            + list(self.abbreviations.entries.values())
        )
        detector = LanguageDetector(
            restorer, self.abbreviations, high_accuracy=self.high_accuracy_language_detection
        )
        preparer = QueryPreparer(self.abbreviations, restorer, detector)
        return HybridSearcher(
            self.embedder,
            self.store,
            chunks,
            preparer,
            self.confidence,
            self.fusion,
            hubness=self._hubness(chunks),
        )

    def _hubness(self, chunks: list[Chunk]) -> dict[str, float]:
        by_id = {c.chunk_id: c for c in chunks}
        ids, vectors = self.store.all_vectors()
        keep = [i for i, chunk_id in enumerate(ids) if chunk_id in by_id]
        kept_ids = [ids[i] for i in keep]
        return hubness_scores(
            kept_ids,
            [by_id[i].doc_id for i in kept_ids],
            [by_id[i].lang for i in kept_ids],
            vectors[keep] if keep else vectors,
            neighbours=self.fusion.hubness_neighbours,
        )

"""Hybrid search: BM25 and dense retrieval, fused per document, in the user's language."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from retrieval.chunking import Chunk
from retrieval.confidence import ConfidenceModel, Signals
from retrieval.embeddings import Embedder
from retrieval.fusion import RankedList, doc_ranking, max_fused_score, reciprocal_rank_fusion
from retrieval.lexical import LexicalIndex
from retrieval.query import PreparedQuery, QueryPreparer
from retrieval.vector_store import ChromaVectorStore

FALLBACK_LANGS = ("en", "vi")


@dataclass(frozen=True)
class FusionConfig:
    """Tuned on the dev split (see evals/README.md)."""

    rrf_k: float = 10.0
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    candidates: int = 40
    sections_per_doc: int = 2


@dataclass(frozen=True)
class SectionHit:
    heading: str
    text: str
    chunk_id: str
    score: float


@dataclass(frozen=True)
class DocumentHit:
    """One procedure, shown in the best available language, with its best sections."""

    doc_id: str
    lang: str
    title: str
    source: str
    reviewed: str
    score: float
    confidence: float
    sections: list[SectionHit]
    lexical_rank: int | None
    dense_rank: int | None
    available_langs: list[str]


@dataclass(frozen=True)
class SearchResponse:
    query: str
    prepared: PreparedQuery
    results: list[DocumentHit]
    signals: Signals | None
    milliseconds: float = 0.0
    trace: dict[str, object] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return self.results[0].confidence if self.results else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "lang": self.prepared.lang,
            "normalized": {
                "lexical": self.prepared.lexical,
                "dense": self.prepared.dense,
                "restored": self.prepared.restored,
            },
            "confidence": round(self.confidence, 4),
            "milliseconds": round(self.milliseconds, 2),
            "signals": asdict(self.signals) if self.signals else None,
            "results": [asdict(r) for r in self.results],
        }


class HybridSearcher:
    """Answers ``search(query)`` from a built index; safe to share between threads."""

    def __init__(
        self,
        embedder: Embedder,
        store: ChromaVectorStore,
        chunks: list[Chunk],
        preparer: QueryPreparer,
        confidence: ConfidenceModel,
        config: FusionConfig | None = None,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self._preparer = preparer
        self._confidence = confidence
        self._config = config or FusionConfig()
        self._chunks = {c.chunk_id: c for c in chunks}
        self._lexical = LexicalIndex(chunks)
        self._versions: dict[str, dict[str, list[Chunk]]] = defaultdict(lambda: defaultdict(list))
        for chunk in chunks:
            self._versions[chunk.doc_id][chunk.lang].append(chunk)

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def doc_ids(self) -> list[str]:
        return sorted(self._versions)

    def search(self, query: str, lang: str | None = None, k: int = 5) -> SearchResponse:
        """Ranked documents for ``query``; ``lang`` overrides language detection."""
        started = time.perf_counter()
        prepared = self._preparer.prepare(query, lang)
        cfg = self._config
        coverage = self._lexical.coverage(prepared.lexical)
        lexical_hits = self._lexical.search(prepared.lexical, cfg.candidates)
        dense_hits = self._store.query(
            self._embedder.embed_queries([prepared.dense])[0], cfg.candidates
        )
        dense_hits = [h for h in dense_hits if h.chunk_id in self._chunks]

        lists = [
            RankedList(
                "dense",
                doc_ranking(self._chunks[h.chunk_id].doc_id for h in dense_hits),
                cfg.dense_weight,
            ),
            RankedList(
                "lexical",
                doc_ranking(self._chunks[h.chunk_id].doc_id for h in lexical_hits),
                cfg.lexical_weight * coverage,
            ),
        ]
        fused = reciprocal_rank_fusion(lists, cfg.rrf_k)
        best_possible = max_fused_score(lists, cfg.rrf_k) or 1.0
        ordered = sorted(fused, key=lambda d: (-fused[d], d))
        signals = self._signals(ordered, fused, best_possible, lists, dense_hits, coverage)
        top_confidence = self._confidence.score(signals) if signals else 0.0

        chunk_scores = self._chunk_scores(lexical_hits, dense_hits)
        results = []
        for position, doc_id in enumerate(ordered[:k]):
            ranks = {
                r.name: (list(r.doc_ids).index(doc_id) + 1 if doc_id in r.doc_ids else None)
                for r in lists
            }
            # Lower-ranked documents get a confidence no higher than their relative score.
            confidence = (
                top_confidence * (fused[doc_id] / fused[ordered[0]]) if position else top_confidence
            )
            results.append(
                self._document_hit(
                    doc_id,
                    prepared.lang,
                    fused[doc_id] / best_possible,
                    confidence,
                    chunk_scores,
                    ranks,
                )
            )
        return SearchResponse(
            query=query,
            prepared=prepared,
            results=results,
            signals=signals,
            milliseconds=(time.perf_counter() - started) * 1000,
            trace={"lexical_candidates": len(lexical_hits), "dense_candidates": len(dense_hits)},
        )

    def _signals(
        self, ordered, fused, best_possible, lists, dense_hits, coverage
    ) -> Signals | None:
        if not ordered:
            return None
        top = fused[ordered[0]]
        second = fused[ordered[1]] if len(ordered) > 1 else 0.0
        dense_top = dense_hits[0].similarity if dense_hits else 0.0
        top_doc = self._chunks[dense_hits[0].chunk_id].doc_id if dense_hits else None
        other = next(
            (h.similarity for h in dense_hits if self._chunks[h.chunk_id].doc_id != top_doc), 0.0
        )
        firsts = [r.doc_ids[0] for r in lists if r.doc_ids and r.weight > 0]
        agreement = float(len(firsts) == 2 and firsts[0] == firsts[1])
        return Signals(
            fused=top / best_possible,
            margin=(top - second) / best_possible,
            dense_top=dense_top,
            dense_margin=dense_top - other if dense_hits else 0.0,
            agreement=agreement,
            coverage=coverage,
        )

    def _chunk_scores(self, lexical_hits, dense_hits) -> dict[str, float]:
        k = self._config.rrf_k
        scores: dict[str, float] = defaultdict(float)
        for rank, hit in enumerate(dense_hits, start=1):
            scores[hit.chunk_id] += 1.0 / (k + rank)
        for rank, hit in enumerate(lexical_hits, start=1):
            scores[hit.chunk_id] += 1.0 / (k + rank)
        return scores

    def _document_hit(self, doc_id, lang, score, confidence, chunk_scores, ranks) -> DocumentHit:
        versions = self._versions[doc_id]
        shown_lang = next(
            (code for code in (lang, *FALLBACK_LANGS) if code in versions), sorted(versions)[0]
        )
        chunks = versions[shown_lang]
        ranked = sorted(chunks, key=lambda c: (-chunk_scores.get(c.chunk_id, 0.0), c.position))
        if not any(chunk_scores.get(c.chunk_id) for c in chunks):
            ranked = self._sections_by_position_of_best_version(versions, chunk_scores, shown_lang)
        first = chunks[0]
        sections = [
            SectionHit(c.heading, c.text, c.chunk_id, round(chunk_scores.get(c.chunk_id, 0.0), 5))
            for c in ranked[: self._config.sections_per_doc]
        ]
        return DocumentHit(
            doc_id=doc_id,
            lang=shown_lang,
            title=first.title,
            source=first.source,
            reviewed=first.reviewed,
            score=round(score, 5),
            confidence=round(confidence, 4),
            sections=sections,
            lexical_rank=ranks.get("lexical"),
            dense_rank=ranks.get("dense"),
            available_langs=sorted(versions),
        )

    def _sections_by_position_of_best_version(
        self, versions, chunk_scores, shown_lang
    ) -> list[Chunk]:
        """When only another language version matched, show the same sections (by position)."""
        matched = [c for cs in versions.values() for c in cs if chunk_scores.get(c.chunk_id)]
        matched.sort(key=lambda c: -chunk_scores[c.chunk_id])
        by_position = {c.position: c for c in versions[shown_lang]}
        picked = [by_position[c.position] for c in matched if c.position in by_position]
        rest = [c for c in versions[shown_lang] if c not in picked]
        return list(dict.fromkeys(picked)) + rest

"""Hybrid search: BM25 and dense retrieval, fused per document, in the user's language."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from retrieval.chunking import Chunk
from retrieval.confidence import ConfidenceModel, Signals
from retrieval.embeddings import Embedder
from retrieval.fusion import best_reciprocal_rank, order_by_score, rank_documents
from retrieval.lexical import LexicalIndex
from retrieval.query import PreparedQuery, QueryPreparer
from retrieval.vector_store import ChromaVectorStore, VectorHit

FALLBACK_LANGS = ("en", "vi")


@dataclass(frozen=True)
class FusionConfig:
    """Tuned on the dev split only; evals/README.md records how."""

    rrf_k: float = 10.0
    # The user's own language counts more, but only where every procedure exists in it:
    # a French ranking covers only the procedures that have a French version.
    own_language_weight: float = 1.5
    lexical_weight: float = 1.0
    # BM25 can only match versions in the query's language; its weight shrinks with the
    # share of procedures that exist in that language (cubed: 13 of 29 gives 0.09).
    lexical_language_exponent: float = 3.0
    dense_chunks_per_doc: int = 2
    # How many of a language's best chunks set its mean similarity (cross-lingual only).
    dense_offset_window: int = 20
    # Share of a chunk's hubness subtracted from its similarity (see retrieval.hubness).
    hubness_weight: float = 0.25
    hubness_neighbours: int = 10
    candidates: int = 40
    sections_per_doc: int = 2


@dataclass(frozen=True)
class _Fusion:
    """Per-document scores of one search and the orders derived from them."""

    fused: dict[str, float]
    ordered: list[str]
    best_possible: float
    dense_order: list[str]
    lexical_order: list[str]
    lexical_weight: float


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
        hubness: dict[str, float] | None = None,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self._preparer = preparer
        self._confidence = confidence
        self._config = config or FusionConfig()
        self._hubness = hubness or {}
        self._chunks = {c.chunk_id: c for c in chunks}
        self._lexical = LexicalIndex(chunks)
        self._versions: dict[str, dict[str, list[Chunk]]] = defaultdict(lambda: defaultdict(list))
        for chunk in chunks:
            if chunk.kind == "section":  # cards only help ranking; sections are shown
                self._versions[chunk.doc_id][chunk.lang].append(chunk)
        self._languages = sorted({c.lang for c in chunks})
        self._share = {
            language: sum(language in v for v in self._versions.values())
            / max(len(self._versions), 1)
            for language in self._languages
        }

    def detect_language(self, text: str) -> str:
        """The language retrieval would assume for ``text``."""
        return self._preparer.detect(text)

    def doc_ids(self) -> list[str]:
        return sorted(self._versions)

    def search(self, query: str, lang: str | None = None, k: int = 5) -> SearchResponse:
        """Ranked documents for ``query``; ``lang`` overrides language detection."""
        started = time.perf_counter()
        prepared = self._preparer.prepare(query, lang)
        cfg = self._config
        vector = self._embedder.embed_queries([prepared.dense])[0]
        dense_hits = {
            language: self._dehubbed(self._store.query(vector, cfg.candidates, language))
            for language in self._languages
        }
        lexical_hits = self._lexical.search(prepared.lexical, cfg.candidates * len(self._languages))
        coverage = self._lexical.coverage(prepared.lexical)

        dense_scores, dense_weight = self._dense_scores(dense_hits, prepared.lang)
        lexical_scores, lexical_weight = self._lexical_scores(lexical_hits, prepared.lang, coverage)
        fused = {
            d: dense_scores.get(d, 0.0) + lexical_scores.get(d, 0.0)
            for d in dense_scores.keys() | lexical_scores.keys()
        }
        fusion = _Fusion(
            fused=fused,
            ordered=order_by_score(fused),
            best_possible=(dense_weight + lexical_weight) / (cfg.rrf_k + 1),
            dense_order=order_by_score(dense_scores),
            lexical_order=order_by_score(lexical_scores),
            lexical_weight=lexical_weight,
        )
        ordered, best_possible = fusion.ordered, fusion.best_possible
        dense_order, lexical_order = fusion.dense_order, fusion.lexical_order
        signals = self._signals(fusion, dense_hits, coverage)
        top_confidence = self._confidence.score(signals) if signals else 0.0

        chunk_scores = self._chunk_scores(lexical_hits, dense_hits)
        results = []
        for position, doc_id in enumerate(ordered[:k]):
            ranks = {"dense": _rank(dense_order, doc_id), "lexical": _rank(lexical_order, doc_id)}
            # A lower-ranked document is never more certain than its share of the top score.
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
            trace={
                "lexical_candidates": len(lexical_hits),
                "dense_candidates": sum(len(h) for h in dense_hits.values()),
                "lexical_weight": round(lexical_weight, 4),
            },
        )

    def _dehubbed(self, hits: list[VectorHit]) -> list[VectorHit]:
        """Similarities less a share of each chunk's hubness, re-sorted."""
        weight = self._config.hubness_weight
        adjusted = [
            VectorHit(h.chunk_id, h.similarity - weight * self._hubness.get(h.chunk_id, 0.0))
            for h in hits
            if h.chunk_id in self._chunks
        ]
        return sorted(adjusted, key=lambda h: -h.similarity)

    def _language_share(self, lang: str) -> float:
        """Share of procedures that have a version in ``lang``."""
        return self._share.get(lang, 0.0)

    def _dense_scores(self, hits_by_lang, query_lang: str) -> tuple[dict[str, float], float]:
        """Dense evidence per document as a reciprocal rank, and its weight.

        In a language that has every procedure (vi, en), each language is ranked on its
        own and the user's language counts more. Otherwise (a French, German or Korean
        question) same-language similarities run high for whatever was translated, so
        each language's similarities are shifted by their own mean before one ranking.
        """
        cfg = self._config
        if self._language_share(query_lang) >= 1.0:
            rankings = {
                language: rank_documents(self._doc_scores(hits), cfg.dense_chunks_per_doc)
                for language, hits in hits_by_lang.items()
            }
            weights = {query_lang: cfg.own_language_weight}
            return best_reciprocal_rank(rankings, weights, cfg.rrf_k), cfg.own_language_weight
        shifted: dict[str, float] = {}
        for hits in hits_by_lang.values():
            if not hits:
                continue
            window = hits[: cfg.dense_offset_window]
            mean = sum(h.similarity for h in window) / len(window)
            ranked = rank_documents(
                self._doc_scores(hits, offset=mean), cfg.dense_chunks_per_doc, with_scores=True
            )
            for doc_id, score in ranked:
                shifted[doc_id] = max(shifted.get(doc_id, float("-inf")), score)
        ranking = order_by_score(shifted)
        return best_reciprocal_rank({"all": ranking}, {}, cfg.rrf_k), 1.0

    def _doc_scores(self, hits, offset: float = 0.0):
        return ((self._chunks[h.chunk_id].doc_id, h.similarity - offset) for h in hits)

    def _lexical_scores(
        self, hits, query_lang: str, coverage: float
    ) -> tuple[dict[str, float], float]:
        cfg = self._config
        weight = (
            cfg.lexical_weight
            * coverage
            * self._language_share(query_lang) ** cfg.lexical_language_exponent
        )
        if weight <= 0:
            return {}, 0.0
        by_lang: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for hit in hits:
            chunk = self._chunks[hit.chunk_id]
            by_lang[chunk.lang].append((chunk.doc_id, hit.score))
        rankings = {language: rank_documents(scored) for language, scored in by_lang.items()}
        scores = best_reciprocal_rank(rankings, {}, cfg.rrf_k)
        return {d: weight * s for d, s in scores.items()}, weight

    def _signals(self, fusion: _Fusion, dense_hits, coverage: float) -> Signals | None:
        ordered, fused, best_possible = fusion.ordered, fusion.fused, fusion.best_possible
        if not ordered:
            return None
        top = fused[ordered[0]]
        second = fused[ordered[1]] if len(ordered) > 1 else 0.0
        all_dense = sorted(
            (h for hs in dense_hits.values() for h in hs), key=lambda h: -h.similarity
        )
        dense_top = all_dense[0].similarity if all_dense else 0.0
        top_doc = self._chunks[all_dense[0].chunk_id].doc_id if all_dense else None
        other = next(
            (h.similarity for h in all_dense if self._chunks[h.chunk_id].doc_id != top_doc), 0.0
        )
        agreement = float(
            bool(fusion.dense_order and fusion.lexical_order)
            and fusion.lexical_weight > 0
            and fusion.dense_order[0] == fusion.lexical_order[0]
        )
        return Signals(
            fused=top / best_possible,
            margin=(top - second) / best_possible,
            dense_top=dense_top,
            dense_margin=dense_top - other if all_dense else 0.0,
            agreement=agreement,
            coverage=coverage,
        )

    def _chunk_scores(self, lexical_hits, dense_hits_by_lang) -> dict[str, float]:
        """Per-chunk RRF, used to pick the sections shown for each document."""
        k = self._config.rrf_k
        scores: dict[str, float] = defaultdict(float)
        for hits in dense_hits_by_lang.values():
            for rank, hit in enumerate(hits, start=1):
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


def _rank(order: list[str], doc_id: str) -> int | None:
    return order.index(doc_id) + 1 if doc_id in order else None

"""Reciprocal rank fusion at the level of document ids, language by language.

Each retriever ranks chunks. Within one language, a document is ranked by its best
chunks, so a procedure with many sections gets no extra votes. Across languages a
document keeps its best reciprocal rank: an English question is judged against the
English passages, a French question against French and English alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping


def rank_documents(
    scored_chunks: Iterable[tuple[str, float]], per_doc: int = 1, *, with_scores: bool = False
):
    """Document ids ordered by the sum of their ``per_doc`` best chunk scores."""
    scores: dict[str, list[float]] = defaultdict(list)
    for doc_id, score in scored_chunks:
        scores[doc_id].append(score)
    totals = {d: sum(sorted(s, reverse=True)[:per_doc]) for d, s in scores.items()}
    ordered = sorted(totals, key=lambda d: (-totals[d], d))
    return [(d, totals[d]) for d in ordered] if with_scores else ordered


def best_reciprocal_rank(
    rankings: Mapping[str, list[str]], weights: Mapping[str, float], k: float
) -> dict[str, float]:
    """For each document, max over languages of weight / (k + rank), ranks from 1."""
    out: dict[str, float] = {}
    for lang, ranking in rankings.items():
        weight = weights.get(lang, 1.0)
        for rank, doc_id in enumerate(ranking, start=1):
            out[doc_id] = max(out.get(doc_id, 0.0), weight / (k + rank))
    return out


def order_by_score(scores: Mapping[str, float]) -> list[str]:
    return sorted(scores, key=lambda d: (-scores[d], d))

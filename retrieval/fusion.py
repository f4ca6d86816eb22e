"""Weighted reciprocal rank fusion at the level of document ids.

Each retriever ranks chunks; a document takes the rank of its best chunk in that list
(across its language versions), so a procedure with many sections gets no extra votes.
A retriever's weight reflects how much it can know about this query: BM25 gets the share
of query words that exist in the corpus, so a question in Korean or German does not let
accidental lexical matches drag the dense ranking down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RankedList:
    """One retriever's document ids, best first, and its weight for this query."""

    name: str
    doc_ids: Sequence[str]
    weight: float


def doc_ranking(chunk_doc_ids: Iterable[str]) -> list[str]:
    """Document ids in order of their first (best) chunk."""
    seen: dict[str, None] = {}
    for doc_id in chunk_doc_ids:
        seen.setdefault(doc_id, None)
    return list(seen)


def reciprocal_rank_fusion(lists: Sequence[RankedList], k: float) -> dict[str, float]:
    """score(d) = Σ weight / (k + rank), ranks from 1."""
    scores: dict[str, float] = {}
    for ranked in lists:
        if ranked.weight <= 0:
            continue
        for rank, doc_id in enumerate(ranked.doc_ids, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + ranked.weight / (k + rank)
    return scores


def max_fused_score(lists: Sequence[RankedList], k: float) -> float:
    """The score of a document ranked first by every retriever."""
    return sum(r.weight for r in lists if r.weight > 0) / (k + 1)

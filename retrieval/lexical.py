"""BM25 (bm25s) over folded syllables and syllable pairs."""

from __future__ import annotations

from dataclasses import dataclass

import bm25s
import numpy as np

from retrieval.chunking import Chunk
from retrieval.textnorm import lexical_terms


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: str
    score: float


class LexicalIndex:
    """In-memory BM25 over chunk passages; rebuilt from the vector store in well under a second."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._ids = [c.chunk_id for c in chunks]
        # Term ids in compact arrays: lists of term strings for 20,000 chunks (syllables
        # and pairs) took about 350 MB; ids with one shared vocabulary take a tenth.
        self._vocabulary: dict[str, int] = {}
        corpus = []
        for chunk in chunks:
            terms = lexical_terms(chunk.passage) or ["\u2205"]
            corpus.append(
                np.fromiter(
                    (self._vocabulary.setdefault(t, len(self._vocabulary)) for t in terms),
                    dtype=np.int32,
                    count=len(terms),
                )
            )
        self._bm25 = bm25s.BM25()
        if corpus:
            self._bm25.index((corpus, self._vocabulary), show_progress=False)

    def coverage(self, query: str) -> float:
        """Share of the query's words that occur in the corpus at all (0 for a foreign script)."""
        terms = [t for t in lexical_terms(query) if "_" not in t]
        if not terms:
            return 0.0
        return sum(t in self._vocabulary for t in terms) / len(terms)

    def search(self, query: str, limit: int) -> list[LexicalHit]:
        """Chunks with a positive BM25 score, best first."""
        terms = [t for t in lexical_terms(query) if t in self._vocabulary]
        if not terms or not self._ids:
            return []
        docs, scores = self._bm25.retrieve(
            [terms], k=min(limit, len(self._ids)), show_progress=False, n_threads=1
        )
        return [
            LexicalHit(self._ids[int(i)], float(s))
            for i, s in zip(docs[0], scores[0], strict=True)
            if s > 0
        ]

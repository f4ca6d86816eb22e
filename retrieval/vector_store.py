"""The ChromaDB collection of chunk vectors: embedded by default, a server by URL.

We always pass our own vectors. Chroma's built-in embedding function would download a
model, so the collection is created and opened with ``embedding_function=None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from retrieval.chunking import Chunk

_WRITE_BATCH = 1000


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


class ChromaVectorStore:
    """Chunk vectors and their text/metadata in one cosine collection."""

    def __init__(self, client, collection_name: str, embedder_name: str) -> None:
        self._client = client
        self._name = collection_name
        self._embedder_name = embedder_name
        self._collection = client.get_or_create_collection(
            collection_name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedder": embedder_name},
        )

    @property
    def embedder_name(self) -> str:
        """The embedder the stored vectors came from."""
        return str((self._collection.metadata or {}).get("embedder", ""))

    def reset(self) -> None:
        """Drop every vector (used when the embedding model changes or on --rebuild)."""
        self._client.delete_collection(self._name)
        self._collection = self._client.get_or_create_collection(
            self._name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedder": self._embedder_name},
        )

    def count(self) -> int:
        return self._collection.count()

    def stored_ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), _WRITE_BATCH):
            part = chunks[start : start + _WRITE_BATCH]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + _WRITE_BATCH],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    def delete(self, chunk_ids: list[str]) -> None:
        for start in range(0, len(chunk_ids), _WRITE_BATCH):
            self._collection.delete(ids=chunk_ids[start : start + _WRITE_BATCH])

    def all_chunks(self) -> list[Chunk]:
        """Every stored chunk, in a stable order."""
        data = self._collection.get(include=["documents", "metadatas"])
        chunks = [
            Chunk.from_stored(text, meta)
            for text, meta in zip(data["documents"], data["metadatas"], strict=True)
        ]
        return sorted(chunks, key=lambda c: (c.doc_id, c.lang, c.position, c.chunk_id))

    def query(self, vector: np.ndarray, limit: int) -> list[VectorHit]:
        """Nearest chunks by cosine similarity, best first."""
        total = self.count()
        if total == 0:
            return []
        result = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=min(limit, total),
            include=["distances"],
        )
        return [
            VectorHit(chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

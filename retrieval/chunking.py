"""Cutting published documents into section chunks, each identified by its content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from knowledge.model import GuidanceDocument

# About 180 words: long enough for a whole short section, short enough for the 512-token
# e5 window and for a quick embedding on 2 cores.
MAX_CHUNK_CHARS = 1100
_SPLITTER = RecursiveCharacterTextSplitter(
    chunk_size=MAX_CHUNK_CHARS, chunk_overlap=120, separators=["\n\n", "\n- ", "\n", ". ", " "]
)


@dataclass(frozen=True)
class Chunk:
    """One indexed passage: a section (or part of one) of one language version."""

    doc_id: str
    lang: str
    title: str
    heading: str
    text: str
    source: str
    reviewed: str
    topics: str
    position: int

    @property
    def passage(self) -> str:
        """What gets embedded and lexically indexed: title, heading, then the text."""
        heading = f"\n{self.heading}" if self.heading and self.heading != self.title else ""
        return f"{self.title}{heading}\n{self.text}"

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256(f"{self.doc_id}\x1f{self.lang}\x1f{self.passage}".encode())
        return digest.hexdigest()[:20]

    @property
    def chunk_id(self) -> str:
        """Stable while the content is unchanged; a changed section gets a new id."""
        return f"{self.doc_id}/{self.lang}/{self.content_hash}"

    def metadata(self) -> dict[str, str | int]:
        return {
            "doc_id": self.doc_id,
            "lang": self.lang,
            "title": self.title,
            "heading": self.heading,
            "source": self.source,
            "reviewed": self.reviewed,
            "topics": self.topics,
            "position": self.position,
            "hash": self.content_hash,
        }

    @classmethod
    def from_stored(cls, text: str, metadata: dict) -> Chunk:
        return cls(
            doc_id=str(metadata["doc_id"]),
            lang=str(metadata["lang"]),
            title=str(metadata["title"]),
            heading=str(metadata.get("heading", "")),
            text=text,
            source=str(metadata.get("source", "")),
            reviewed=str(metadata.get("reviewed", "")),
            topics=str(metadata.get("topics", "")),
            position=int(metadata.get("position", 0)),
        )


def chunk_document(doc: GuidanceDocument) -> list[Chunk]:
    """The document's sections as chunks; the intro is prefixed with the summary."""
    chunks: list[Chunk] = []
    for section in doc.sections():
        heading = section.heading or doc.meta.title
        text = section.text
        if not section.heading and doc.meta.summary:
            text = f"{doc.meta.summary}\n{text}"
        for part in _SPLITTER.split_text(text):
            chunks.append(
                Chunk(
                    doc_id=doc.id,
                    lang=doc.lang,
                    title=doc.meta.title,
                    heading=heading,
                    text=part,
                    source=str(doc.meta.source),
                    reviewed=doc.meta.reviewed.isoformat(),
                    topics=",".join(doc.meta.topics),
                    position=len(chunks),
                )
            )
    return _unique(chunks)


def _unique(chunks: list[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out = []
    for chunk in chunks:
        if chunk.chunk_id not in seen:
            seen.add(chunk.chunk_id)
            out.append(chunk)
    return out


def chunk_documents(docs: list[GuidanceDocument]) -> list[Chunk]:
    """Chunks of the published documents only: a draft never reaches the index."""
    return [chunk for doc in docs if doc.is_published for chunk in chunk_document(doc)]

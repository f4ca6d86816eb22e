"""Turning what a user typed into the forms each retriever needs."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.abbreviations import AbbreviationList
from retrieval.diacritics import DiacriticRestorer
from retrieval.language import LanguageDetector


@dataclass(frozen=True)
class PreparedQuery:
    """``lexical`` feeds BM25 (folded later); ``dense`` feeds the embedding model."""

    original: str
    lexical: str
    dense: str
    lang: str
    restored: bool


class QueryPreparer:
    """Expands abbreviations, detects the language, restores Vietnamese diacritics."""

    def __init__(
        self,
        abbreviations: AbbreviationList,
        restorer: DiacriticRestorer,
        detector: LanguageDetector,
    ) -> None:
        self._abbreviations = abbreviations
        self._restorer = restorer
        self._detector = detector

    def detect(self, text: str) -> str:
        """The language ``prepare`` would assume, without expanding or restoring anything."""
        return self._detector.detect(" ".join(text.split())).lang

    def prepare(self, text: str, lang: str | None = None) -> PreparedQuery:
        text = " ".join(text.split())
        detection = self._detector.detect(text)
        language = lang or detection.lang
        if language != "vi" and not detection.without_diacritics:
            return PreparedQuery(text, text, text, language, restored=False)
        expanded = self._abbreviations.expand(text)
        dense = self._restorer.restore(expanded)
        return PreparedQuery(text, expanded, dense, language, restored=dense != expanded)

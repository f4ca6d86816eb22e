"""The knowledge base as content staff and the engine see it: documents plus missions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from consular.errors import DocumentNotFoundError
from knowledge.catalogue import coverage_problems, load_catalogue
from knowledge.loader import load_documents
from knowledge.missions import MissionDirectory, load_missions
from knowledge.model import GuidanceDocument
from knowledge.problems import Problem


@dataclass
class KnowledgeBase:
    """Validated documents and missions, and the problems met while loading them."""

    documents: list[GuidanceDocument]
    missions: MissionDirectory
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(
        cls, kb_dir: Path, missions_file: Path, catalogue_file: Path | None = None
    ) -> KnowledgeBase:
        """Load everything; problems are collected, never raised."""
        missions, mission_problems = load_missions(missions_file)
        result = load_documents(kb_dir, missions.ids if not mission_problems else None)
        kb = cls(result.documents, missions, mission_problems + result.problems)
        if catalogue_file and catalogue_file.is_file():
            catalogue = load_catalogue(catalogue_file)
            kb.problems.extend(
                coverage_problems(catalogue, kb.languages_by_id(), str(catalogue_file))
            )
        return kb

    def published(self) -> list[GuidanceDocument]:
        """Only what citizens may be answered from."""
        return [d for d in self.documents if d.is_published]

    def versions(self, doc_id: str) -> list[GuidanceDocument]:
        """Every language version of one id."""
        return [d for d in self.documents if d.id == doc_id]

    def get(self, doc_id: str, lang: str | None = None) -> GuidanceDocument:
        """One version; without ``lang``, English, else Vietnamese, else any."""
        versions = self.versions(doc_id)
        if lang:
            versions = [d for d in versions if d.lang == lang]
        if not versions:
            suffix = f" in '{lang}'" if lang else ""
            raise DocumentNotFoundError(f"No document '{doc_id}'{suffix} in the knowledge base.")
        order = {"en": 0, "vi": 1}
        return sorted(versions, key=lambda d: order.get(d.lang, 2))[0]

    def languages_by_id(self) -> dict[str, list[str]]:
        """id -> sorted language codes."""
        out: dict[str, list[str]] = defaultdict(list)
        for doc in self.documents:
            out[doc.id].append(doc.lang)
        return {k: sorted(v) for k, v in sorted(out.items())}

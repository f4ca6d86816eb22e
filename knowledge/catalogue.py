"""The catalogue of procedures the knowledge base must cover, and the languages each needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.problems import Problem


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    languages: tuple[str, ...]
    topic: str


def load_catalogue(path: Path) -> list[CatalogueEntry]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        CatalogueEntry(
            str(row["id"]), tuple(row.get("languages", ("vi", "en"))), str(row.get("topic", ""))
        )
        for row in data.get("procedures", [])
    ]


def coverage_problems(
    catalogue: list[CatalogueEntry], languages_by_id: dict[str, list[str]], source: str
) -> list[Problem]:
    """One problem per catalogue id that lacks a required language version."""
    problems = []
    for entry in catalogue:
        have = set(languages_by_id.get(entry.id, ()))
        missing = [lang for lang in entry.languages if lang not in have]
        if missing:
            problems.append(
                Problem(source, entry.id, f"missing language version(s): {', '.join(missing)}")
            )
    return problems

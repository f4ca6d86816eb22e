"""Loading guidance documents from disk, collecting every problem instead of stopping."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml
from pydantic import ValidationError

from knowledge.model import DocumentMeta, GuidanceDocument
from knowledge.problems import Problem, problems_from_validation
from knowledge.sections import split_body
from knowledge.text import tidy_markdown, to_nfc


@dataclass
class LoadResult:
    """Documents that loaded, and every problem found on the way."""

    documents: list[GuidanceDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_document(text: str, path: Path | str = "<text>") -> GuidanceDocument:
    """Parse one document's text; raises ``DocumentParseError`` listing its problems."""
    try:
        post = frontmatter.loads(to_nfc(text))
    except (yaml.YAMLError, ValueError) as exc:
        raise DocumentParseError(
            [Problem(str(path), "front matter", f"invalid YAML: {exc}")]
        ) from exc
    if not post.metadata:
        raise DocumentParseError(
            [Problem(str(path), "front matter", "missing (--- ... --- block)")]
        )
    try:
        meta = DocumentMeta.model_validate(post.metadata)
    except ValidationError as exc:
        raise DocumentParseError(problems_from_validation(path, exc)) from exc
    body, footer = split_body(tidy_markdown(post.content))
    doc = GuidanceDocument(meta=meta, body=body, footer=footer, path=Path(path))
    if not doc.sections():
        raise DocumentParseError([Problem(str(path), "body", "empty: the document has no text")])
    return doc


class DocumentParseError(ValueError):
    """A document file with one or more problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def iter_document_files(kb_dir: Path) -> Iterable[Path]:
    """``<kb_dir>/<lang>/<id>.md``, sorted for stable output."""
    return sorted(kb_dir.glob("*/*.md"))


def load_documents(kb_dir: Path, mission_ids: frozenset[str] | None = None) -> LoadResult:
    """Load every document under ``kb_dir``; a bad file is reported and skipped."""
    result = LoadResult()
    if not kb_dir.is_dir():
        result.problems.append(Problem(str(kb_dir), "", "knowledge-base folder not found"))
        return result
    seen: dict[tuple[str, str], Path] = {}
    for path in iter_document_files(kb_dir):
        try:
            doc = parse_document(path.read_text(encoding="utf-8"), path)
        except UnicodeDecodeError:
            result.problems.append(Problem(str(path), "", "not UTF-8 text"))
            continue
        except DocumentParseError as exc:
            result.problems.extend(exc.problems)
            continue
        file_problems = _placement_problems(doc, path, seen, mission_ids)
        if file_problems:
            result.problems.extend(file_problems)
            continue
        seen[doc.key] = path
        result.documents.append(doc)
    return result


def _placement_problems(
    doc: GuidanceDocument,
    path: Path,
    seen: dict[tuple[str, str], Path],
    mission_ids: frozenset[str] | None,
) -> list[Problem]:
    problems = []
    if doc.id != path.stem:
        problems.append(
            Problem(str(path), "id", f"'{doc.id}' differs from the file name '{path.stem}'")
        )
    if doc.lang != path.parent.name:
        problems.append(
            Problem(str(path), "lang", f"'{doc.lang}' differs from the folder '{path.parent.name}'")
        )
    if doc.key in seen:
        problems.append(Problem(str(path), "id", f"duplicate of {seen[doc.key]}"))
    if mission_ids is not None and doc.meta.missions != "all":
        unknown = sorted(set(doc.meta.missions) - mission_ids)
        if unknown:
            problems.append(Problem(str(path), "missions", f"unknown mission id(s) {unknown}"))
    return problems

"""Reading a revision's Markdown: validation problems, title, status, review date, diff.

A draft may be anything an editor typed; these helpers never raise on bad text, they
report what is wrong so that the editor can fix all of it at once.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from datetime import date, datetime

import frontmatter
import yaml

from knowledge.content_store import DiffRow
from knowledge.loader import DocumentParseError, parse_document
from knowledge.model import DOC_ID_PATTERN, LANG_PATTERN, GuidanceDocument, Status
from knowledge.problems import Problem

# The longest document text kept (a converted upload included): guidance is read on a
# phone, and the editor must be able to send it back whole.
MAX_DOCUMENT_CHARS = 200_000


def key_problems(doc_id: str, lang: str) -> list[str]:
    """Problems with a document's id or language code themselves."""
    problems = []
    if not re.match(DOC_ID_PATTERN, doc_id or "") or len(doc_id) > 80:
        problems.append(
            "id: use lower-case letters, digits and single hyphens, e.g. 'passport-renewal'"
        )
    if not re.match(LANG_PATTERN, lang or ""):
        problems.append("lang: use a two-letter ISO 639-1 code, e.g. 'vi' or 'en'")
    return problems


def _problem_text(problem: Problem) -> str:
    return f"{problem.field}: {problem.message}" if problem.field else problem.message


def parse(markdown: str) -> tuple[GuidanceDocument | None, list[str]]:
    """The parsed document, or None and every problem found."""
    try:
        return parse_document(markdown, "<revision>"), []
    except DocumentParseError as exc:
        return None, [_problem_text(p) for p in exc.problems]


def validate(
    markdown: str, doc_id: str, lang: str, mission_ids: frozenset[str] | None
) -> tuple[GuidanceDocument | None, list[str]]:
    """Parse, then check that the text belongs to ``doc_id``/``lang`` and its missions exist."""
    doc, problems = parse(markdown)
    if doc is None:
        return None, problems
    if doc.id != doc_id:
        problems.append(f"id: '{doc.id}' differs from the document's id '{doc_id}'")
    if doc.lang != lang:
        problems.append(f"lang: '{doc.lang}' differs from the document's language '{lang}'")
    if mission_ids is not None and doc.meta.missions != "all":
        unknown = sorted(set(doc.meta.missions) - mission_ids)
        if unknown:
            problems.append(f"missions: unknown mission id(s) {unknown}")
    return (None, problems) if problems else (doc, [])


def _front_matter(markdown: str) -> dict[str, object]:
    """The front matter as loosely as it can be read (an incomplete draft has some)."""
    try:
        metadata = frontmatter.loads(markdown).metadata
    except (yaml.YAMLError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def title_of(markdown: str, fallback: str) -> str:
    """The front matter's title, or ``fallback`` when there is none."""
    title = _front_matter(markdown).get("title")
    return str(title).strip()[:200] if isinstance(title, str) and title.strip() else fallback


def status_of(markdown: str) -> str:
    """The front matter's ``status`` (draft, published or retired); draft when unreadable."""
    value = str(_front_matter(markdown).get("status", "")).strip().lower()
    return value if value in {s.value for s in Status} else Status.DRAFT.value


def reviewed_of(markdown: str) -> date | None:
    """The front matter's ``reviewed`` date, if it is one."""
    value = _front_matter(markdown).get("reviewed")
    if isinstance(value, datetime):
        return value.date()  # YAML reads "2024-01-01 00:00:00" as a datetime
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def as_published(doc: GuidanceDocument) -> GuidanceDocument:
    """The document as citizens get it: the workflow, not the front matter, decides."""
    meta = doc.meta.model_copy(update={"status": Status.PUBLISHED})
    return GuidanceDocument(meta=meta, body=doc.body, footer=doc.footer, path=None)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Line rows of two texts: unchanged, changed (paired), removed and added lines."""
    left, right = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("same", i + 1, left[i], j + 1, right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        rows.extend(
            DiffRow("changed", i1 + k + 1, left[i1 + k], j1 + k + 1, right[j1 + k])
            for k in range(paired)
        )
        rows.extend(DiffRow("removed", i + 1, left[i], None, "") for i in range(i1 + paired, i2))
        rows.extend(DiffRow("added", None, "", j + 1, right[j]) for j in range(j1 + paired, j2))
    return rows

"""Converting the formats ministries publish (Markdown, HTML, PDF, DOCX) into guidance documents.

Libraries, and why: markdownify turns HTML into Markdown and keeps headings as ``#``
lines; mammoth maps Word heading styles to ``<h1>``..``<h6>`` so DOCX goes through the
HTML path; pdfplumber exposes each word's font size, from which headings are recognised
(PDF has no heading markup).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup
from markdownify import markdownify
from pydantic import ValidationError

from consular.errors import IngestionError
from knowledge.model import DocumentMeta, GuidanceDocument
from knowledge.problems import problems_from_validation
from knowledge.sections import split_body
from knowledge.text import tidy_markdown, to_nfc

SUPPORTED_SUFFIXES = {".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
_NOISE_TAGS = ["script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe"]
_THEMATIC_BREAK = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE)


def convert_to_markdown(path: Path) -> str:
    """Markdown text of a file, headings kept, NFC-normalised."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestionError(
            f"{path.name}: unsupported file type '{suffix}'; use Markdown, HTML, PDF or DOCX."
        )
    try:
        if suffix in {".md", ".markdown"}:
            text = path.read_text(encoding="utf-8")
        elif suffix in {".html", ".htm"}:
            text = html_to_markdown(path.read_bytes().decode("utf-8", errors="replace"))
        elif suffix == ".docx":
            text = docx_to_markdown(path)
        else:
            text = pdf_to_markdown(path)
    except IngestionError:
        raise
    except Exception as exc:  # a corrupt file surfaces as many library-specific errors
        raise IngestionError(
            f"{path.name}: the file could not be read ({type(exc).__name__})."
        ) from exc
    return tidy_markdown(text)


def html_to_markdown(html: str) -> str:
    """The page's main content as Markdown with ATX headings."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_NOISE_TAGS):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    markdown = markdownify(str(root), heading_style="ATX", bullets="-", strip=["img"])
    return tidy_markdown(markdown)


def docx_to_markdown(path: Path) -> str:
    """Word document → HTML (headings from styles) → Markdown."""
    import mammoth

    with path.open("rb") as handle:
        result = mammoth.convert_to_html(handle)
    return html_to_markdown(result.value)


def pdf_to_markdown(path: Path) -> str:
    """Text of a PDF; lines set in a font clearly larger than the body become headings."""
    import pdfplumber

    lines: list[tuple[float, str, bool]] = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
            lines.extend(_group_words_into_lines(words))
    if not lines:
        raise IngestionError(f"{path.name}: no text found (a scanned PDF needs OCR first).")
    body_size = _body_font_size(lines)
    heading_sizes = sorted(
        {round(s, 1) for s, _, _ in lines if s >= body_size * 1.15}, reverse=True
    )
    out: list[str] = []
    for size, text, bold in lines:
        level = _heading_level(size, bold, text, heading_sizes)
        if level:
            out.extend(["", "#" * level + " " + text, ""])
        else:
            out.append(text)
    return _join_paragraphs(out)


def _body_font_size(lines: list[tuple[float, str, bool]]) -> float:
    """The size that sets the most characters: headings are rarer than body text."""
    weight: Counter[float] = Counter()
    for size, text, _ in lines:
        weight[round(size, 1)] += len(text)
    return weight.most_common(1)[0][0]


def _group_words_into_lines(words: list[dict[str, Any]]) -> list[tuple[float, str, bool]]:
    lines: list[tuple[float, str, bool]] = []
    current: list[dict[str, Any]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if current and abs(word["top"] - current[-1]["top"]) > 2:
            lines.append(_line(current))
            current = []
        current.append(word)
    if current:
        lines.append(_line(current))
    return lines


def _line(words: list[dict[str, Any]]) -> tuple[float, str, bool]:
    size = max(w["size"] for w in words)
    bold = all("bold" in w["fontname"].lower() for w in words)
    return size, " ".join(w["text"] for w in words), bold


def _heading_level(size: float, bold: bool, text: str, heading_sizes: list[float]) -> int:
    if len(text.split()) > 14 or text.endswith((".", ",", ";")):
        return 0
    rounded = round(size, 1)
    if rounded in heading_sizes:
        return min(heading_sizes.index(rounded) + 1, 3)
    return 0


def _join_paragraphs(lines: list[str]) -> str:
    """Join wrapped lines; headings, list items and blank lines break paragraphs."""
    out: list[str] = []
    for line in lines:
        starts_block = (
            not line or line.startswith(("#", "- ", "• ", "* ")) or re.match(r"^\d+[.)] ", line)
        )
        if out and out[-1] and not out[-1].startswith("#") and not starts_block and line:
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line.replace("• ", "- ", 1) if line.startswith("• ") else line)
    return "\n".join(out)


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata from ``<file>.yaml`` or ``<file>.meta.yaml`` beside the file, if present."""
    for candidate in (
        path.with_suffix(path.suffix + ".yaml"),
        path.with_suffix(".meta.yaml"),
        path.with_suffix(".yaml"),
    ):
        if candidate.is_file() and candidate != path:
            data = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise IngestionError(f"{candidate.name}: the sidecar must be a YAML mapping.")
            return data
    return {}


def import_file(path: Path, overrides: Mapping[str, Any] | None = None) -> GuidanceDocument:
    """Convert one file into a document; metadata from front matter, sidecar, then ``overrides``.

    Imported documents default to ``draft``: nothing reaches citizens before review.
    """
    from knowledge.loader import DocumentParseError, parse_document

    if not path.is_file():
        raise IngestionError(f"{path}: file not found.")
    markdown = convert_to_markdown(path)
    embedded: dict[str, Any] = {}
    if path.suffix.lower() in {".md", ".markdown"} and markdown.startswith("---"):
        try:
            doc = parse_document(markdown, path)
            embedded, markdown = doc.meta.model_dump(mode="json", exclude_none=True), doc.body
        except DocumentParseError:
            import frontmatter

            try:
                post = frontmatter.loads(markdown)
            except (yaml.YAMLError, ValueError) as exc:
                raise IngestionError(
                    f"{path.name}: the front matter (between the --- lines) is not valid YAML."
                ) from exc
            embedded, markdown = dict(post.metadata), post.content
    metadata: dict[str, Any] = {"status": "draft", **embedded, **read_sidecar(path)}
    metadata.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        meta = DocumentMeta.model_validate(metadata)
    except ValidationError as exc:
        details = "; ".join(str(p) for p in problems_from_validation(path.name, exc))
        raise IngestionError(f"Missing or invalid metadata: {details}") from exc
    # A thematic break in the converted text would read as the start of the footer.
    body, _ = split_body(_THEMATIC_BREAK.sub("", to_nfc(markdown)).strip() + "\n")
    return GuidanceDocument(meta=meta, body=tidy_markdown(body).strip(), path=None)


def write_document(doc: GuidanceDocument, kb_dir: Path, *, overwrite: bool = False) -> Path:
    """Store a document at ``<kb_dir>/<lang>/<id>.md``."""
    target = kb_dir / doc.lang / f"{doc.id}.md"
    if target.exists() and not overwrite:
        raise IngestionError(f"{target} already exists; pass --overwrite to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(doc.to_markdown(), encoding="utf-8")
    return target

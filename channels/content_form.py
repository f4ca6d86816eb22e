"""The content editor's form: a document's text split into front-matter fields and body,
put back together, and the body's Markdown preview."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from typing import Any

import frontmatter
import yaml
from markdown_it import MarkdownIt

from knowledge.model import TOPICS

# The order fields are written in, as in knowledge/FORMAT.md.
FIELD_ORDER = ("id", "lang", "title", "topics", "missions", "source", "reviewed", "status")
TOPIC_CHOICES = tuple(sorted(TOPICS))
# Values written without quotes: ids, language codes, topics, statuses.
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def split_markdown(markdown: str) -> tuple[dict[str, Any], str]:
    """Front matter (as form values) and the body; unreadable front matter gives no fields
    and the whole text as body, so that nothing an editor wrote is lost."""
    try:
        post = frontmatter.loads(markdown)
    except (yaml.YAMLError, ValueError):
        return {}, markdown
    return _form_values(dict(post.metadata)), post.content.strip() + "\n"


def _form_values(meta: dict[str, Any]) -> dict[str, Any]:
    values = {key: value for key, value in meta.items() if value is not None}
    topics = values.get("topics")
    values["topics"] = [str(t) for t in topics] if isinstance(topics, list | tuple) else []
    missions = values.get("missions", "all")
    if isinstance(missions, list | tuple):
        values["missions"] = ", ".join(str(m) for m in missions)
    if isinstance(values.get("reviewed"), dt.date):
        values["reviewed"] = values["reviewed"].isoformat()
    return {key: value if key == "topics" else str(value) for key, value in values.items()}


def compose_markdown(fields: dict[str, Any], body: str) -> str:
    """The on-disk format from the form, written as knowledge/FORMAT.md shows it (so that
    saving a file's text unchanged changes nothing in the diff). Blank fields are left
    out: a draft may be incomplete, and submitting it lists what is missing."""
    lines = []
    for key in (*FIELD_ORDER, "summary"):
        value = fields.get(key)
        if key == "topics":
            if value:
                lines.append(f"topics: {_flow_list(value)}")
        elif key == "missions":
            missions = _missions(str(value or ""))
            lines.append(f"missions: {missions if missions == 'all' else _flow_list(missions)}")
        elif isinstance(value, str) and value.strip():
            lines.append(f"{key}: {_scalar(key, value.strip())}")
    front = "\n".join(lines)
    return f"---\n{front}\n---\n\n{body.strip()}\n"


def _scalar(key: str, value: str) -> str:
    if key in ("title", "source", "summary"):
        # A JSON string is a YAML double-quoted scalar: any character is safe in it.
        return json.dumps(value, ensure_ascii=False)
    if key == "reviewed" and _is_date(value):
        return value  # unquoted: YAML reads it as a date
    return value if _SLUG.fullmatch(value) else json.dumps(value, ensure_ascii=False)


def _flow_list(values: Any) -> str:
    items = [str(v) if _SLUG.fullmatch(str(v)) else json.dumps(str(v)) for v in values]
    return f"[{', '.join(items)}]"


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _missions(text: str) -> str | list[str]:
    ids = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    return "all" if not ids or ids == ["all"] else ids


@cache
def _renderer() -> MarkdownIt:
    # CommonMark without raw HTML: markup typed into the body is escaped, and links with
    # javascript: or data: targets are refused, so the preview is safe to insert.
    return MarkdownIt("commonmark", {"html": False})


def render_preview(body: str) -> str:
    """The body as the HTML the editor previews."""
    return _renderer().render(body)

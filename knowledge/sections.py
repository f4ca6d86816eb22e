"""Splitting a Markdown body into titled sections (and off its disclaimer footer)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
# The footer is whatever follows the last thematic break that stands alone on its line.
_FOOTER_BREAK = re.compile(r"\n[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*\n")


@dataclass(frozen=True)
class Section:
    """A part of a document under one heading path ("Fee", "Visa > Fee", or "" for the intro)."""

    heading: str
    text: str

    @property
    def title(self) -> str:
        """The innermost heading."""
        return self.heading.rsplit(" > ", 1)[-1]


def split_body(markdown: str) -> tuple[str, str]:
    """Separate the body from the footer placed after a final ``---`` line."""
    matches = list(_FOOTER_BREAK.finditer("\n" + markdown))
    if not matches:
        return markdown.strip(), ""
    last = matches[-1]
    body = ("\n" + markdown)[: last.start()].strip()
    footer = ("\n" + markdown)[last.end() :].strip()
    if not body:
        return markdown.strip(), ""
    return body, footer


def split_sections(body: str) -> list[Section]:
    """Split on #, ## and ### headings; code blocks and text before any heading are kept."""
    splitter = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
    sections = []
    for part in splitter.split_text(body):
        heading = " > ".join(part.metadata[key] for _, key in _HEADERS if key in part.metadata)
        # The splitter rejoins lines with Markdown hard breaks ("  \n"); plain newlines read better.
        text = part.page_content.replace("  \n", "\n").strip()
        if text:
            sections.append(Section(heading=heading, text=text))
    return sections

"""Replies as Telegram HTML messages: everything escaped, sources as links, split under 4,096.

Telegram counts a message's length in UTF-16 code units after entity parsing; measuring
the HTML source in UTF-16 units is therefore on the safe side. Splits fall on paragraph,
then line, then word boundaries, and never inside a tag or an entity.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from bot.composer import Citation, Messages
from bot.engine import Reply
from channels.telegram_texts import text as ui_text

MESSAGE_LIMIT = 4096
# A title longer than this is shortened, so that one source line always fits a message.
_TITLE_MAX = 300
_SEPARATORS = ("\n\n", "\n", " ")


def utf16_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def _escaped_length(value: str) -> int:
    return utf16_length(html.escape(value, quote=False))


def split_text(
    value: str, limit: int = MESSAGE_LIMIT, size: Callable[[str], int] = utf16_length
) -> list[str]:
    """``value`` cut into pieces of at most ``limit`` (by ``size``), at the largest boundary."""
    value = value.strip()
    if not value:
        return []
    if size(value) <= limit:
        return [value]
    for separator in _SEPARATORS:
        if separator in value:
            return _pack(value.split(separator), separator, limit, size)
    return _hard_cut(value, limit, size)


def _pack(
    parts: Sequence[str], separator: str, limit: int, size: Callable[[str], int]
) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in (p for p in parts if p.strip()):
        candidate = f"{current}{separator}{part}" if current else part
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current.strip())
        pieces = split_text(part, limit, size)
        chunks.extend(pieces[:-1])
        current = pieces[-1]
    if current.strip():
        chunks.append(current.strip())
    return chunks


def _hard_cut(value: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """A run without spaces (a very long URL): cut by characters."""
    chunks = []
    while value:
        end = min(len(value), limit)
        while size(value[:end]) > limit:
            end -= max(1, (size(value[:end]) - limit) // 2)
        chunks.append(value[:end])
        value = value[end:]
    return chunks


def _pack_units(units: Sequence[str], limit: int) -> list[str]:
    """Join ready HTML units (each within the limit) into as few messages as fit."""
    messages: list[str] = []
    for unit in units:
        if messages and utf16_length(messages[-1]) + 2 + utf16_length(unit) <= limit:
            messages[-1] += "\n\n" + unit
        else:
            messages.append(unit)
    return messages


def escaped_pieces(value: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain text (an officer's reply, a fixed sentence) as escaped HTML messages."""
    return [html.escape(p, quote=False) for p in split_text(value, limit, _escaped_length)]


def source_line(citation: Citation, lang: str) -> str:
    title = (
        citation.title if len(citation.title) <= _TITLE_MAX else citation.title[:_TITLE_MAX] + "…"
    )
    link = f'<a href="{html.escape(citation.source, quote=True)}">{html.escape(title)}</a>'
    reviewed = html.escape(ui_text(lang, "reviewed", reviewed=citation.reviewed))
    return f"• {link} ({reviewed})"


def sources_block(citations: Sequence[Citation], lang: str) -> str:
    lines = [f"<b>{html.escape(ui_text(lang, 'sources'))}</b>"]
    lines += [source_line(c, lang) for c in citations]
    return "\n".join(lines)


def _without_source_lines(reply: Reply, messages: Messages) -> str:
    """The reply text less the engine's plain "Source: …" lines, shown as links instead."""
    plain = {
        messages.get(reply.language, "source", title=c.title, url=c.source, reviewed=c.reviewed)
        for c in reply.citations
    }
    paragraphs = [p for p in reply.text.split("\n\n") if p.strip() not in plain]
    return "\n\n".join(paragraphs)


def format_reply(reply: Reply, messages: Messages, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The assistant's reply as HTML messages: the text, then its sources."""
    units = escaped_pieces(_without_source_lines(reply, messages), limit)
    if reply.citations:
        block = sources_block(reply.citations, reply.language)
        if utf16_length(block) <= limit:
            units.append(block)
        else:
            units += [source_line(c, reply.language) for c in reply.citations]
    return _pack_units(units, limit)

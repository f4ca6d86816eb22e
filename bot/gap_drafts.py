"""Guidance drafts started from the knowledge-gaps report or from an officer's reply.

Both produce the whole on-disk format (knowledge/FORMAT.md) for
``ContentWorkflow.save_draft``. A draft may be incomplete: the source and the review
date are left for the editor, who fills them before submitting it for review.
"""

from __future__ import annotations

import json
import re
import unicodedata

from bot.redaction import redact

TITLE_MAX = 120
_SLUG_WORDS = 6
_SLUG_MAX = 60
_DISCLAIMER_LINE = "---"

# The standard section headings by language (knowledge/FORMAT.md); English otherwise.
HEADINGS = {
    "en": (
        "Who this is for",
        "Documents to bring",
        "Where and how to apply",
        "Processing time",
        "Fee",
        "Legal basis",
        "When to contact an officer",
        "Common questions",
    ),
    "vi": (
        "Ai cần làm thủ tục này",
        "Giấy tờ cần chuẩn bị",
        "Nộp hồ sơ ở đâu và như thế nào",
        "Thời gian giải quyết",
        "Lệ phí",
        "Cơ sở pháp lý",
        "Khi nào cần liên hệ cán bộ lãnh sự",
        "Câu hỏi thường gặp",
    ),
    "fr": (
        "À qui s'adresse cette démarche",
        "Documents à fournir",
        "Où et comment déposer la demande",
        "Délai de traitement",
        "Frais",
        "Base juridique",
        "Quand contacter un agent consulaire",
        "Questions fréquentes",
    ),
}
DISCLAIMERS = {
    "en": "_Note: check this guidance against the official pages of the Ministry of Foreign "
    "Affairs and of the mission before relying on it._",
    "vi": "_Lưu ý: cần đối chiếu với trang thông tin chính thức của Bộ Ngoại giao và của cơ "
    "quan đại diện trước khi sử dụng._",
    "fr": "_Remarque : vérifiez ces informations auprès des pages officielles du ministère "
    "des Affaires étrangères et de la représentation diplomatique avant de vous y fier._",
}
# What the editor still has to write; English, because it is meant for staff only.
TO_WRITE = "(To write.)"
ANSWER_TO_WRITE = "(Answer to write.)"


def headings(lang: str) -> tuple[str, ...]:
    return HEADINGS.get(lang, HEADINGS["en"])


def slug(text: str) -> str:
    """A document id from a question: ASCII, lower case, a few words, hyphenated."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)[:_SLUG_WORDS]
    joined = "-".join(words)[:_SLUG_MAX].strip("-")
    return joined or "new-guidance"


def title_from(question: str) -> str:
    """A title from the group's typical question: one line, at most TITLE_MAX characters."""
    line = " ".join(redact(question).split())
    if len(line) <= TITLE_MAX:
        return line
    return line[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"


def front_matter(doc_id: str, lang: str, title: str, topics: list[str]) -> str:
    """Front matter of a new draft; ``source`` and ``reviewed`` are left for the editor."""
    # JSON strings are valid YAML double-quoted scalars: quotes and colons stay safe.
    quoted_title = json.dumps(title, ensure_ascii=False)
    return (
        "---\n"
        f"id: {doc_id}\n"
        f"lang: {lang}\n"
        f"title: {quoted_title}\n"
        f"topics: [{', '.join(topics)}]\n"
        "missions: all\n"
        "source: \n"
        "reviewed: \n"
        "status: draft\n"
        "---\n"
    )


# Lines of an officer's reply that Markdown (or this module) would read as structure: a
# heading, a thematic break / the disclaimer separator, a setext underline.
_STRUCTURE_LINE = re.compile(r"^ {0,3}(#|(?:[-*_=] *){3,}$)")


def escape_structure(text: str) -> str:
    """``text`` with a backslash before each line that would become a heading, a ``---``
    (taken for the disclaimer separator) or a setext underline: the reply stays text
    inside its entry and cannot end "Common questions" or move the disclaimer. The first
    line follows the bold question, so it is never at the start of a line."""
    first, *rest = text.split("\n")
    escaped = ["\\" + line.lstrip(" ") if _STRUCTURE_LINE.match(line) else line for line in rest]
    return "\n".join([first, *escaped])


def common_questions(questions: list[str], answer: str = ANSWER_TO_WRITE) -> str:
    """The "Common questions" entries: each question in bold, then its answer."""
    entries = []
    for question in questions:
        line = " ".join(redact(question).split()).replace("**", "")
        entries.append(f"**{line}** {escape_structure(redact(answer))}")
    return "\n\n".join(entries)


def gap_markdown(
    doc_id: str,
    lang: str,
    title: str,
    questions: list[str],
    *,
    topics: list[str],
    closest: list[str],
) -> str:
    """A new document for a group of unanswered questions: the standard sections, and the
    questions under "Common questions". ``closest``: titles of the nearest guidance."""
    names = headings(lang)
    intro = TO_WRITE
    if closest:
        intro += " Closest published guidance: " + "; ".join(closest) + "."
    sections = [f"## {name}\n\n{TO_WRITE}" for name in names[:-1]]
    sections.append(f"## {names[-1]}\n\n{common_questions(questions)}")
    body = "\n\n".join([intro, *sections])
    disclaimer = DISCLAIMERS.get(lang, DISCLAIMERS["en"])
    return f"{front_matter(doc_id, lang, title, topics)}\n{body}\n\n{_DISCLAIMER_LINE}\n\n{disclaimer}\n"


def with_common_question(markdown: str, lang: str, question: str, answer: str) -> str:
    """``markdown`` (a whole document) with one more entry under "Common questions",
    the section added before the disclaimer when the document has none."""
    entry = common_questions([question], answer)
    lines = markdown.rstrip("\n").split("\n")
    body_start = _body_start(lines)
    disclaimer = _disclaimer_index(lines, body_start)
    end = disclaimer if disclaimer is not None else len(lines)
    heading = _common_questions_heading(lines, body_start, end, lang)
    if heading is None:
        insert = [f"## {headings(lang)[-1]}", "", entry]
        position = end
    else:
        position = next(
            (i for i in range(heading + 1, end) if lines[i].startswith(("# ", "## "))), end
        )
        insert = [entry]
    head, tail = lines[:position], lines[position:]
    # One blank line on each side of the entry, whatever the spacing was.
    while len(head) > body_start and not head[-1].strip():
        head.pop()
    while tail and not tail[0].strip():
        tail.pop(0)
    updated = [*head, "", *insert, *([""] + tail if tail else [])]
    return "\n".join(updated).rstrip("\n") + "\n"


def _body_start(lines: list[str]) -> int:
    """The index after the front matter's closing ``---`` (0 when there is none)."""
    if not lines or lines[0].strip() != "---":
        return 0
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    return closing + 1 if closing is not None else 0


def _disclaimer_index(lines: list[str], start: int) -> int | None:
    """The last ``---`` line of the body: the disclaimer follows it."""
    found = [i for i in range(start, len(lines)) if lines[i].strip() == _DISCLAIMER_LINE]
    return found[-1] if found else None


def _common_questions_heading(lines: list[str], start: int, end: int, lang: str) -> int | None:
    names = {headings(lang)[-1].casefold(), HEADINGS["en"][-1].casefold()}
    for i in range(start, end):
        if lines[i].startswith("## ") and lines[i][3:].strip().casefold() in names:
            return i
    return None


def officer_reply_markdown(
    doc_id: str, lang: str, question: str, reply: str, *, topics: list[str]
) -> str:
    """A new document from an officer's answer, when the conversation cited no guidance."""
    title = title_from(question)
    draft = gap_markdown(doc_id, lang, title, [], topics=topics, closest=[])
    return with_common_question(draft, lang, question, reply)

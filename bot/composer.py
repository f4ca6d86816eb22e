"""Composing replies: grounded answers from document sections, and the assistant's own messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.intents import heading_intent, question_intents
from knowledge.missions import Mission
from knowledge.model import GuidanceDocument

DEFAULT_MESSAGES = Path(__file__).with_name("messages.yaml")
MAX_SECTION_CHARS = 700
MAX_SECTIONS = 2


@dataclass(frozen=True)
class Citation:
    doc_id: str
    lang: str
    title: str
    source: str
    reviewed: str

    @classmethod
    def of(cls, doc: GuidanceDocument) -> Citation:
        return cls(
            doc.id, doc.lang, doc.meta.title, str(doc.meta.source), doc.meta.reviewed.isoformat()
        )


class Messages:
    """The assistant's fixed sentences in each language (``bot/messages.yaml``)."""

    def __init__(self, table: dict[str, dict[str, str]]) -> None:
        self._table = table

    @classmethod
    def load(cls, path: Path = DEFAULT_MESSAGES) -> Messages:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._table)

    def reply_language(self, lang: str) -> str:
        """The language the assistant can write its own sentences in: ``lang`` or English."""
        return lang if lang in self._table else "en"

    def get(self, lang: str, key: str, **values: str) -> str:
        template = self._table.get(lang, {}).get(key) or self._table["en"][key]
        return template.format(**values)

    def language_name(self, lang: str) -> str:
        return self._table.get(lang, {}).get("language_name", lang)


def _trim(text: str, limit: int = MAX_SECTION_CHARS) -> str:
    """Cut at a line or sentence end before ``limit`` so a chat message stays readable."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = max(text.rfind("\n", 0, limit), text.rfind(". ", 0, limit))
    return (text[: cut + 1] if cut > limit // 2 else text[:limit]).rstrip() + " …"


def pick_sections(question: str, doc: GuidanceDocument, retrieved_headings: list[str]):
    """Sections answering what the question asks (fee, documents...), else the retrieved ones."""
    sections = [s for s in doc.sections() if s.heading]
    chosen = []
    for intent in question_intents(question):
        match = next((s for s in sections if heading_intent(s.title) == intent), None)
        if match and match not in chosen:
            chosen.append(match)
        if len(chosen) == MAX_SECTIONS:
            break
    if not chosen:
        by_heading = {s.heading: s for s in sections}
        chosen = [by_heading[h] for h in retrieved_headings if h in by_heading][:MAX_SECTIONS]
    if not chosen:
        chosen = doc.sections()[:1]
    return chosen


class AnswerComposer:
    """Builds the text of a grounded answer; no language model involved."""

    def __init__(self, messages: Messages) -> None:
        self.messages = messages

    def answer(
        self,
        question: str,
        doc: GuidanceDocument,
        user_lang: str,
        retrieved_headings: list[str],
        mission: Mission | None = None,
    ) -> str:
        lang = self.messages.reply_language(user_lang)
        parts = [f"**{doc.meta.title}**"]
        if doc.lang != user_lang:
            parts.append(
                self.messages.get(
                    lang,
                    "not_in_language",
                    language=self.messages.language_name(user_lang),
                    doc_language=self.messages.language_name(doc.lang),
                )
            )
        for section in pick_sections(question, doc, retrieved_headings):
            heading = section.title or doc.meta.title
            parts.append(f"{heading}:\n{_trim(section.text)}")
        if mission:
            parts.append(self.mission_details(mission, lang))
        parts.append(self.source_line(Citation.of(doc), lang))
        return "\n\n".join(parts)

    def source_line(self, citation: Citation, lang: str) -> str:
        return self.messages.get(
            lang, "source", title=citation.title, url=citation.source, reviewed=citation.reviewed
        )

    def mission_details(self, mission: Mission, lang: str) -> str:
        text = self.messages.get(
            lang,
            "mission",
            name=mission.name.get(lang),
            address=mission.address,
            phone=mission.phone,
            hotline=mission.emergency_hotline,
        )
        if mission.email:
            text += " " + self.messages.get(lang, "mission_email", email=str(mission.email))
        return text + " " + self.messages.get(lang, "mission_website", website=str(mission.website))

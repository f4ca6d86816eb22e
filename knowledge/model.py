"""The guidance document model and its validation rules."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from knowledge.sections import Section, split_body, split_sections

DOC_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
LANG_PATTERN = r"^[a-z]{2}$"

TOPICS = frozenset(
    {
        "passport",
        "travel-document",
        "civil-status",
        "nationality",
        "legalization",
        "visa",
        "protection",
        "emergency",
        "registration",
        "return",
        "judicial-record",
        "labour",
        "appointment",
        "fees",
        "online",
        "contacts",
        "death",
    }
)


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class DocumentMeta(BaseModel):
    """Front matter of a guidance document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=DOC_ID_PATTERN, max_length=80)
    lang: str = Field(pattern=LANG_PATTERN)
    title: str = Field(min_length=1, max_length=120)
    topics: tuple[str, ...] = Field(min_length=1)
    missions: Literal["all"] | tuple[str, ...] = "all"
    source: HttpUrl
    reviewed: dt.date
    status: Status
    summary: str | None = Field(default=None, max_length=400)

    @field_validator("title", "summary")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - TOPICS)
        if unknown:
            raise ValueError(f"unknown topic(s) {unknown}; allowed: {sorted(TOPICS)}")
        return value

    @field_validator("missions")
    @classmethod
    def _mission_ids(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if isinstance(value, tuple):
            if not value:
                raise ValueError("give 'all' or at least one mission id")
            bad = [m for m in value if not re.match(DOC_ID_PATTERN, m)]
            if bad:
                raise ValueError(f"malformed mission id(s) {bad}")
        return value

    @field_validator("reviewed")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        if value > dt.date.today():
            raise ValueError(f"{value} is in the future")
        return value


@dataclass(frozen=True)
class GuidanceDocument:
    """One language version of one procedure."""

    meta: DocumentMeta
    body: str
    footer: str = ""
    path: Path | None = None

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def lang(self) -> str:
        return self.meta.lang

    @property
    def key(self) -> tuple[str, str]:
        return (self.meta.id, self.meta.lang)

    @property
    def is_published(self) -> bool:
        return self.meta.status is Status.PUBLISHED

    def sections(self) -> list[Section]:
        """The body's sections, each with its heading path."""
        return split_sections(self.body)

    def to_markdown(self) -> str:
        """Serialise as front matter + body (+ footer), the on-disk format."""
        import yaml

        data = self.meta.model_dump(mode="json", exclude_none=True)
        if data.get("missions") != "all":
            data["missions"] = list(data["missions"])
        data["topics"] = list(data["topics"])
        front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).strip()
        text = f"---\n{front}\n---\n\n{self.body.strip()}\n"
        if self.footer:
            text += f"\n---\n\n{self.footer.strip()}\n"
        return text


__all__ = [
    "DocumentMeta",
    "GuidanceDocument",
    "Section",
    "Status",
    "TOPICS",
    "split_body",
]

"""The structured mission directory (embassies and consulates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
)

from knowledge.model import DOC_ID_PATTERN
from knowledge.problems import Problem, problems_from_validation
from knowledge.text import to_nfc

PHONE_PATTERN = r"^\+[0-9][0-9 ]{6,22}[0-9]$"


class Localized(BaseModel):
    """Text in several languages; Vietnamese and English are required."""

    model_config = ConfigDict(extra="allow", frozen=True)

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in ``lang``, else English."""
        return (self.model_extra or {}).get(lang) or getattr(self, lang, None) or self.en


class Mission(BaseModel):
    """One embassy or consulate-general and how to reach it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=DOC_ID_PATTERN)
    kind: Literal["embassy", "consulate-general"]
    country: str = Field(pattern=r"^[A-Z]{2}$")
    name: Localized
    country_names: Localized
    city: Localized
    aliases: tuple[str, ...] = Field(min_length=1)
    consular_district: Localized | None = None
    address: str = Field(min_length=5)
    opening_hours: Localized
    phone: str = Field(pattern=PHONE_PATTERN)
    emergency_hotline: str = Field(pattern=PHONE_PATTERN)
    email: EmailStr | None = None
    website: HttpUrl
    source: HttpUrl
    reviewed: dt.date
    notes: Localized | dict[str, str] | None = None

    @field_validator("aliases")
    @classmethod
    def _normalise_aliases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(to_nfc(a).strip().lower() for a in value if a.strip())


@dataclass(frozen=True)
class MissionDirectory:
    """All missions, looked up by id."""

    missions: tuple[Mission, ...]

    def get(self, mission_id: str) -> Mission | None:
        return next((m for m in self.missions if m.id == mission_id), None)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(m.id for m in self.missions)


def load_missions(path: Path) -> tuple[MissionDirectory, list[Problem]]:
    """Load and validate the directory; invalid entries are reported and left out."""
    problems: list[Problem] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return MissionDirectory(()), [Problem(str(path), "", "file not found")]
    except yaml.YAMLError as exc:
        return MissionDirectory(()), [Problem(str(path), "", f"invalid YAML: {exc}")]
    entries = data.get("missions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return MissionDirectory(()), [Problem(str(path), "missions", "must be a list")]
    missions: list[Mission] = []
    for index, entry in enumerate(entries):
        label = f"missions[{index}]"
        if isinstance(entry, dict) and entry.get("id"):
            label = f"missions[{entry['id']}]"
        try:
            mission = Mission.model_validate(entry)
        except ValidationError as exc:
            problems.extend(problems_from_validation(path, exc, prefix=label))
            continue
        if any(m.id == mission.id for m in missions):
            problems.append(Problem(str(path), f"{label}.id", "duplicate mission id"))
            continue
        missions.append(mission)
    return MissionDirectory(tuple(missions)), problems

"""Reading labelled question files (JSON Lines, ../shared/spec/eval-format.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from consular.errors import ConsularError
from knowledge.text import to_nfc


class EvalFileError(ConsularError):
    """A question file that does not follow the format."""


class EvalItem(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1)
    lang: str = Field(min_length=2, max_length=3)
    turns: tuple[str, ...] = Field(min_length=1)
    docs: tuple[str, ...] = ()
    handoff: Literal["none", "requested", "urgent"] = "none"
    declined: bool = False
    tags: tuple[str, ...] = ()

    @property
    def is_retrieval_item(self) -> bool:
        """Scored by the retrieval harness: one turn, expected docs, not a decline."""
        return len(self.turns) == 1 and bool(self.docs) and not self.declined


def load_items(path: Path) -> list[EvalItem]:
    """All items of a file; any malformed line is an error naming its line number."""
    if not path.is_file():
        raise EvalFileError(f"Question file not found: {path}")
    items: list[EvalItem] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate(json.loads(to_nfc(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise EvalFileError(
                f"{path}:{number}: not a valid question ({exc.__class__.__name__})."
            ) from exc
        if item.id in seen:
            raise EvalFileError(f"{path}:{number}: duplicate id '{item.id}'.")
        seen.add(item.id)
        items.append(item)
    return items

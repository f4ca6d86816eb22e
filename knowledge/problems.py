"""Validation problems, reported per file and field so content staff can fix them all at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


def problems_from_validation(
    path: Path | str, error: ValidationError, prefix: str = ""
) -> list[Problem]:
    """One Problem per pydantic error, with a dotted field path."""
    out = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"])
        field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        out.append(Problem(str(path), field, item["msg"]))
    return out

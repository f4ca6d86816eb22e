"""Text normalisation shared by loading and ingestion."""

from __future__ import annotations

import re
import unicodedata

_BLANK_LINES = re.compile(r"\n{3,}")


def to_nfc(text: str) -> str:
    """Unicode NFC: Vietnamese typed on different keyboards compares equal afterwards."""
    return unicodedata.normalize("NFC", text)


def tidy_markdown(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = to_nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"

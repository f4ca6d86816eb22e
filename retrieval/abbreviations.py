"""Expanding the chat abbreviations Vietnamese users type ("hc", "dsq", "ko", "bn")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.text import to_nfc
from retrieval.textnorm import fold, fold_word, words


@dataclass(frozen=True)
class AbbreviationList:
    """Folded abbreviation (one or more words) → expansion, longest match first."""

    entries: dict[tuple[str, ...], str]

    @classmethod
    def load(cls, path: Path) -> AbbreviationList:
        """Read ``{abbreviations: {"hc": "hộ chiếu", ...}}``; a missing file means none."""
        if not path.is_file():
            return cls({})
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        mapping = data.get("abbreviations", {}) if isinstance(data, dict) else {}
        return cls.from_mapping(mapping)

    @classmethod
    def from_mapping(cls, mapping: dict[str, str]) -> AbbreviationList:
        entries = {}
        for key, value in mapping.items():
            folded = tuple(fold(w) for w in words(str(key)))
            if folded and str(value).strip():
                entries[folded] = to_nfc(str(value).strip())
        return cls(entries)

    @property
    def max_words(self) -> int:
        return max((len(k) for k in self.entries), default=0)

    def expand(self, text: str) -> str:
        """Replace abbreviations with their expansions; other words are kept as typed."""
        if not self.entries:
            return text
        tokens = list(re.finditer(r"[^\W_]+", to_nfc(text)))
        out: list[str] = []
        position, i = 0, 0
        while i < len(tokens):
            match = self._longest_match(tokens, i)
            if match:
                length, expansion = match
                out.append(text[position : tokens[i].start()] + expansion)
                position = tokens[i + length - 1].end()
                i += length
            else:
                i += 1
        out.append(text[position:])
        return "".join(out)

    def _longest_match(self, tokens: list[re.Match[str]], start: int) -> tuple[int, str] | None:
        for length in range(min(self.max_words, len(tokens) - start), 0, -1):
            key = tuple(fold_word(t.group()) for t in tokens[start : start + length])
            # Only a word typed without marks is an abbreviation: "ko" yes, "kỏ" no.
            typed_plain = all(
                fold_word(t.group()) == t.group().lower() for t in tokens[start : start + length]
            )
            if key in self.entries and (typed_plain or length > 1):
                return length, self.entries[key]
        return None

    def known(self, word: str) -> bool:
        return (fold_word(word),) in self.entries

"""Folding and tokenising text the way Vietnamese users type it.

"Hộ chiếu", "ho chieu" and "HO CHIEU" all fold to "ho chieu"; đ becomes d.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Thai, Japanese, Chinese and Korean: scripts whose phrases are matched as substrings.
SPACELESS_SCRIPT = re.compile(
    r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_MARKS = {"đ": "d", "Đ": "d"}


def _strip_marks(text: str) -> str:
    text = "".join(_MARKS.get(ch, ch) for ch in text.lower())
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    )


# Words repeat endlessly (every chunk, every query): cache them; long texts are not cached.
fold_word = lru_cache(maxsize=65536)(_strip_marks)
fold_word.__doc__ = "Lower-case, diacritics removed, đ→d."


def fold(text: str) -> str:
    """Fold a whole text (see :func:`fold_word`)."""
    return fold_word(text) if len(text) < 64 else _strip_marks(text)


def words(text: str) -> list[str]:
    """Word tokens (letters and digits), original case and accents kept."""
    return _WORD.findall(unicodedata.normalize("NFC", text))


def has_diacritics(text: str) -> bool:
    """True when any letter carries a mark (or is đ)."""
    return any(fold_word(w) != w.lower() for w in words(text))


def lexical_terms(text: str) -> list[str]:
    """Folded syllables plus adjacent pairs, so "ho chieu" matches the sequence "hộ chiếu"."""
    tokens = [fold_word(w) for w in words(text)]
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]

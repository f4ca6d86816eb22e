"""Recognising which mission a user means from the places they name."""

from __future__ import annotations

import re

from knowledge.missions import Mission, MissionDirectory
from retrieval.textnorm import fold


class MissionMatcher:
    """Finds missions named in a message by their aliases, city and country names."""

    def __init__(self, directory: MissionDirectory) -> None:
        self._patterns: list[tuple[re.Pattern[str], Mission]] = []
        for mission in directory.missions:
            # Curated aliases and city names only: bare country names collide with words
            # once folded ("Pháp" in "hợp pháp hóa", "Đức" in "đạo đức", "Mỹ" and "my").
            names = set(mission.aliases)
            names.update(fold(v) for v in mission.city.model_dump().values() if isinstance(v, str))
            names = {fold(n) for n in names if len(n) >= 3}
            alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            self._patterns.append((re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), mission))

    def find(self, text: str) -> Mission | None:
        """The mission named first in the text (longest name when two start together)."""
        folded = fold(text)
        best: tuple[int, int, Mission] | None = None
        for pattern, mission in self._patterns:
            match = pattern.search(folded)
            if match:
                key = (match.start(), -len(match.group()), mission)
                if best is None or key[:2] < best[:2]:
                    best = key
        return best[2] if best else None

    def without_places(self, text: str) -> str:
        """The text with mission place names removed (they say which mission, not which procedure)."""
        folded = fold(text)
        spans = self._place_spans(folded)
        if not spans:
            return text
        # Folding keeps positions for Vietnamese, Latin and CJK text; if not, cut the folded text.
        source = text if len(folded) == len(text) else folded
        for start, end in reversed(spans):
            source = source[:start] + source[end:]
        return " ".join(source.split())

    def _place_spans(self, folded: str) -> list[tuple[int, int]]:
        """Merged spans of every place name, overlapping ones included ("o nhat" + "nhat ban")."""
        starts = [m.start() for m in re.finditer(r"(?<!\w)\w", folded)]
        spans = sorted(
            match.span()
            for start in starts
            for pattern, _ in self._patterns
            if (match := pattern.match(folded, start))
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

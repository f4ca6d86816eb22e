"""Ranking metrics and their breakdowns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence


def reciprocal_rank(ranked: Sequence[str], expected: Iterable[str]) -> float:
    """1/rank of the first expected id in ``ranked`` (0 when absent)."""
    wanted = set(expected)
    return next((1.0 / i for i, doc in enumerate(ranked, start=1) if doc in wanted), 0.0)


def hit_at(ranked: Sequence[str], expected: Iterable[str], k: int) -> bool:
    return bool(set(ranked[:k]) & set(expected))


class RankingTally:
    """Accumulates Hit@1, Hit@3 and MRR for one group."""

    def __init__(self) -> None:
        self.n = 0
        self.hit1 = 0
        self.hit3 = 0
        self.rr = 0.0

    def add(self, ranked: Sequence[str], expected: Sequence[str]) -> None:
        self.n += 1
        self.hit1 += hit_at(ranked, expected, 1)
        self.hit3 += hit_at(ranked, expected, 3)
        self.rr += reciprocal_rank(ranked, expected)

    def as_dict(self) -> dict[str, float | int]:
        if not self.n:
            return {"n": 0}
        return {
            "n": self.n,
            "hit@1": round(self.hit1 / self.n, 4),
            "hit@3": round(self.hit3 / self.n, 4),
            "mrr": round(self.rr / self.n, 4),
        }


class GroupedTally:
    """Overall, per-language and per-tag tallies."""

    def __init__(self) -> None:
        self.overall = RankingTally()
        self.by_lang: dict[str, RankingTally] = defaultdict(RankingTally)
        self.by_tag: dict[str, RankingTally] = defaultdict(RankingTally)

    def add(
        self, lang: str, tags: Iterable[str], ranked: Sequence[str], expected: Sequence[str]
    ) -> None:
        self.overall.add(ranked, expected)
        self.by_lang[lang].add(ranked, expected)
        for tag in tags:
            self.by_tag[tag].add(ranked, expected)

    def report(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "by_lang": {k: v.as_dict() for k, v in sorted(self.by_lang.items())},
            "by_tag": {k: v.as_dict() for k, v in sorted(self.by_tag.items())},
        }

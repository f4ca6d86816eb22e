"""The retrieval harness: Hit@1, Hit@3 and MRR over labelled questions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evals.dataset import EvalItem
from evals.metrics import GroupedTally
from retrieval.search import HybridSearcher

DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.json")


def evaluate_retrieval(
    searcher: HybridSearcher, items: list[EvalItem], k: int = 5
) -> dict[str, object]:
    """Score every retrieval item; the report follows eval-format.md."""
    tally = GroupedTally()
    misses = []
    scored = [item for item in items if item.is_retrieval_item]
    for item in scored:
        response = searcher.search(item.turns[0], k=k)
        ranked = [r.doc_id for r in response.results]
        tally.add(item.lang, item.tags, ranked, item.docs)
        if not ranked or ranked[0] not in item.docs:
            got = ", ".join(ranked[:3]) or "nothing"
            misses.append(
                {
                    "id": item.id,
                    "lang": item.lang,
                    "question": item.turns[0],
                    "why": f"ranked {got}; expected {item.docs[0]}",
                }
            )
    report = tally.report()
    report["skipped"] = len(items) - len(scored)
    report["misses"] = misses
    return report


@dataclass(frozen=True)
class Threshold:
    scope: str  # "overall", "lang:vi", "tag:no-diacritics"
    metric: str
    limit: float
    is_maximum: bool = False  # e.g. the false-urgent rate must stay below its limit


def load_thresholds(path: Path = DEFAULT_THRESHOLDS, section: str = "retrieval") -> list[Threshold]:
    data = json.loads(path.read_text(encoding="utf-8"))[section]
    return [
        Threshold(scope, metric, float(v["max"]), True)
        if isinstance(v, dict)
        else Threshold(scope, metric, float(v))
        for scope, metrics in data.items()
        for metric, v in metrics.items()
    ]


def check_thresholds(report: dict, thresholds: list[Threshold]) -> list[str]:
    """Human-readable failures (empty when every threshold holds)."""
    failures = []
    for t in thresholds:
        if t.scope == "overall":
            group = report["overall"]
        else:
            kind, _, name = t.scope.partition(":")
            group = report.get(f"by_{kind}", {}).get(name)
        if not group or not group.get("n"):
            failures.append(f"{t.scope}: no items to measure {t.metric}")
            continue
        value = group.get(t.metric)
        if value is None:
            failures.append(f"{t.scope}: no items to measure {t.metric}")
        elif t.is_maximum and value > t.limit:
            failures.append(f"{t.scope} {t.metric} = {value:.3f} > {t.limit:.3f}")
        elif not t.is_maximum and value < t.limit:
            failures.append(f"{t.scope} {t.metric} = {value:.3f} < {t.limit:.3f}")
    return failures

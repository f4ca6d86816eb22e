"""Fitting the retrieval confidence on labelled dev questions (never on the test split)."""

from __future__ import annotations

from evals.dataset import EvalItem
from retrieval.confidence import ConfidenceModel, Signals, fit
from retrieval.search import HybridSearcher


def collect_samples(searcher: HybridSearcher, items: list[EvalItem]) -> list[tuple[Signals, bool]]:
    """Signals for each question, labelled correct when the top document is expected.

    Single-turn declined items (out of scope, manipulation) are negatives: whatever
    ranks first for them does not answer them.
    """
    samples = []
    for item in items:
        if len(item.turns) != 1 or not (item.is_retrieval_item or item.declined):
            continue
        response = searcher.search(item.turns[0])
        if response.signals is None:
            continue
        correct = (
            bool(response.results) and response.results[0].doc_id in item.docs and not item.declined
        )
        samples.append((response.signals, correct))
    return samples


def calibrate(
    searcher: HybridSearcher, items: list[EvalItem]
) -> tuple[ConfidenceModel, dict[str, float]]:
    """A fitted model and how well it separates right from wrong on the same items."""
    samples = collect_samples(searcher, items)
    model = fit(samples)
    scored = [(model.score(s), ok) for s, ok in samples]
    right = [p for p, ok in scored if ok]
    wrong = [p for p, ok in scored if not ok]
    brier = sum((p - ok) ** 2 for p, ok in scored) / max(len(scored), 1)
    stats = {
        "samples": len(samples),
        "correct": len(right),
        "mean_confidence_correct": round(sum(right) / max(len(right), 1), 4),
        "mean_confidence_wrong": round(sum(wrong) / max(len(wrong), 1), 4),
        "brier": round(brier, 4),
    }
    return model, stats

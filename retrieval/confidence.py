"""A 0..1 confidence that the top document answers the question.

A logistic model over retrieval signals, fitted on the labelled dev questions
(`consular eval calibrate`), where a hit@1 counts as correct and out-of-scope questions
as wrong. The engine uses it to choose between answering, asking back and offering an
officer. Raw e5 cosines sit in a narrow band, so they are one feature among several.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

FEATURES = ("fused", "margin", "dense_top", "dense_margin", "agreement", "coverage")


@dataclass(frozen=True)
class Signals:
    fused: float  # top document's fused score / the best possible
    margin: float  # (top - second) / the best possible
    dense_top: float  # best chunk cosine
    dense_margin: float  # best cosine - best cosine of another document
    agreement: float  # 1 when BM25 and dense put the same document first
    coverage: float  # share of query words found in the corpus

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


@dataclass(frozen=True)
class ConfidenceModel:
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def default(cls) -> ConfidenceModel:
        """Hand-set until a calibration file exists."""
        return cls(weights=(3.0, 4.0, 6.0, 10.0, 1.0, 0.5), bias=-6.0)

    @classmethod
    def load(cls, path: Path) -> ConfidenceModel:
        if not path.is_file():
            return cls.default()
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data.get("features", ())) != FEATURES:
            return cls.default()
        return cls(weights=tuple(data["weights"]), bias=float(data["bias"]))

    def save(self, path: Path, **extra: object) -> None:
        payload = {"features": list(FEATURES), **asdict(self), **extra}
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")

    def score(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def fit(samples: list[tuple[Signals, bool]]) -> ConfidenceModel:
    """Logistic regression (scikit-learn) on labelled signals."""
    from sklearn.linear_model import LogisticRegression

    X = [s.vector() for s, _ in samples]
    y = [int(ok) for _, ok in samples]
    if len(set(y)) < 2:
        return ConfidenceModel.default()
    # Mild regularisation: the margins are small numbers, and strong L2 erases them.
    model = LogisticRegression(C=100.0, max_iter=5000).fit(X, y)
    return ConfidenceModel(
        weights=tuple(float(w) for w in model.coef_[0]), bias=float(model.intercept_[0])
    )

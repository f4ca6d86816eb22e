"""The safety verdict the engine acts on: the phrase lists, then the learned model.

The phrase lists (``bot/safety.py``) decide first and are never overruled; the model
(``bot/safety_model.py``) can only add what they missed: an emergency, a manipulation
attempt, an off-topic message or a request for a person, each above its own threshold.
"""

from __future__ import annotations

from dataclasses import replace

from bot.safety import SafetyClassifier, SafetyVerdict
from bot.safety_model import ModelThresholds, SafetyModel, SafetyScores


class SafetyChecks:
    """Classifies one message for the engine (same ``check`` as the phrase lists)."""

    def __init__(
        self,
        patterns: SafetyClassifier,
        model: SafetyModel | None = None,
        thresholds: ModelThresholds | None = None,
    ) -> None:
        self._patterns = patterns
        self._model = model
        self._thresholds = thresholds or ModelThresholds()

    def check(self, text: str, *, follow_up: bool = False) -> SafetyVerdict:
        """The phrase lists' verdict, with what the model adds above its thresholds.

        ``follow_up``: a short message in a conversation already about a procedure
        ("what do I bring?"). The model sees the message alone, so it may not call such
        a message off-topic.
        """
        verdict = self._patterns.check(text)
        if self._model is None:
            return verdict
        return self._add_model_findings(verdict, self._model.score(text), follow_up)

    def _add_model_findings(
        self, verdict: SafetyVerdict, scores: SafetyScores, follow_up: bool
    ) -> SafetyVerdict:
        def sure(label: str) -> bool:
            return scores[label] >= getattr(self._thresholds, label)

        found: dict = {}
        if not verdict.emergency and _alarm_is_credible(verdict, scores, self._thresholds):
            found["emergency"] = scores.emergency_kind
        if not verdict.human_request and sure("human"):
            found["human_request"] = True
        # A guess never turns away someone already understood to be in danger or asking
        # for a person, nor a message the phrase lists already decline.
        settled = (
            verdict.emergency or verdict.human_request or verdict.affirmative or found
            or verdict.manipulation or verdict.out_of_scope
        )  # fmt: skip
        if not settled and sure("manipulation"):
            found["manipulation"] = "manipulation"
        elif not settled and not follow_up and sure("out_of_scope"):
            found["out_of_scope"] = True
        if not found:
            return verdict
        notes = [f"{name} (model {scores[_LABEL_OF[name]]:.2f})" for name in found]
        earlier = [] if verdict.reason == "ordinary" else [verdict.reason]
        return replace(verdict, **found, reason="; ".join(earlier + notes))


def _alarm_is_credible(
    verdict: SafetyVerdict, scores: SafetyScores, thresholds: ModelThresholds
) -> bool:
    """The model's emergency, unless the message says otherwise.

    It must look likelier than an ordinary question; a writer who says everyone is safe,
    or a message the phrase lists found off-topic, needs near-certainty instead.
    """
    doubtful = verdict.reassured or verdict.out_of_scope
    limit = thresholds.doubtful_urgent if doubtful else thresholds.urgent
    return scores["urgent"] >= limit and scores["urgent"] >= scores["none"]


# Which model label stands behind each field of the verdict.
_LABEL_OF = {
    "emergency": "urgent",
    "human_request": "human",
    "manipulation": "manipulation",
    "out_of_scope": "out_of_scope",
}


__all__ = ["SafetyChecks"]

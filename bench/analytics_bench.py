"""Dashboard report benchmark: a seeded database of about 5,000 conversations.

Run on demand (not in CI): ``.venv/bin/python -m bench.analytics_bench [--conversations N]
[--database-url URL] [--json]``. Without a URL it seeds a temporary SQLite file; with a
PostgreSQL URL it seeds (and afterwards drops) a schema of its own there. Target on 2 CPU
cores: the whole report (every figure) under a second.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.analytics import Analytics, Filters
from bot.database import default_database_url, make_engine, upgrade_database
from bot.models import AnswerRating, Conversation, HandoffEvent, Message, Rating

TOPICS = {
    "passport-renewal": ("passport",),
    "passport-lost": ("passport", "emergency"),
    "birth-registration": ("civil-status", "registration"),
    "visa-exemption": ("visa",),
    "legalization": ("legalization",),
}
DOC_IDS = [*TOPICS, None]
CHANNELS = ("web", "telegram", "api")
LANGUAGES = ("vi", "en", "fr")
MISSIONS = ("jp-tokyo", "jp-osaka", "fr-paris", None)


def seed(sessions: sessionmaker, count: int, rng: random.Random) -> int:
    """``count`` conversations over 90 days with messages, handoffs and feedback; returns
    the number of rows written."""
    start = datetime(2026, 8, 1, tzinfo=UTC)
    rows: list[object] = []
    for n in range(count):
        created = start + timedelta(minutes=rng.randrange(90 * 24 * 60))
        cid = f"c_bench{n:06d}"
        status = rng.choices(("none", "requested", "urgent"), (85, 10, 5))[0]
        resolved = rng.random() < 0.05
        rows.append(
            Conversation(
                id=cid,
                channel=rng.choice(CHANNELS),
                language=rng.choice(LANGUAGES),
                mission_id=rng.choice(MISSIONS),
                topic_doc_id=rng.choice(DOC_IDS),
                handoff_status="none" if resolved else status,
                created_at=created,
                updated_at=created,
                resolved_at=created + timedelta(hours=rng.uniform(1, 48)) if resolved else None,
            )
        )
        at = created
        for turn in range(rng.randint(1, 3)):
            at += timedelta(seconds=rng.randint(5, 120))
            rows.append(Message(conversation_id=cid, role="user", text="q", created_at=at))
            answer = Message(
                conversation_id=cid, role="assistant", text="a", created_at=at, citations=[]
            )
            rows.append(answer)
            if turn == 0 and rng.random() < 0.3:
                rows.append(("vote", cid, answer, rng.random() < 0.8, at))
        if status != "none" or resolved:
            queued = created + timedelta(minutes=1)
            to = "urgent" if status == "urgent" else "requested"
            rows.append(
                HandoffEvent(
                    conversation_id=cid,
                    from_status="none",
                    to_status=to,
                    actor="user",
                    created_at=queued,
                )
            )
            if rng.random() < 0.7:
                reply = queued + timedelta(minutes=rng.uniform(2, 600))
                rows.append(
                    Message(conversation_id=cid, role="officer", text="o", created_at=reply)
                )
        if rng.random() < 0.2:
            rows.append(
                Rating(
                    conversation_id=cid,
                    score=rng.randint(1, 5),
                    created_at=created + timedelta(minutes=10),
                )
            )
    with sessions() as session:
        plain = [r for r in rows if not isinstance(r, tuple)]
        session.add_all(plain)
        session.flush()  # message ids for the votes
        votes = [
            AnswerRating(message_id=m.id, conversation_id=cid, helpful=helpful, created_at=at)
            for _, cid, m, helpful, at in (r for r in rows if isinstance(r, tuple))
        ]
        session.add_all(votes)
        session.commit()
    return len(plain) + len(votes)


def run(url: str | None, count: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if url is None:
            url = default_database_url(Path(tmp))
        elif make_url(url).get_backend_name() == "postgresql":
            schema = f"analytics_bench_{secrets.token_hex(4)}"
            admin = make_engine(url)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = (
                make_url(url)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        engine = make_engine(url)
        try:
            upgrade_database(engine)
            sessions = sessionmaker(engine, expire_on_commit=False)
            started = time.perf_counter()
            written = seed(sessions, count, random.Random(6))
            seed_s = time.perf_counter() - started
            analytics = Analytics(sessions, TOPICS)
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                report = analytics.report(Filters())
                for figure in report.figures.values():
                    figure.to_csv()
                timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            analytics.report(Filters(channel="telegram", mission_id="jp-osaka"))
            filtered_s = time.perf_counter() - started
        finally:
            engine.dispose()
            if schema is not None:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    return {
        "database": make_url(url).get_backend_name(),
        "conversations": count,
        "rows_seeded": written,
        "seed_s": round(seed_s, 2),
        "report_median_s": round(statistics.median(timings), 3),
        "report_max_s": round(max(timings), 3),
        "report_filtered_s": round(filtered_s, 3),
        "totals": report.totals,
        "target_s": 1.0,
        "within_target": max(timings) < 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.database_url, args.conversations, args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['conversations']} conversations ({result['rows_seeded']} rows, seeded in "
        f"{result['seed_s']} s) on {result['database']}: report median "
        f"{result['report_median_s']} s, max {result['report_max_s']} s, filtered "
        f"{result['report_filtered_s']} s (target < {result['target_s']} s: "
        f"{'ok' if result['within_target'] else 'MISSED'})"
    )


if __name__ == "__main__":
    main()

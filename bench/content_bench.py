"""Publish-to-answer benchmark: how long until a published document is answered from.

Run on demand (not in CI): ``.venv/bin/python -m bench.content_bench [--data-dir DIR]
[--rounds N] [--json]``. It builds the assistant exactly as the web app does (the sample
knowledge base imported into the content store, indexed) in ``--data-dir`` (a temporary
folder by default, so the first run embeds the whole sample knowledge base), then times,
``--rounds`` times: an editor's draft, submit, a second editor's publish (which re-indexes
the changed document and swaps the engine's knowledge), a citizen question answered from
it, and the retire that takes it away again. Target on 2 CPU cores: a published change
answered from within 5 seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bot.assembly import build_assistant
from consular.settings import Settings

DOC_ID = "bench-consular-extract"
QUESTION = "How much does a certified copy of a consular birth extract cost?"
DOCUMENT = """---
id: {doc_id}
lang: en
title: "Certified copy of a consular birth extract"
topics: [civil-status, fees]
missions: all
source: https://example.gov.vn/{doc_id}
reviewed: 2026-11-20
status: draft
---

Citizens whose birth was registered at a Vietnamese mission abroad can ask that mission
for a certified copy of the consular birth extract.

## Documents to bring
- The request form for a certified copy of a consular birth extract.
- Your passport or ID card.

## Fee
A certified copy of a consular birth extract costs {fee} USD per copy.
"""


def _round(assistant, fee: int) -> dict[str, float]:
    content, engine = assistant.content, assistant.engine
    markdown = DOCUMENT.format(doc_id=DOC_ID, fee=fee)
    draft = content.save_draft("bench-author", DOC_ID, "en", markdown, "benchmark")
    content.submit("bench-author", draft.id)
    started = time.perf_counter()
    content.publish("bench-reviewer", draft.id, "benchmark")
    published = time.perf_counter()
    reply = engine.handle(QUESTION, language="en", channel="cli").reply
    answered = time.perf_counter()
    if reply is None or f"{fee} USD" not in reply.text:
        raise SystemExit(f"the published fee {fee} USD was not in the answer: {reply}")
    content.retire("bench-reviewer", DOC_ID, "en", "benchmark over")
    retired = time.perf_counter()
    return {
        "publish_seconds": published - started,
        "answer_seconds": answered - published,
        "publish_to_answer_seconds": answered - started,
        "retire_seconds": retired - answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="consular-content-bench-") as folder:
        settings = Settings(data_dir=args.data_dir or Path(folder))
        started = time.perf_counter()
        assistant = build_assistant(settings)
        start_up = time.perf_counter() - started
        rounds = [_round(assistant, 17 + i) for i in range(args.rounds)]
    summary = {
        "start_up_seconds": round(start_up, 2),
        "rounds": args.rounds,
        **{key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]},
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()

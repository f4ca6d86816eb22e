"""Safety-check benchmark: model training at start-up, per-message latency, memory.

Run on demand (not in CI): ``.venv/bin/python -m bench.safety_bench [--json]``.
Targets on 2 CPU cores: training under 10 s, p95 of one message's full safety check
(phrase lists and model) under 25 ms: it runs before every answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import psutil

from bot.safety import SafetyClassifier
from bot.safety_checks import SafetyChecks
from bot.safety_model import DEFAULT_EXAMPLES_DIR, SafetyModel, load_examples
from consular.settings import PACKAGE_ROOT
from evals.dataset import load_items

MESSAGES = PACKAGE_ROOT / "evals" / "data" / "conversation_dev.jsonl"


def _rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def run() -> dict:
    """Train the model once, then time every conversation_dev message a few times."""
    patterns = SafetyClassifier.load()
    examples = load_examples(DEFAULT_EXAMPLES_DIR)
    import sklearn  # noqa: F401  (its import, about 3 s, is not training time)

    before = _rss_mb()
    started = time.perf_counter()
    model = SafetyModel.train(examples, patterns.normalise)
    training_s = time.perf_counter() - started
    checks = SafetyChecks(patterns, model)
    texts = [turn for item in load_items(MESSAGES) for turn in item.turns]
    latencies = []
    for _ in range(3):
        for text in texts:
            started = time.perf_counter()
            checks.check(text)
            latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "examples": len(examples),
        "training_s": round(training_s, 2),
        "model_memory_mb": round(_rss_mb() - before, 1),
        "messages": len(latencies),
        "check_p50_ms": round(statistics.median(latencies), 2),
        "check_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="Machine-readable output.")
    report = run()
    if parser.parse_args().json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:<18} {value}")


if __name__ == "__main__":
    main()

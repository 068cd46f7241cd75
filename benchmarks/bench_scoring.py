"""Scoring speed and memory, as ratios against jieba segmentation measured in the same run.

Builds ten-minute calls from the bundled test and sample calls (different calls one after
another, so no turn repeats within a call),
then prints:
  * per call: jieba segmentation time of the call's text (the baseline), full scoring time,
    and the ratio (target: at most 3x);
  * the cost of spaCy's zh pipeline with the jieba segmenter as a token layer, against the
    same baseline (why spaCy is not in the hot path);
  * 1,000 ten-minute calls on 1 and N worker processes (default 2): wall time, calls per
    second, and the scaling ratio;
  * peak memory (RSS) of the scoring process and of each worker.

    python benchmarks/bench_scoring.py [--calls 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from statistics import median

from callcoach.io import read_transcript
from callcoach.models import Transcript, Turn
from callcoach.normalize import normalize_text
from callcoach.pipeline import Pipeline
from callcoach.segment import default_segmenter

ROOT = Path(__file__).resolve().parent.parent


SOURCES = sorted((ROOT / "tests" / "data" / "calls").glob("c*.json")) + sorted(
    (ROOT / "sample_audio" / "transcripts").glob("*.json"))


def ten_minute_call(i: int) -> Transcript:
    """Return a ~10-minute call made of different real calls one after another (no repeats)."""
    bases = [read_transcript(p) for p in SOURCES]
    bases = [b for b in bases if b.timed]
    turns: list[Turn] = []
    offset, k = 0.0, i
    while offset < 600.0:
        base = bases[k % len(bases)]
        for t in base.turns:
            turns.append(Turn(t.speaker, t.text, (t.start_s or 0) + offset, (t.end_s or 0) + offset))
        offset += max(t.end_s or 0.0 for t in base.turns) + 2.0
        k += 1
    return Transcript(bases[i % len(bases)].metadata, tuple(turns), source=f"bench-{i}")


_PIPE: Pipeline | None = None


def _score_batch(indices: list[int]) -> tuple[int, int]:
    global _PIPE
    if _PIPE is None:
        _PIPE = Pipeline()
    for i in indices:
        _PIPE.score(ten_minute_call(i))
    return len(indices), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def per_call(n: int) -> None:
    t0 = time.perf_counter()
    pipe = Pipeline()
    seg = default_segmenter()
    calls = [ten_minute_call(i) for i in range(n)]
    pipe.score(calls[0])
    print(f"start-up (rules, models, jieba dictionary) and first call: {time.perf_counter() - t0:.2f} s")
    for c in calls:  # warm up: patterns are compiled on first use, once per process
        pipe.score(c)
    seg_t, score_t, chars = [], [], []
    clock = time.process_time  # CPU time of this process: steadier than wall time on a shared machine
    for c in calls:
        texts = [normalize_text(t.text) for t in c.turns]
        t0 = clock()
        for x in texts:
            seg.tokens(x)
        seg_t.append(clock() - t0)
        t0 = clock()
        pipe.score(c)
        score_t.append(clock() - t0)
        chars.append(sum(len(x) for x in texts))
    ratio = median(s / b for s, b in zip(score_t, seg_t))
    print(f"ten-minute call: {median(chars):.0f} characters, {len(calls[0].turns)} turns")
    print(f"  jieba segmentation (baseline): {median(seg_t) * 1000:7.1f} ms")
    print(f"  full scoring:                  {median(score_t) * 1000:7.1f} ms   ratio {ratio:.2f}x (target <= 3x)")
    spacy_ratio(calls[0], median(seg_t))


def spacy_ratio(call: Transcript, baseline_s: float) -> None:
    try:
        import spacy
    except ImportError:
        print("  spaCy zh + jieba token layer: skipped (spaCy not installed)")
        return
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    texts = [normalize_text(t.text) for t in call.turns]
    list(nlp.pipe(texts[:5]))
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts):
        pass
    spacy_s = time.perf_counter() - t0
    print(f"  spaCy zh (jieba segmenter) Doc construction: {spacy_s * 1000:7.1f} ms   "
          f"ratio {spacy_s / baseline_s:.2f}x of plain jieba")


def batch(n: int, workers: int) -> float:
    chunks = [list(range(i, min(n, i + 25))) for i in range(0, n, 25)]
    t0 = time.perf_counter()
    peaks = []
    with ProcessPoolExecutor(max_workers=workers) as ex:
        done = 0
        for count, peak in ex.map(_score_batch, chunks):
            done += count
            peaks.append(peak)
    wall = time.perf_counter() - t0
    print(f"{n} ten-minute calls on {workers} worker(s): {wall:.1f} s, {n / wall:.1f} calls/s, "
          f"peak RSS per worker {max(peaks) / 1024:.0f} MB")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="also runs 1 worker for the scaling ratio")
    ap.add_argument("--sample", type=int, default=20, help="calls for the per-call ratio")
    args = ap.parse_args()
    per_call(args.sample)
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.calls:
        one = batch(args.calls, 1)
        if args.workers > 1:
            many = batch(args.calls, args.workers)
            print(f"scaling 1 -> {args.workers} workers: {one / many:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

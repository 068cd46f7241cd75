"""Report writing speed: 1,000 scored calls for 50 agents in 5 teams over 8 weeks.

Scores the bundled calls once (not timed), then synthesises results by varying them: agent,
team, start time, score, metrics and findings change; transcripts are reused. Then prints:
  * ``write_reports`` end to end (call pages, coaching reports, dashboard, exports): seconds and
    calls per second — or, when the call page / agent report modules are not there yet, the
    dashboard's parts alone (results_frame, aggregate, render_dashboard, export_frame);
  * results_frame + aggregate alone, and their share of the total.

    python benchmarks/bench_reports.py [--calls 1000] [--agents 50] [--teams 5] [--weeks 8]
        [--results DIR]   (use stored results instead of scoring the bundled calls)
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("violence", "exposure", "impersonation", "false_legal", "insult", "harassment", "pressure")


def base_results(results_dir: Optional[Path]) -> list[dict[str, Any]]:
    """Return real scored results: from ``results_dir`` or by scoring the bundled calls."""
    if results_dir:
        from callcoach.reports.writer import load_results

        docs, _ = load_results([results_dir])
        return docs
    from callcoach.io import read_transcript
    from callcoach.pipeline import Pipeline

    files = sorted((ROOT / "sample_audio" / "transcripts").glob("*.json")) + sorted(
        (ROOT / "tests" / "data" / "calls").glob("c*.json"))
    pipeline = Pipeline()
    return [pipeline.score(read_transcript(f)).to_dict() for f in files]


def synthesise(base: list[dict[str, Any]], calls: int, agents: int, teams: int, weeks: int,
               seed: int = 7) -> list[dict[str, Any]]:
    """Return ``calls`` results varied from ``base``: agents with their own skill and drift."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 7, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # a Monday
    skill = {a: rng.uniform(-15, 15) for a in range(agents)}
    drift = {a: rng.uniform(-3, 3) for a in range(agents)}
    pass_docs = [d for d in base if d.get("passed")] or base
    fail_docs = [d for d in base if not d.get("passed")] or base
    out = []
    for i in range(calls):
        a = i % agents
        week = (i * weeks) // calls
        quality = skill[a] + drift[a] * week + rng.gauss(0, 8)
        src = rng.choice(pass_docs if quality > -8 else fail_docs)
        doc = copy.copy(src)  # shallow: turns are shared, what changes is replaced
        m = dict(src.get("metrics") or {})
        doc["call_id"] = f"syn-{i:05d}"
        doc["agent_id"] = f"A{7000 + a:04d}"
        doc["team"] = f"team-{a % teams + 1}"
        when = start + timedelta(weeks=week, days=rng.randrange(5), minutes=rng.randrange(9 * 60))
        doc["started_at"] = when.isoformat()
        doc["score"] = round(min(100.0, max(0.0, float(src.get("score") or 0) + rng.gauss(0, 4) + quality / 3)), 1)
        share = min(0.95, max(0.2, float(m.get("talk.agent_share") or 0.5) + rng.gauss(0, 0.06)))
        m["talk.agent_share"] = round(share, 4)
        m["talk.listening_ratio"] = round((1 - share) / share, 3)
        m["opening.adherence"] = round(min(1.0, max(0.0, float(m.get("opening.adherence") or 0) + rng.choice((0, 0, 1 / 6, -1 / 6)))), 4)
        m["sentiment.customer.trend"] = rng.choice(("improving", "worsening", "stable")) if rng.random() < 0.3 else m.get("sentiment.customer.trend")
        m["conduct.promise_to_pay"] = (quality + rng.gauss(0, 10)) > 0
        findings = list(src.get("findings") or [])
        if rng.random() < 0.04:  # an occasional extra minor pressure finding
            findings.append({"rule_id": "PRS001", "category": "pressure", "severity": "minor", "speaker": "agent",
                             "turn_index": None, "start_s": None, "end_s": None, "quote": "", "message": "synthetic",
                             "suggestion": "", "rationale": "", "char_start": None, "char_end": None})
        doc["metrics"] = m
        doc["findings"] = findings
        out.append(doc)
    return out


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--teams", type=int, default=5)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--results", type=Path, default=None, help="directory of stored results to vary")
    args = ap.parse_args(argv)

    from callcoach.reports.dashboard import aggregate, export_frame, render_dashboard, results_frame
    from callcoach.reports.writer import ReportOptions, write_reports

    base = base_results(args.results)
    docs = synthesise(base, args.calls, args.agents, args.teams, args.weeks)
    print(f"{len(docs)} synthetic results from {len(base)} real ones: {args.agents} agents, "
          f"{args.teams} teams, {args.weeks} weeks")

    options = ReportOptions()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        try:
            index = write_reports(docs, Path(tmp) / "all", options)
            total = time.perf_counter() - t0
            what = (f"write_reports (all reports: {len(index.calls)} call pages, {len(index.agents)} agent files, "
                    f"dashboard, {len(index.exports)} exports)")
        except ImportError as exc:
            print(f"write_reports unavailable ({exc}); timing the dashboard's parts alone")
            from callcoach.reports.redact import redact_result

            t0 = time.perf_counter()
            red = [redact_result(d) for d in docs]
            frame = results_frame(red)
            html = render_dashboard(frame, red, options=options)
            (Path(tmp) / "dashboard.html").write_text(html, encoding="utf-8")
            export_frame(frame, Path(tmp))
            total = time.perf_counter() - t0
            what = "redact + results_frame + render_dashboard + export_frame (dashboard only)"

        t1 = time.perf_counter()
        frame = results_frame(docs)
        trends = aggregate(frame, options.period)
        core = time.perf_counter() - t1
    print(f"{what}: {total:.2f} s, {len(docs) / total:.0f} calls/s")
    print(f"results_frame + aggregate: {core:.3f} s ({len(frame)} rows, {len(trends)} trend rows), "
          f"{core / total:.1%} of the total")
    return 0


if __name__ == "__main__":
    sys.exit(main())

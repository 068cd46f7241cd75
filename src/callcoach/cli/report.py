"""``callcoach report`` and ``callcoach run``: write the review pages, coaching reports and dashboard."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..config import load_config
from ..errors import CallcoachError
from ..io import read_transcript
from ..pipeline import Pipeline
from ..reports.writer import ReportIndex, ReportOptions, load_results, safe_name, write_reports

TRANSCRIPT_SUFFIXES = (".json", ".txt", ".text", ".vtt", ".srt", ".csv", ".tsv")


def _options(no_redact: bool, lang: str, audio_dir: Optional[List[Path]], period: str) -> ReportOptions:
    if lang not in ("zh", "en"):
        raise CallcoachError(f"--lang: expected zh or en, got {lang!r}")
    if period not in ("D", "W", "M"):
        raise CallcoachError(f"--period: expected D (day), W (week) or M (month), got {period!r}")
    return ReportOptions(redact=not no_redact, lang=lang, audio_dirs=tuple(audio_dir or ()), period=period)


def _summary(index: ReportIndex) -> None:
    print(f"callcoach: wrote {len(index.calls)} call page(s), {len(index.agents) // 2} coaching report(s) "
          f"and the dashboard to {index.out_dir}", file=sys.stderr)
    typer.echo(str(index.out_dir / "index.html"))


def report_command(
    results: Annotated[List[Path], typer.Argument(help="Scored results: .json / .jsonl files or directories of them.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the reports.", metavar="DIR")] = Path("reports"),
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Show phone, ID and card numbers (authorised reviewers only; stated on every page).")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the coaching reports: zh or en.")] = "zh",
    audio_dir: Annotated[Optional[List[Path]], typer.Option("--audio-dir", help="Directory holding <call_id>.<ext> recordings for the players (repeatable).")] = None,
    period: Annotated[str, typer.Option("--period", help="Trend period on the dashboard: D, W or M.")] = "W",
) -> None:
    """Write call review pages, agent coaching reports and the trends dashboard from scored results."""
    options = _options(no_redact, lang, audio_dir, period)
    docs, errors = load_results(results)
    for e in errors:
        print(f"callcoach: error: {e}", file=sys.stderr)
    if not docs:
        raise CallcoachError("no scored results found in the given paths (expected callcoach score output)")
    _summary(write_reports(docs, out, options))
    if errors:
        raise typer.Exit(2)


def run_command(
    inputs: Annotated[List[Path], typer.Argument(help="Transcript files or directories of transcripts.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write results/ and the reports.", metavar="DIR")] = Path("reports"),
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML settings file.")] = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Do not mask identifiers in the reports.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the coaching reports: zh or en.")] = "zh",
    audio_dir: Annotated[Optional[List[Path]], typer.Option("--audio-dir", help="Directory holding <call_id>.<ext> recordings.")] = None,
    period: Annotated[str, typer.Option("--period", help="Trend period on the dashboard: D, W or M.")] = "W",
) -> None:
    """Score every transcript found and write results plus all reports in one step."""
    options = _options(no_redact, lang, audio_dir, period)
    files = _transcripts(inputs)
    if not files:
        raise CallcoachError(f"no transcripts found (looked for {', '.join(TRANSCRIPT_SUFFIXES)} files)")
    pipeline = Pipeline(load_config(config))
    results_dir = out / "results"
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CallcoachError(f"cannot create the output directory: {exc.strerror}", path=str(out)) from exc
    docs, failed = [], 0
    for path in files:
        try:
            doc = pipeline.score(read_transcript(path)).to_dict()
        except CallcoachError as exc:
            failed += 1
            print(f"callcoach: error: {exc}", file=sys.stderr)
            continue
        docs.append(doc)
        (results_dir / f"{safe_name(doc['call_id'])}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"callcoach: scored {len(docs)} of {len(files)} transcript(s); {failed} failed", file=sys.stderr)
    if docs:
        _summary(write_reports(docs, out, options))
    if failed:
        raise typer.Exit(2)


def _transcripts(inputs: List[Path]) -> list[Path]:
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            files.extend(sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in TRANSCRIPT_SUFFIXES
                                and not x.name.startswith(".")))
        else:
            files.append(p)
    return files

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
from ..reports.writer import ReportIndex, ReportOptions, load_results, safe_name, write_reports

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
    inputs: Annotated[Optional[List[Path]], typer.Argument(help="Recordings and/or transcripts, or folders of them (recursively).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the database, results/ and the reports.", metavar="DIR")] = Path("reports"),
    db: Annotated[Optional[str], typer.Option("--db", help="Results database: a SQLite file or a URL (postgresql+psycopg://…). Default: DIR/callcoach.db.")] = None,
    manifest: Annotated[Optional[Path], typer.Option("--manifest", help="CSV of calls: path, call_id, agent_id, team, started_at, customer_ref, days_overdue, product, channel_layout.")] = None,
    name_pattern: Annotated[Optional[str], typer.Option("--name-pattern", help="Metadata from file names, e.g. {agent_id}_{date}_{time}_{call_id}.")] = None,
    tz: Annotated[str, typer.Option("--tz", help="UTC offset of times taken from file names.")] = "+08:00",
    workers: Annotated[int, typer.Option("--workers", "-j", help="Worker processes (each loads the models once).")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="process (this machine) or dask (a Dask distributed cluster).")] = "process",
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); default: a local cluster.")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML settings file.")] = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Do not mask identifiers in the reports.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the coaching reports: zh or en.")] = "zh",
    audio_dir: Annotated[Optional[List[Path]], typer.Option("--audio-dir", help="Directory holding <call_id>.<ext> recordings.")] = None,
    period: Annotated[str, typer.Option("--period", help="Trend period on the dashboard: D, W or M.")] = "W",
    no_reports: Annotated[bool, typer.Option("--no-reports", help="Only score and store.")] = False,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Whisper model for recordings: name or local directory (default: $CALLCOACH_MODEL, else base).")] = None,
    device: Annotated[str, typer.Option("--device", help="Recognition device: auto, cpu or cuda.")] = "auto",
    compute_type: Annotated[Optional[str], typer.Option("--compute-type", help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA).")] = None,
    dial_log: Annotated[Optional[List[Path]], typer.Option("--dial-log", help="Dialler log CSV of call attempts (call_id, customer_ref, started_at, connected/outcome) for the attempt limits; repeatable.")] = None,
) -> None:
    """Transcribe and score every call found (only what changed), store the results, write all reports."""
    from ..batch import (
        AsrOptions, check_across_calls, discover, parse_offset, progress_printer, run_batch, with_crosscall,
    )
    from ..crosscall import read_dial_log
    from ..store import open_store

    options = _options(no_redact, lang, audio_dir, period)
    if workers < 1:
        raise CallcoachError("--workers must be at least 1")
    cfg = load_config(config)
    if not inputs and manifest is None:
        raise CallcoachError("give recordings, transcripts or folders to score, or --manifest CSV")
    items, problems = discover(inputs or [], manifest=manifest, name_pattern=name_pattern, tz=parse_offset(tz))
    attempts = []
    for log in dial_log or []:
        found, bad = read_dial_log(log)
        attempts += found
        problems += bad
    for where, why in problems:
        print(f"callcoach: error: {where}: {why}", file=sys.stderr)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CallcoachError(f"cannot create the output directory: {exc.strerror}", path=str(out)) from exc
    with open_store(db or out / "callcoach.db") as store:
        summary = run_batch(items, store, cfg, workers=workers, progress=progress_printer(),
                            executor=executor, scheduler=scheduler,
                            asr=AsrOptions(model=model, device=device, compute_type=compute_type))
        for line in summary.lines():
            print(f"callcoach: {line}", file=sys.stderr)
        crosscall = check_across_calls(store, cfg, attempts)
        if crosscall:
            print(f"callcoach: {len(crosscall)} finding(s) across calls (hours, frequency, requests to stop)",
                  file=sys.stderr)
        docs = with_crosscall(store.latest_results(), crosscall)
        _write_results(docs, out / "results")
        if docs and not no_reports:
            _summary(write_reports(docs, out, options))
    if problems or summary.failed:
        raise typer.Exit(2)


def _write_results(docs: list[dict], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (directory / f"{safe_name(doc['call_id'])}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")

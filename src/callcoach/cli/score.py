"""``callcoach score``: score transcripts and print or write the results."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Any, List, Optional

import typer
from typing_extensions import Annotated

from ..config import load_config
from ..errors import CallcoachError
from ..io import read_transcript
from ..models import SEVERITIES, CallResult, severity_rank
from ..pipeline import Pipeline


class OutputFormat(str, Enum):
    json = "json"
    jsonl = "jsonl"
    table = "table"


def _metadata_options(call_id: Optional[str], agent_id: Optional[str], team: Optional[str],
                      started_at: Optional[str], days_overdue: Optional[int]) -> dict[str, Any]:
    values = {"call_id": call_id, "agent_id": agent_id, "team": team, "started_at": started_at,
              "days_overdue": days_overdue}
    return {k: v for k, v in values.items() if v is not None}


def score_command(
    files: Annotated[List[Path], typer.Argument(help="Transcript files (JSON, text, WebVTT, SRT, CSV).", show_default=False)],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.json,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write one <call_id>.json per call (and results.jsonl) into DIR instead of stdout.", metavar="DIR")] = None,
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="Exit 1 if any finding has at least this severity (info, minor, major, critical).", metavar="SEVERITY")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML settings file.")] = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help="Force the transcript format (json, text, vtt, srt, csv).")] = None,
    call_id: Annotated[Optional[str], typer.Option("--call-id", help="Call id (text formats; one file only).")] = None,
    agent_id: Annotated[Optional[str], typer.Option("--agent-id", help="Agent id for text formats.")] = None,
    team: Annotated[Optional[str], typer.Option("--team", help="Team for text formats.")] = None,
    started_at: Annotated[Optional[str], typer.Option("--started-at", help="Call start, ISO 8601 with offset.")] = None,
    days_overdue: Annotated[Optional[int], typer.Option("--days-overdue", help="Days overdue (sets the escalation stage).")] = None,
) -> None:
    """Score call transcripts: compliance findings, talk metrics, opening, sentiment and a QA score."""
    if fail_on is not None and fail_on not in SEVERITIES:
        raise CallcoachError(f"--fail-on: unknown severity {fail_on!r}; expected one of {', '.join(SEVERITIES)}")
    if call_id is not None and len(files) > 1:
        raise CallcoachError("--call-id can only be used with a single file")
    pipeline = Pipeline(load_config(config))
    meta = _metadata_options(call_id, agent_id, team, started_at, days_overdue)
    results: list[CallResult] = []
    errors = 0
    for path in files:
        try:
            transcript = read_transcript(path, format=input_format, metadata=meta or None)
            result = pipeline.score(transcript)
        except CallcoachError as exc:
            errors += 1
            print(f"callcoach: error: {exc}", file=sys.stderr)
            continue
        except Exception as exc:  # a bug must not stop the batch or print what was said
            errors += 1
            print(f"callcoach: error: {path}: internal error while scoring ({type(exc).__name__}); "
                  "please report it. Set CALLCOACH_DEBUG=1 to see the traceback "
                  "(it may contain transcript text).", file=sys.stderr)
            if os.environ.get("CALLCOACH_DEBUG"):
                raise
            continue
        results.append(result)
        if out is None and format is not OutputFormat.json:
            _emit(result, format)
    if out is not None:
        _write_dir(results, out)
    elif format is OutputFormat.json:
        docs = [r.to_dict() for r in results]
        typer.echo(json.dumps(docs[0] if len(files) == 1 and docs else docs, ensure_ascii=False, indent=2))
    if errors:
        print(f"callcoach: {errors} of {len(files)} file(s) could not be scored", file=sys.stderr)
        raise typer.Exit(2)
    if fail_on is not None and any(
        severity_rank(f.severity) >= severity_rank(fail_on) for r in results for f in r.findings
    ):
        raise typer.Exit(1)


def _emit(result: CallResult, format: OutputFormat) -> None:
    if format is OutputFormat.jsonl:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        typer.echo(table_row(result))


def table_row(result: CallResult) -> str:
    """Return a one-line human summary of a result."""
    m = result.metrics
    share = m.get("talk.agent_share")
    worst = max((severity_rank(f.severity) for f in result.findings), default=-1)
    cats = sorted({f.category for f in result.findings if f.category not in ("opening", "conduct", "listening")})
    return (
        f"{result.metadata.call_id:<20} {result.metadata.agent_id:<8} score={result.score:5.1f} "
        f"{'PASS' if result.passed else 'FAIL'}  agent_share={'-' if share is None else f'{share:.0%}'}  "
        f"opening={m.get('opening.adherence', 0):.0%}  findings={len(result.findings)}"
        f"{' worst=' + SEVERITIES[worst] if worst >= 0 else ''}{'  ' + ','.join(cats) if cats else ''}"
    )


def _write_dir(results: list[CallResult], out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "results.jsonl").open("w", encoding="utf-8") as jl:
            for r in results:
                doc = r.to_dict()
                (out / f"{_safe(r.metadata.call_id)}.json").write_text(
                    json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
                jl.write(json.dumps(doc, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise CallcoachError(f"cannot write results: {exc.strerror}", path=str(out)) from exc
    for r in results:
        typer.echo(table_row(r))
    print(f"callcoach: wrote {len(results)} result(s) to {out}", file=sys.stderr)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "call"

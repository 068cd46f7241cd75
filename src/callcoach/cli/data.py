"""``callcoach export``, ``callcoach query`` and ``callcoach review``: the results database."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from typing_extensions import Annotated

from ..errors import CallcoachError
from ..models import SEVERITIES


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class QueryWhat(str, Enum):
    calls = "calls"
    findings = "findings"
    reviews = "reviews"


def _when(value: Optional[str], option: str) -> Optional[datetime]:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CallcoachError(f"{option}: expected a date or ISO 8601 time (2026-11-02 or 2026-11-02T08:00+08:00), got {value!r}") from exc
    if when.tzinfo is None:
        from datetime import timedelta, timezone

        when = when.replace(tzinfo=timezone(timedelta(hours=8)))
    return when


def _open(db: str) -> Any:
    from ..store import open_store

    if "://" not in db and not Path(db).is_file():
        raise CallcoachError("database not found (run `callcoach run … --out DIR` first, or pass a URL)", path=db)
    return open_store(db)


def _emit(rows: list[dict[str, Any]], fmt: ExportFormat, out: Optional[Path]) -> None:
    if fmt in (ExportFormat.jsonl, ExportFormat.json):
        text = ("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + ("\n" if rows else "")
                if fmt is ExportFormat.jsonl else json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
        return
    import pandas as pd

    frame = pd.json_normalize(rows, sep=".") if rows else pd.DataFrame()
    for col in frame.columns:  # nested lists (turns, findings) become JSON text in flat formats
        if frame[col].map(lambda v: isinstance(v, (list, dict))).any():
            frame[col] = frame[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v)
    if fmt is ExportFormat.csv:
        if out is None:
            frame.to_csv(sys.stdout, index=False)
        else:
            frame.to_csv(out, index=False, encoding="utf-8-sig")
        return
    if out is None:
        raise CallcoachError("--format parquet needs --out FILE")
    frame.to_parquet(out, index=False)


def export_command(
    db: Annotated[str, typer.Option("--db", help="Results database (SQLite file or URL).")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.jsonl,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to FILE instead of stdout.", metavar="FILE")] = None,
    agent: Annotated[Optional[str], typer.Option("--agent", help="Only this agent's calls.")] = None,
    team: Annotated[Optional[str], typer.Option("--team", help="Only this team's calls.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Calls started at or after (date or ISO time).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Calls started before (date or ISO time).")] = None,
) -> None:
    """Export every stored call's latest result (the JSON `callcoach score` prints), one per line by default."""
    with _open(db) as store:
        rows = store.latest_results(agent_id=agent, team=team, since=_when(since, "--since"), until=_when(until, "--until"))
    _emit(rows, format, out)
    print(f"callcoach: exported {len(rows)} call(s)", file=sys.stderr)


def query_command(
    db: Annotated[str, typer.Option("--db", help="Results database (SQLite file or URL).")],
    what: Annotated[QueryWhat, typer.Argument(help="calls, findings or reviews.")] = QueryWhat.calls,
    agent: Annotated[Optional[str], typer.Option("--agent", help="Only this agent.")] = None,
    team: Annotated[Optional[str], typer.Option("--team", help="Only this team.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Calls started at or after (date or ISO time).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Calls started before (date or ISO time).")] = None,
    severity: Annotated[Optional[str], typer.Option("--severity", help="Findings of at least this severity.")] = None,
    category: Annotated[Optional[str], typer.Option("--category", help="Findings of this category.")] = None,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to FILE instead of stdout.", metavar="FILE")] = None,
) -> None:
    """Answer the usual questions: an agent's calls last week, all critical findings this month…"""
    if severity is not None and severity not in SEVERITIES:
        raise CallcoachError(f"--severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    s, u = _when(since, "--since"), _when(until, "--until")
    with _open(db) as store:
        if what is QueryWhat.findings:
            rows = store.findings(severity=severity, category=category, agent_id=agent, team=team, since=s, until=u)
        elif what is QueryWhat.reviews:
            rows = store.reviews()
        else:
            rows = [_call_row(d) for d in store.latest_results(agent_id=agent, team=team, since=s, until=u)]
    _emit(rows, format, out)


def _call_row(doc: dict[str, Any]) -> dict[str, Any]:
    m = doc.get("metrics", {})
    return {
        "call_id": doc.get("call_id"), "agent_id": doc.get("agent_id"), "team": doc.get("team"),
        "started_at": doc.get("started_at"), "score": doc.get("score"), "passed": doc.get("passed"),
        "findings": len(doc.get("findings", [])),
        "critical": sum(1 for f in doc.get("findings", []) if f.get("severity") == "critical"),
        "agent_share": m.get("talk.agent_share"), "opening_adherence": m.get("opening.adherence"),
        "promise_to_pay": m.get("conduct.promise_to_pay"),
    }


def review_command(
    call_id: Annotated[str, typer.Argument(help="The call reviewed.")],
    db: Annotated[str, typer.Option("--db", help="Results database (SQLite file or URL).")],
    decision: Annotated[str, typer.Option("--decision", help="confirmed, rejected, needs_coaching or escalated.")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who reviewed.")],
    rule: Annotated[Optional[str], typer.Option("--rule", help="The finding's rule id, if the decision is about one.")] = None,
    note: Annotated[str, typer.Option("--note", help="Free text (kept in the database).")] = "",
) -> None:
    """Record a reviewer's decision on a call or one of its findings."""
    with _open(db) as store:
        store.add_review(call_id, reviewer=reviewer, decision=decision, note=note, rule_id=rule)
    print(f"callcoach: recorded {decision} on {call_id}", file=sys.stderr)

"""Load scored results and write every report into one directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..errors import CallcoachError
from .redact import redact_result

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac", ".amr")


@dataclass(frozen=True)
class ReportOptions:
    """How reports are written.

    ``redact``: mask phone, ID-card and bank-card numbers and similar identifiers (default);
    ``lang``: language of the coaching report, "zh" or "en"; ``audio_dirs``: where to look for
    ``<call_id>.<ext>`` recordings for the call page's player; ``period``: pandas period of the
    dashboard's trends ("W" week, "M" month, "D" day).
    """

    redact: bool = True
    lang: str = "zh"
    audio_dirs: tuple[Path, ...] = ()
    period: str = "W"


@dataclass
class ReportIndex:
    """What was written."""

    out_dir: Path
    calls: list[Path] = field(default_factory=list)
    agents: list[Path] = field(default_factory=list)
    dashboard: Optional[Path] = None
    exports: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_results(paths: Iterable[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """Read scored results from .json (one result or a list), .jsonl files and directories.

    Returns the results and one error message per unreadable file (the rest still load).
    Results with the same ``call_id`` keep the last one read.
    """
    by_id: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for path in _expand(paths):
        try:
            docs = _read(path)
        except (OSError, ValueError, CallcoachError) as exc:
            errors.append(f"{path}: {exc.__class__.__name__}: not a callcoach result file ({_reason(exc)})")
            continue
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict) or "call_id" not in doc or "turns" not in doc:
                errors.append(f"{path}: item {i + 1} is not a callcoach result (needs call_id and turns)")
                continue
            by_id[str(doc["call_id"])] = doc
    return list(by_id.values()), errors


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).split("\n")[0][:120]


def _expand(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.suffix in (".json", ".jsonl") and x.is_file()))
        else:
            out.append(p)
    return out


def _read(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    doc = json.loads(text)
    return doc if isinstance(doc, list) else [doc]


def find_audio(doc: Mapping[str, Any], options: ReportOptions) -> Optional[Path]:
    """Return the recording of a call: ``<call_id>.<ext>`` in the audio dirs or beside its source."""
    call_id = str(doc.get("call_id"))
    dirs = list(options.audio_dirs)
    source = doc.get("source")
    if source:
        dirs.append(Path(str(source)).parent)
        stem = Path(str(source)).stem
    else:
        stem = call_id
    for d in dirs:
        for name in dict.fromkeys((call_id, stem)):
            for ext in AUDIO_EXTENSIONS:
                candidate = Path(d) / f"{name}{ext}"
                if candidate.is_file():
                    return candidate
    return None


def safe_name(name: Any) -> str:
    """Return a file-name-safe version of an id."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)) or "unknown"


def write_reports(
    results: Sequence[Mapping[str, Any]], out_dir: Path, options: Optional[ReportOptions] = None
) -> ReportIndex:
    """Write call pages, coaching reports and the dashboard for ``results`` into ``out_dir``."""
    from .agent_report import render_agent_report
    from .call_page import render_call_page
    from .dashboard import export_frame, render_dashboard, results_frame

    options = options or ReportOptions()
    out_dir = Path(out_dir)
    index = ReportIndex(out_dir)
    docs = [redact_result(d) if options.redact else {**d, "redacted": False} for d in results]
    try:
        (out_dir / "calls").mkdir(parents=True, exist_ok=True)
        (out_dir / "agents").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CallcoachError(f"cannot create the report directory: {exc.strerror}", path=str(out_dir)) from exc

    for doc in docs:
        audio = find_audio(doc, options)
        src = os.path.relpath(audio, out_dir / "calls") if audio else None
        path = out_dir / "calls" / f"{safe_name(doc['call_id'])}.html"
        path.write_text(render_call_page(doc, options=options, audio_src=src), encoding="utf-8")
        index.calls.append(path)

    by_agent: dict[str, list[Mapping[str, Any]]] = {}
    for doc in docs:
        by_agent.setdefault(str(doc.get("agent_id") or "unknown"), []).append(doc)
    for agent_id, own in sorted(by_agent.items()):
        team = own[0].get("team")
        peers = [d for d in docs if d.get("team") == team] if team else docs
        for fmt in ("html", "md"):
            path = out_dir / "agents" / f"{safe_name(agent_id)}.{fmt}"
            path.write_text(render_agent_report(agent_id, own, peers, options=options, fmt=fmt), encoding="utf-8")
            index.agents.append(path)

    frame = results_frame(docs)
    index.dashboard = out_dir / "dashboard.html"
    index.dashboard.write_text(render_dashboard(frame, docs, options=options), encoding="utf-8")
    index.exports = export_frame(frame, out_dir)
    (out_dir / "index.html").write_text(_index_page(index, options), encoding="utf-8")
    return index


def _index_page(index: ReportIndex, options: ReportOptions) -> str:
    from .html import esc, page

    def links(paths: list[Path]) -> str:
        return "<ul>" + "".join(
            f'<li><a href="{esc(p.relative_to(index.out_dir).as_posix())}">{esc(p.stem)}</a></li>'
            for p in paths if p.suffix == ".html"
        ) + "</ul>"

    body = (
        '<section><h2>Dashboard</h2><p><a href="dashboard.html">dashboard.html</a></p></section>'
        f"<section><h2>Agents</h2>{links(index.agents)}</section>"
        f"<section><h2>Calls</h2>{links(index.calls)}</section>"
    )
    note = "" if options.redact else "<b>Unredacted</b> — authorised reviewers only."
    return page("callcoach reports", body, subtitle=note)

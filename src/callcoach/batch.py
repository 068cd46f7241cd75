"""Batch scoring: find the calls, score what changed in worker processes, store every result.

Recordings are transcribed first (the recogniser is loaded once per worker) and their
transcripts kept. A call is identified by the hash of its file's content, so running the same
input again does no work; after a rule or model change, calls are re-scored from the transcripts kept in the
database (never re-read or re-transcribed) and older results stay with their provenance. Each
call is stored in its own transaction as soon as it is scored, so a run killed at any moment
loses nothing committed and the next run resumes with what is left. One bad call never stops
the batch: it is reported with its file and reason.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .config import Config
from .errors import CallcoachError
from .models import CallResult, Transcript

TRANSCRIPT_SUFFIXES = (".json", ".txt", ".text", ".vtt", ".srt", ".csv", ".tsv")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".amr")
MANIFEST_COLUMNS = ("path", "call_id", "agent_id", "team", "started_at", "customer_ref", "days_overdue",
                    "product", "channel_layout")


@dataclass(frozen=True)
class BatchItem:
    """One input file and the metadata given for it outside the file."""

    path: Path
    metadata: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""

    @property
    def is_audio(self) -> bool:
        return self.path.suffix.lower() in AUDIO_SUFFIXES


@dataclass
class BatchSummary:
    """What a run did."""

    scored: int = 0
    rescored: int = 0
    unchanged: int = 0
    transcribed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.scored + self.rescored + self.unchanged + len(self.failed) + len(self.skipped)

    def lines(self) -> list[str]:
        out = [f"{self.scored} scored, {self.rescored} re-scored from stored transcripts, "
               f"{self.unchanged} unchanged, {len(self.skipped)} skipped, {len(self.failed)} failed"
               + (f"; {self.transcribed} recording(s) transcribed" if self.transcribed else "")]
        out += [f"  skipped {p}: {why}" for p, why in self.skipped]
        out += [f"  failed  {p}: {why}" for p, why in self.failed]
        out += [f"  warning {p}: {why}" for p, why in self.warnings]
        return out


# --------------------------------------------------------------------------- finding the calls


def name_pattern_regex(pattern: str) -> re.Pattern[str]:
    """Compile a file-name pattern such as ``{agent_id}_{date}_{time}_{call_id}``.

    Fields: any metadata key; ``date`` (YYYYMMDD or YYYY-MM-DD) and ``time`` (HHMMSS or HHMM)
    together make ``started_at``. The pattern matches the file name without its extension.
    """
    parts = re.split(r"(\{[a-z_]+\})", pattern)
    regex = ""
    for part in parts:
        m = re.fullmatch(r"\{([a-z_]+)\}", part)
        if not m:
            regex += re.escape(part)
        elif m.group(1) == "date":
            regex += r"(?P<date>\d{4}-?\d{2}-?\d{2})"
        elif m.group(1) == "time":
            regex += r"(?P<time>\d{4}(?:\d{2})?)"
        else:
            regex += f"(?P<{m.group(1)}>.+?)"
    try:
        return re.compile(f"^{regex}$")
    except re.error as exc:
        raise CallcoachError(f"--name-pattern: invalid pattern {pattern!r} ({exc})") from exc


def metadata_from_name(path: Path, rx: re.Pattern[str], tz: timezone) -> dict[str, Any]:
    """Return the metadata a file name carries under a name pattern ({} if it does not match)."""
    m = rx.match(path.stem)
    if not m:
        return {}
    meta = {k: v for k, v in m.groupdict().items() if k not in ("date", "time") and v}
    date, clock = m.groupdict().get("date"), m.groupdict().get("time")
    if date:
        d = date.replace("-", "")
        t = (clock or "000000").ljust(6, "0")
        try:
            meta["started_at"] = datetime.strptime(d + t, "%Y%m%d%H%M%S").replace(tzinfo=tz).isoformat()
        except ValueError:
            pass
    return meta


def parse_offset(value: str) -> timezone:
    """Return a fixed offset from "+08:00" style text."""
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", value.strip())
    if not m:
        raise CallcoachError(f"--tz: expected an offset like +08:00, got {value!r}")
    sign = 1 if m.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def discover(
    inputs: Sequence[Path],
    *,
    manifest: Optional[Path] = None,
    name_pattern: Optional[str] = None,
    tz: timezone = timezone(timedelta(hours=8)),
) -> tuple[list[BatchItem], list[tuple[str, str]]]:
    """Return the calls to process and the inputs that cannot be (file, reason)."""
    problems: list[tuple[str, str]] = []
    items: list[BatchItem] = []
    rx = name_pattern_regex(name_pattern) if name_pattern else None
    for path in inputs:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                # *.truth.json files are evaluation ground truth beside recordings, not inputs.
                if (p.is_file() and not p.name.startswith(".") and not p.name.endswith(".truth.json")
                        and p.suffix.lower() in TRANSCRIPT_SUFFIXES + AUDIO_SUFFIXES):
                    items.append(BatchItem(p, metadata_from_name(p, rx, tz) if rx else {}, "folder"))
        elif path.is_file():
            items.append(BatchItem(path, metadata_from_name(path, rx, tz) if rx else {}, "argument"))
        else:
            problems.append((str(path), "no such file or directory"))
    if manifest is not None:
        m_items, m_problems = read_manifest(manifest)
        items += m_items
        problems += m_problems
    # A transcript and a recording of the same call: keep the transcript (no need to transcribe).
    transcripts = {(i.path.parent, i.path.stem) for i in items if not i.is_audio}
    kept = []
    for i in items:
        if i.is_audio and (i.path.parent, i.path.stem) in transcripts:
            continue
        kept.append(i)
    return kept, problems


def read_manifest(path: Path) -> tuple[list[BatchItem], list[tuple[str, str]]]:
    """Read a CSV manifest: a ``path`` column (relative to the manifest) and call metadata."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CallcoachError(f"cannot read the manifest ({exc.__class__.__name__})", path=str(path)) from exc
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "path" not in reader.fieldnames:
        raise CallcoachError("the manifest needs a header row with a 'path' column", path=str(path))
    unknown = set(reader.fieldnames) - set(MANIFEST_COLUMNS)
    if unknown:
        raise CallcoachError(f"unknown manifest column(s) {sorted(unknown)}; expected {list(MANIFEST_COLUMNS)}",
                             path=str(path))
    items, problems = [], []
    for line_no, row in enumerate(reader, start=2):
        raw = (row.get("path") or "").strip()
        where = f"{path}:{line_no}"
        if not raw:
            problems.append((where, "row has no path"))
            continue
        file = (path.parent / raw) if not Path(raw).is_absolute() else Path(raw)
        if not file.is_file():
            problems.append((where, f"file not found: {raw}"))
            continue
        meta: dict[str, Any] = {k: v.strip() for k, v in row.items() if k != "path" and v and v.strip()}
        if "days_overdue" in meta:
            try:
                meta["days_overdue"] = int(meta["days_overdue"])
            except ValueError:
                problems.append((where, "days_overdue is not a whole number"))
                continue
        items.append(BatchItem(file, meta, where))
    return items, problems


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class AsrOptions:
    """How recordings in a batch are transcribed (see ``callcoach transcribe``)."""

    model: Optional[str] = None
    engine: str = "faster-whisper"
    device: str = "auto"
    compute_type: Optional[str] = None
    beam_size: int = 5
    vad: bool = True
    language: str = "zh"


_WORKER: dict[str, Any] = {}


def _init_worker(config: Config, asr: Optional[AsrOptions] = None) -> None:
    """Load the pipeline once per worker process (rules, models, jieba); the recogniser on first use."""
    from .pipeline import Pipeline

    _WORKER["pipeline"] = Pipeline(config)
    _WORKER["asr_options"] = asr or AsrOptions()


def _transcriber() -> Any:
    if "transcriber" not in _WORKER:
        from .transcribe import load_transcriber

        o: AsrOptions = _WORKER.get("asr_options") or AsrOptions()
        _WORKER["transcriber"] = load_transcriber(o.engine, model=o.model, device=o.device,
                                                  compute_type=o.compute_type, beam_size=o.beam_size, vad=o.vad)
    return _WORKER["transcriber"]


def _transcribe(path: Path, metadata: Mapping[str, Any]) -> Transcript:
    """Transcribe one recording with the worker's recogniser (loaded once)."""
    from .audio import load_audio
    from .io import metadata_from_mapping
    from .speakers import transcribe_call

    meta = metadata_from_mapping(metadata, source=str(path), default_call_id=path.stem)
    o: AsrOptions = _WORKER.get("asr_options") or AsrOptions()
    transcript = transcribe_call(load_audio(path), _transcriber(), metadata=meta,
                                 channel_layout=str(meta.extra.get("channel_layout") or "agent-left"),
                                 language=o.language, initial_prompt=None)
    if not transcript.turns:
        raise CallcoachError("no speech was found in the recording (silence or music only)", path=str(path))
    return transcript


def _score_task(kind: str, payload: Any, metadata: Mapping[str, Any], source: str) -> tuple[Transcript, CallResult]:
    """Score one call in a worker: ``payload`` is file bytes ("file"), a stored Transcript
    ("stored") or nothing for a recording ("audio", transcribed first)."""
    from .io import loads_transcript

    pipeline = _WORKER["pipeline"]
    if kind == "stored":
        transcript = payload
    elif kind == "audio":
        transcript = _transcribe(Path(source), metadata)
    else:
        transcript = loads_transcript(payload, format=_format_of(source), source=source, metadata=dict(metadata) or None)
    return transcript, pipeline.score(transcript)


def _format_of(source: str) -> str:
    from .io import detect_format

    return detect_format(Path(source))


def _dask_task(config: Config, asr: Optional[AsrOptions], kind: str, payload: Any, metadata: Mapping[str, Any],
               source: str) -> tuple[Transcript, CallResult]:
    """Score one call on a Dask worker, loading the pipeline once per worker process."""
    if "pipeline" not in _WORKER:
        _init_worker(config, asr)
    return _score_task(kind, payload, metadata, source)


def run_batch(
    items: Sequence[BatchItem],
    store: Any,
    config: Config,
    *,
    workers: int = 1,
    progress: Optional[Callable[[int, int, float], None]] = None,
    executor: str = "process",
    scheduler: Optional[str] = None,
    asr: Optional[AsrOptions] = None,
) -> BatchSummary:
    """Score every item that needs it and store each result as soon as it is ready.

    ``executor`` is "process" (worker processes on this machine) or "dask" (tasks on a Dask
    distributed cluster: ``scheduler`` is its address, or None for a local cluster of
    ``workers`` processes). Results always come back here and are written by this process,
    one transaction per call.
    """
    from .pipeline import Pipeline
    from .provenance import scoring_version

    summary = BatchSummary()
    version = scoring_version(Pipeline(config).provenance())
    tasks: list[tuple[str, Any, dict[str, Any], str, str]] = []  # kind, payload, metadata, source, key
    seen: dict[str, str] = {}
    for item in items:
        label = item.origin if item.origin not in ("folder", "argument", "") else str(item.path)
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            summary.failed.append((label, f"cannot read the file ({exc.strerror})"))
            continue
        key = store.content_key(data)
        if key in seen:
            summary.skipped.append((label, f"duplicate of {seen[key]}"))
            continue
        seen[key] = str(item.path)
        if store.has_result(key, version):
            summary.unchanged += 1
            continue
        stored = store.get_transcript(key)
        if stored is not None:
            tasks.append(("stored", stored, {}, str(item.path), key))
        elif item.is_audio:
            tasks.append(("audio", None, dict(item.metadata), str(item.path), key))
        else:
            tasks.append(("file", data, dict(item.metadata), str(item.path), key))

    def done(fut: Future[tuple[Transcript, CallResult]], task: tuple[str, Any, dict[str, Any], str, str]) -> None:
        kind, _, _, source, key = task
        try:
            transcript, result = fut.result()
            store.save_call(key, transcript, result, source=source, scoring_version=version)
            missing = [k for k, v in (("agent_id", transcript.metadata.agent_id != "unknown"),
                                      ("started_at", transcript.metadata.started_at is not None)) if not v]
            if missing and kind != "stored":
                summary.warnings.append((source, f"stored without {' and '.join(missing)} (give it in the file, "
                                                 "a manifest or the file name): trends and checks across calls "
                                                 "cannot use this call fully"))
        except CallcoachError as exc:
            summary.failed.append((source, exc.problem if exc.path else str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - a bug in one call must not stop the batch
            summary.failed.append((source, f"internal error ({type(exc).__name__}); rerun alone with CALLCOACH_DEBUG=1"))
            if os.environ.get("CALLCOACH_DEBUG"):
                raise
            return
        if kind == "stored":
            summary.rescored += 1
        else:
            summary.scored += 1
            if kind == "audio":
                summary.transcribed += 1

    start = time.monotonic()
    total = len(tasks)
    finished = 0
    if executor == "dask":
        _run_dask(tasks, config, asr, workers, scheduler, done, progress, start)
        return summary
    if executor != "process":
        raise CallcoachError(f"--executor: expected process or dask, got {executor!r}")
    if workers <= 1:
        if "pipeline" not in _WORKER:
            _init_worker(config, asr)
        _WORKER["asr_options"] = asr or AsrOptions()
        for task in tasks:
            fut: Future[tuple[Transcript, CallResult]] = Future()
            try:
                fut.set_result(_score_task(task[0], task[1], task[2], task[3]))
            except BaseException as exc:  # noqa: BLE001 - handed to done() like a worker's failure
                fut.set_exception(exc)
            done(fut, task)
            finished += 1
            if progress:
                progress(finished, total, time.monotonic() - start)
        return summary
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(config, asr)) as pool:
        pending: dict[Future[tuple[Transcript, CallResult]], tuple[str, Any, dict[str, Any], str, str]] = {}
        queue = iter(tasks)
        for task in _take(queue, workers * 4):
            pending[pool.submit(_score_task, task[0], task[1], task[2], task[3])] = task
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in ready:
                done(fut, pending.pop(fut))
                finished += 1
                if progress:
                    progress(finished, total, time.monotonic() - start)
            for task in _take(queue, len(ready)):
                pending[pool.submit(_score_task, task[0], task[1], task[2], task[3])] = task
    return summary


def _run_dask(
    tasks: list[tuple[str, Any, dict[str, Any], str, str]],
    config: Config,
    asr: Optional[AsrOptions],
    workers: int,
    scheduler: Optional[str],
    done: Callable[[Any, tuple[str, Any, dict[str, Any], str, str]], None],
    progress: Optional[Callable[[int, int, float], None]],
    start: float,
) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        from .errors import MissingDependencyError

        raise MissingDependencyError("dask[distributed]", "dask", "--executor dask") from exc
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        raise CallcoachError(f"--scheduler: cannot reach the Dask scheduler {scheduler!r} ({exc})") from exc
    try:
        futures = {client.submit(_dask_task, config, asr, t[0], t[1], t[2], t[3], pure=False): t for t in tasks}
        finished = 0
        for fut in as_completed(futures):
            done(fut, futures[fut])
            finished += 1
            if progress:
                progress(finished, len(tasks), time.monotonic() - start)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _take(it: Iterable[Any], n: int) -> list[Any]:
    out = []
    for x in it:
        out.append(x)
        if len(out) >= n:
            break
    return out


def progress_printer(stream: Any = sys.stderr) -> Callable[[int, int, float], None]:
    """Return a progress callback printing counts, rate and ETA to ``stream``."""
    tty = hasattr(stream, "isatty") and stream.isatty()
    last = [0.0]

    def show(done: int, total: int, elapsed: float) -> None:
        if not tty and done != total and elapsed - last[0] < 5:
            return
        last[0] = elapsed
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        line = f"scoring {done}/{total} calls, {rate * 60:.0f} calls/min, ETA {eta:.0f} s"
        stream.write(("\r" + line) if tty else line + "\n")
        if tty and done == total:
            stream.write("\n")
        stream.flush()

    return show


# --------------------------------------------------------------------------- across calls


def check_across_calls(store: Any, config: Config, attempts: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run the cross-call checks over every stored call (plus dial-log ``attempts``) and store their findings."""
    from .crosscall import CallRecord, check_calls, record_from_transcript

    records = list(attempts)
    for call in store.calls():
        transcript = store.get_transcript(call["call_key"])
        if transcript is not None:
            try:
                records.append(record_from_transcript(transcript))
            except ValueError:
                continue  # a start time without offset cannot be placed in the customer's day
        else:
            records.append(CallRecord(call_id=call["call_id"], agent_id=call["agent_id"], team=call.get("team"),
                                      customer_ref=call.get("customer_ref"), started_at=None))
    findings = check_calls(records, config.crosscall)
    from .pipeline import Pipeline
    from .provenance import scoring_version

    store.save_crosscall_findings(scoring_version(Pipeline(config).provenance()), findings)
    return findings


def with_crosscall(docs: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return result documents with their calls' cross-call findings added (for the reports)."""
    by_call: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_call.setdefault(str(f["call_id"]), []).append({
            "rule_id": f["rule_id"], "category": f["category"], "severity": f["severity"],
            "speaker": "agent", "turn_index": None, "start_s": None, "end_s": None, "quote": "",
            "message": f["message"] + (f" ({f['evidence']})" if f.get("evidence") else ""),
            "suggestion": f.get("suggestion"), "rationale": f.get("rationale"), "scorer": "crosscall",
            "char_start": None, "char_end": None,
        })
    out = []
    for doc in docs:
        extra = by_call.get(str(doc.get("call_id")), [])
        out.append({**doc, "findings": list(doc.get("findings", [])) + extra} if extra else dict(doc))
    return out

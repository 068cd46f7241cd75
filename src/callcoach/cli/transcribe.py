"""``callcoach transcribe``: recordings in, callcoach JSON transcripts out.

Progress (file i/n, audio length, speed, ETA) goes to stderr. A file that cannot be decoded
or transcribed is reported with its reason and the batch goes on; the exit code is 2 at the
end when any file failed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, List, Optional

import typer
from typing_extensions import Annotated

from ..audio import DEFAULT_MAX_DURATION_S, load_audio
from ..errors import CallcoachError, ConfigError
from ..io import write_transcript_json
from ..models import CallMetadata
from ..speakers import CHANNEL_LAYOUTS, DEFAULT_PAUSE_S, DIRECTIONS, transcribe_call
from ..transcribe import DEFAULT_INITIAL_PROMPT, load_transcriber

_META_KEYS = ("call_id", "agent_id", "team", "started_at", "customer_ref", "days_overdue", "product")


def transcribe_command(
    audio: Annotated[List[Path], typer.Argument(help="Recordings (wav, flac, mp3, m4a, ogg, opus, amr).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Write DIR/<recording name>.json for each recording.", metavar="DIR")],
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Whisper model name or local directory (default: $CALLCOACH_MODEL, else base).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="ASR engine.")] = "faster-whisper",
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    compute_type: Annotated[Optional[str], typer.Option("--compute-type", help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA).")] = None,
    beam_size: Annotated[int, typer.Option("--beam-size", min=1, help="Decoder beam width.")] = 5,
    language: Annotated[str, typer.Option("--language", help="Recognition language.")] = "zh",
    channel_layout: Annotated[str, typer.Option("--channel-layout", help="Two-channel recordings: agent-left or agent-right.")] = "agent-left",
    direction: Annotated[Optional[str], typer.Option("--direction", help="inbound or outbound (helps attribute speakers in mono calls).")] = None,
    no_vad: Annotated[bool, typer.Option("--no-vad", help="Do not skip non-speech with voice-activity detection.")] = False,
    pause: Annotated[float, typer.Option("--pause", min=0.1, help="A pause longer than this (seconds) starts a new turn.")] = DEFAULT_PAUSE_S,
    max_duration: Annotated[float, typer.Option("--max-duration", min=1.0, help="Refuse recordings longer than this (seconds).")] = DEFAULT_MAX_DURATION_S,
    prompt: Annotated[Optional[str], typer.Option("--prompt", help="Decoder prompt, e.g. domain words in simplified Chinese (default none: it made Whisper base repeat itself).")] = None,
    agent_id: Annotated[Optional[str], typer.Option("--agent-id", help="Agent id written into every transcript.")] = None,
) -> None:
    """Transcribe call recordings into callcoach JSON transcripts (agent and customer turns with word times).

    Metadata for one call can sit beside its recording as <name>.meta.json (call_id, agent_id,
    team, started_at, days_overdue, … and channel_layout or direction).
    """
    if channel_layout not in CHANNEL_LAYOUTS:
        raise ConfigError(f"--channel-layout: expected one of {', '.join(CHANNEL_LAYOUTS)}, got {channel_layout!r}")
    if direction is not None and direction not in DIRECTIONS:
        raise ConfigError(f"--direction: expected one of {', '.join(DIRECTIONS)}, got {direction!r}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CallcoachError(f"cannot create the output folder: {exc.strerror or exc}", path=str(out)) from exc
    _progress(f"loading the {engine} model …")
    transcriber = load_transcriber(engine, model=model, device=device, compute_type=compute_type,
                                   beam_size=beam_size, vad=not no_vad)
    sizes = [_size(p) for p in audio]
    started = time.monotonic()
    done_bytes = 0
    audio_s = 0.0
    failed = silent = 0
    for i, path in enumerate(audio, 1):
        t0 = time.monotonic()
        try:
            metadata = _sidecar_metadata(path, agent_id)
            recording = load_audio(path, max_duration_s=max_duration)
            transcript = transcribe_call(recording, transcriber, metadata=metadata, channel_layout=channel_layout,
                                         pause_s=pause, language=language, direction=direction,
                                         initial_prompt=prompt or DEFAULT_INITIAL_PROMPT)
            write_transcript_json(transcript, out / f"{path.stem}.json")
        except CallcoachError as exc:
            failed += 1
            print(f"callcoach: error: {exc}", file=sys.stderr)
        except Exception as exc:  # one bad file must not stop the batch
            failed += 1
            print(f"callcoach: error: {path}: internal error while transcribing ({type(exc).__name__}); "
                  "set CALLCOACH_DEBUG=1 to see the traceback",
                  file=sys.stderr)
            if os.environ.get("CALLCOACH_DEBUG"):
                raise
        else:
            audio_s += recording.duration_s
            elapsed = time.monotonic() - t0
            note = "no speech detected, empty transcript" if not transcript.turns else f"{len(transcript.turns)} turns"
            silent += not transcript.turns
            _progress(f"[{i}/{len(audio)}] {path.name}: {recording.duration_s:.1f} s audio, {note}, "
                      f"{elapsed:.1f} s (RTF {elapsed / max(recording.duration_s, 1e-3):.2f})"
                      f"{_eta(started, done_bytes + sizes[i - 1], sum(sizes[i:]))}")
        done_bytes += sizes[i - 1]
    total = time.monotonic() - started
    _progress(f"transcribed {len(audio) - failed}/{len(audio)} recordings ({audio_s / 60:.1f} min of audio in "
              f"{total:.0f} s), {silent} without speech, {failed} failed; transcripts in {out}")
    if failed:
        raise typer.Exit(2)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _eta(started: float, done_bytes: int, left_bytes: int) -> str:
    if not left_bytes or not done_bytes:
        return ""
    seconds = (time.monotonic() - started) / done_bytes * left_bytes
    return f", ETA {int(seconds // 60)}:{int(seconds % 60):02d}"


def _sidecar_metadata(path: Path, agent_id: Optional[str]) -> CallMetadata:
    """Return the call's metadata: <name>.meta.json beside the recording, the options, the file name."""
    sidecar = path.with_name(f"{path.stem}.meta.json")
    data: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read the call metadata: {exc}", path=str(sidecar)) from exc
        if not isinstance(data, dict):
            raise ConfigError("call metadata must be a JSON object", path=str(sidecar))
    started_at = data.get("started_at")
    try:
        started = datetime.fromisoformat(started_at) if isinstance(started_at, str) else None
        days = int(data["days_overdue"]) if data.get("days_overdue") is not None else None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid started_at or days_overdue ({exc})", path=str(sidecar)) from exc
    extra = {k: v for k, v in data.items() if k not in _META_KEYS}
    return CallMetadata(
        call_id=str(data.get("call_id") or path.stem),
        agent_id=str(agent_id or data.get("agent_id") or "unknown"),
        team=data.get("team"),
        started_at=started,
        customer_ref=data.get("customer_ref"),
        days_overdue=days,
        product=data.get("product"),
        extra=extra,
    )

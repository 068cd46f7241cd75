"""Read call transcripts (JSON, plain text, WebVTT, SRT, CSV) into Transcript records.

Every problem raises :class:`~callcoach.errors.TranscriptError` naming the file, the line
(or row, cue, JSON path) and what is wrong, never quoting what was said.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

from callcoach.errors import TranscriptError
from callcoach.io import csv_format, json_format, subtitles, text_format
from callcoach.io._common import (
    MAX_FILE_BYTES,
    SNIFF_BYTES,
    SPEAKER_LABELS,
    ParsedFile,
    build_metadata,
    check_size,
    check_text,
    decode_bytes,
    finalize_turns,
    read_bytes,
)
from callcoach.models import CallMetadata, Transcript

__all__ = [
    "metadata_from_mapping",
    "FORMATS",
    "MAX_FILE_BYTES",
    "SPEAKER_LABELS",
    "detect_format",
    "loads_transcript",
    "read_transcript",
    "write_transcript_json",
]

FORMATS: tuple[str, ...] = ("json", "text", "vtt", "srt", "csv")
"""The transcript formats :func:`read_transcript` reads."""

_PARSERS: dict[str, Callable[[str, str], ParsedFile]] = {
    "json": json_format.parse,
    "text": text_format.parse,
    "vtt": subtitles.parse_vtt,
    "srt": subtitles.parse_srt,
    "csv": csv_format.parse,
}

_EXTENSIONS: dict[str, str] = {
    ".json": "json",
    ".txt": "text",
    ".text": "text",
    ".vtt": "vtt",
    ".srt": "srt",
    ".csv": "csv",
    ".tsv": "csv",
}

_ALIASES: dict[str, str] = {"txt": "text", "webvtt": "vtt", "tsv": "csv"}

_SRT_START = re.compile(r"^\d+[ \t]*\r?\n[ \t]*[\d:,.]+[ \t]*-->")
_CSV_SPEAKER = re.compile(r"(^|[,\t;])\s*\"?(speaker|role|说话人|角色)\"?\s*([,\t;]|$)", re.IGNORECASE)

PathLike = Union[str, Path]


def read_transcript(
    path: PathLike,
    *,
    format: Optional[str] = None,
    metadata: Optional[Mapping[str, Any]] = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> Transcript:
    """Read a transcript file into a Transcript.

    Args:
        path: The transcript file.
        format: One of FORMATS; None detects it from the extension, then the content.
        metadata: Call metadata that overrides or completes the file's (None values are ignored).
        max_bytes: Files larger than this are rejected.

    Returns:
        The transcript, turns in time order when timed.

    Raises:
        TranscriptError: The file cannot be read, is not text, or is malformed.
    """
    file = Path(path)
    source = str(path)
    text = decode_bytes(read_bytes(file, max_bytes), source)
    if format is not None:
        chosen = _check_format(format, source)
    else:
        chosen = _EXTENSIONS.get(file.suffix.lower()) or sniff_format(text)
    return _parse(text, chosen, source, metadata, default_call_id=file.stem)


def loads_transcript(
    text: Union[str, bytes],
    *,
    format: str,
    source: str = "<string>",
    metadata: Optional[Mapping[str, Any]] = None,
) -> Transcript:
    """Read a transcript from a string (or undecoded bytes, e.g. from stdin).

    Args:
        text: The transcript content.
        format: One of FORMATS.
        source: The name used in error messages; its stem is the default call_id.
        metadata: Call metadata that overrides or completes the content's.

    Raises:
        TranscriptError: The content is not text or is malformed.
    """
    if isinstance(text, bytes):
        check_size(len(text), MAX_FILE_BYTES, source)
        decoded = decode_bytes(text, source)
    else:
        decoded = check_text(text.lstrip("\ufeff"), source)
    return _parse(decoded, _check_format(format, source), source, metadata, default_call_id=Path(source).stem or source)


def detect_format(path: PathLike) -> str:
    """Return the format of a transcript file: from its extension, else by sniffing its content.

    Raises:
        TranscriptError: The file has an unknown extension and cannot be read.
    """
    file = Path(path)
    known = _EXTENSIONS.get(file.suffix.lower())
    if known:
        return known
    return sniff_format(_decode_head(read_bytes(file, SNIFF_BYTES, head_only=True)))


def sniff_format(text: str) -> str:
    """Guess the format of decoded transcript content; plain text when nothing else fits."""
    head = text[:SNIFF_BYTES].lstrip("\ufeff \t\r\n")
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("{"):
        return "json"
    if _SRT_START.match(head):
        return "srt"
    first_line = head.split("\n", 1)[0]
    if _CSV_SPEAKER.search(first_line) and re.search(r"[,\t;]", first_line):
        return "csv"
    return "text"


def write_transcript_json(transcript: Transcript, path: PathLike) -> None:
    """Write a transcript as UTF-8 JSON in the documented format (see docs/transcript-formats.md)."""
    json_format.write(transcript, path)


def _decode_head(head: bytes) -> str:
    """Decode the start of a file well enough to sniff its (ASCII) format markers."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", "ignore")
    return head.decode("utf-8", "ignore").lstrip("\ufeff")


def _check_format(format: str, source: str) -> str:
    name = _ALIASES.get(format.strip().lower(), format.strip().lower())
    if name not in FORMATS:
        raise TranscriptError(f"unknown transcript format '{format}'; use one of {', '.join(FORMATS)}", path=source)
    return name


def _parse(
    text: str,
    format: str,
    source: str,
    overrides: Optional[Mapping[str, Any]],
    *,
    default_call_id: str,
) -> Transcript:
    parsed = _PARSERS[format](text, source)
    turns = finalize_turns(parsed.turns, source=source, fill_missing_ends=parsed.fill_missing_ends)
    metadata = build_metadata(parsed, overrides, source=source, default_call_id=default_call_id)
    return Transcript(
        metadata=metadata,
        turns=turns,
        source=source,
        source_format=format,
        provenance=dict(parsed.provenance),
    )


def metadata_from_mapping(values: Mapping[str, Any], *, source: str, default_call_id: str) -> "CallMetadata":
    """Validate call metadata given outside a transcript (a manifest row, a recording's sidecar)."""
    from callcoach.io._common import ParsedFile, build_metadata

    return build_metadata(ParsedFile(turns=()), values, source=source, default_call_id=default_call_id)

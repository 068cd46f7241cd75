"""Helpers shared by the transcript readers: decoding, metadata, turn validation.

Error messages name the file, the line (or row, cue, JSON path) and the problem. They
never quote what was said: transcripts are personal data.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from callcoach.errors import TranscriptError
from callcoach.models import CallMetadata, Speaker, Turn, Word

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Default size limit of a transcript file."""

SNIFF_BYTES = 64 * 1024
"""How much of a file is inspected to reject binary content before decoding it all."""

CHARS_PER_SECOND = 4.5
"""Speaking rate used to estimate the end of a last turn that only has a start time."""

SAME_SPEAKER_OVERLAP_S = 0.5
"""How far a turn may start before the previous turn of the same speaker ended."""

BACKWARDS_TOLERANCE_S = 30.0
"""How far a turn's start may go back before the previous turn's start (file order)."""

WORD_TOLERANCE_S = 0.05
"""How far a word's times may fall outside its turn's span (rounding in ASR output)."""

DEFAULT_AGENT_ID = "unknown"

SPEAKER_LABELS: Mapping[str, Speaker] = {
    "坐席": "agent",
    "座席": "agent",
    "客服": "agent",
    "催收员": "agent",
    "业务员": "agent",
    "agent": "agent",
    "a": "agent",
    "客户": "customer",
    "用户": "customer",
    "借款人": "customer",
    "债务人": "customer",
    "customer": "customer",
    "c": "customer",
}
"""Speaker labels (case-insensitive for Latin letters) and the role each one means."""

METADATA_KEYS: tuple[str, ...] = (
    "call_id",
    "agent_id",
    "team",
    "started_at",
    "customer_ref",
    "days_overdue",
    "product",
)

_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2})(?:[.,](\d{1,3}))?$")
_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_LABEL_PREFIX = re.compile(r"^([^\s:：，。,.!?！？、；;\"“”'‘’\[\]]{1,16})\s*[:：]\s*")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_UNCOMMON = re.compile(r"[^\x00-\x7f\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2010-\u2027\u00b7]")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx or .docx file?); export it as CSV or plain text"),
    (b"%PDF", "a PDF document; export it as plain text"),
    (b"RIFF", "a RIFF file (WAV audio?), not a transcript"),
    (b"ID3", "an MP3 audio file, not a transcript"),
    (b"fLaC", "a FLAC audio file, not a transcript"),
    (b"OggS", "an Ogg audio file, not a transcript"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.xls/.doc?); export it as CSV or plain text"),
)


@dataclass(frozen=True, slots=True)
class RawTurn:
    """A turn as a reader found it, before validation, sorting and end-time filling."""

    speaker: Speaker
    text: str
    line: Optional[int]
    where: Optional[str] = None
    start_s: Optional[float] = None
    end_s: Optional[float] = None
    words: tuple[Word, ...] = ()
    channel: Optional[int] = None

    def ref(self) -> str:
        """Return how messages refer to this turn: its JSON path, row, cue or line."""
        if self.where:
            return self.where
        return f"line {self.line}" if self.line is not None else "a turn"


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What a reader returns: raw turns and the metadata found in the file."""

    turns: tuple[RawTurn, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    metadata_where: Mapping[str, tuple[str, Optional[int]]] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    fill_missing_ends: bool = False


@dataclass
class HeaderMetadata:
    """Collect a file's ``key: value`` metadata lines, rejecting a key given twice."""

    source: str
    values: dict[str, Any] = field(default_factory=dict)
    where: dict[str, tuple[str, Optional[int]]] = field(default_factory=dict)

    def add(self, key: str, value: str, line: int) -> None:
        """Record `key` from `line`; an empty value counts as not given."""
        if key in self.values:
            first = self.where[key][1]
            raise fail(self.source, f"metadata key '{key}' given twice (first on line {first})", line=line)
        self.values[key] = value.strip() or None
        self.where[key] = (f"metadata '{key}'", line)


def fail(source: str, problem: str, *, line: Optional[int] = None, where: Optional[str] = None) -> TranscriptError:
    """Return a TranscriptError for `source`, prefixing `where` (a row, cue or JSON path)."""
    message = f"{where}: {problem}" if where else problem
    return TranscriptError(message, path=source, line=line)


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES, *, head_only: bool = False) -> bytes:
    """Read a transcript file's bytes: at most `max_bytes`, else an error (or, head_only, the first ones)."""
    source = str(path)
    try:
        if path.is_dir():
            raise fail(source, "is a folder, not a transcript file")
        if not head_only:
            check_size(path.stat().st_size, max_bytes, source)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + (0 if head_only else 1))
    except FileNotFoundError as exc:
        raise fail(source, "file not found") from exc
    except OSError as exc:
        raise fail(source, f"cannot read the file: {exc.strerror or exc}") from exc
    if not head_only:
        check_size(len(data), max_bytes, source)
    return data


def check_size(size: int, max_bytes: int, source: str) -> None:
    """Reject content larger than `max_bytes`."""
    if size > max_bytes:
        raise fail(source, f"file is {_size(size)}, over the {_size(max_bytes)} limit for a transcript")


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a transcript: UTF-8 (BOM optional), UTF-16 with BOM, or plausible GB18030.

    Binary content is rejected from the first 64 KB, so garbage fails fast.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return check_text(_decode_utf16(data, source), source)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    _reject_binary(data[:SNIFF_BYTES], source)
    _reject_control_bytes(data, source)
    return _require_content(_decode_8bit(data, source), source)


def check_text(text: str, source: str) -> str:
    """Return `text` unchanged after rejecting control characters and empty content."""
    _reject_control_chars(text, source)
    return _require_content(text, source)


def _require_content(text: str, source: str) -> str:
    if not text.strip():
        raise fail(source, "file is empty")
    return text


def _decode_utf16(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise fail(source, "has a UTF-16 byte-order mark but is not valid UTF-16; re-save as UTF-8") from exc


def _reject_binary(head: bytes, source: str) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise fail(source, f"looks like {what}")
    if b"\0" not in head:
        return
    if _looks_like_utf16(head):
        raise fail(source, "looks like UTF-16 text without a byte-order mark; re-save as UTF-8")
    raise fail(source, "binary content (NUL bytes), not a text transcript")


def _looks_like_utf16(head: bytes) -> bool:
    """Return True when NUL bytes sit on one parity and the bytes decode to clean UTF-16 text."""
    even, odd = head[0::2].count(b"\0"), head[1::2].count(b"\0")
    if even and odd:
        return False
    sample = head[: len(head) - len(head) % 2]
    try:
        text = sample.decode("utf-16-le" if odd else "utf-16-be")
    except UnicodeDecodeError:
        return False
    return not _CONTROL_CHARS.search(text)


def _reject_control_bytes(data: bytes, source: str) -> None:
    match = _CONTROL_BYTES.search(data, 0, SNIFF_BYTES) or _CONTROL_BYTES.search(data)
    if match:
        line = data.count(b"\n", 0, match.start()) + 1
        raise fail(source, f"control character 0x{match.group()[0]:02x}: not a text transcript", line=line)


def _reject_control_chars(text: str, source: str) -> None:
    match = _CONTROL_CHARS.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise fail(source, f"control character U+{ord(match.group()):04X}: not a text transcript", line=line)


def _decode_8bit(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = None
        if text is not None and plausibly_chinese(text):
            return text
        line = data.count(b"\n", 0, utf8_error.start) + 1
        raise fail(source, "not UTF-8 text; re-save as UTF-8", line=line) from utf8_error


def plausibly_chinese(text: str) -> bool:
    """Return True when the non-ASCII characters of `text` are mostly common Chinese ones."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if not non_ascii:
        return True
    uncommon = len(_UNCOMMON.findall(text))
    return _HAN.search(text) is not None and uncommon <= 0.05 * non_ascii


def split_lines(text: str) -> list[str]:
    """Split text on CR, LF or CRLF only, so line numbers match what editors show."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def join_text(first: str, second: str) -> str:
    """Join two pieces of one utterance: with a space between Latin words, none in Chinese."""
    first, second = first.rstrip(), second.lstrip()
    if not first or not second:
        return first + second
    if ord(first[-1]) < 0x2E80 and ord(second[0]) < 0x2E80:
        return f"{first} {second}"
    return first + second


def speaker_for(label: str) -> Optional[Speaker]:
    """Return the role a speaker label means, or None when the label is unknown."""
    return SPEAKER_LABELS.get(label.strip().casefold())


def label_prefix(text: str) -> Optional[tuple[str, str]]:
    """Split a ``label：rest`` prefix off `text`; None when there is none or it is a URL or clock time."""
    match = _LABEL_PREFIX.match(text)
    if not match:
        return None
    label, rest = match.group(1), text[match.end():]
    if rest.startswith("//") or (label[-1].isdigit() and rest[:1].isdigit()):
        return None
    return label, rest


def parse_clock(value: str) -> Optional[float]:
    """Parse seconds ("12.5") or a clock time ("mm:ss", "hh:mm:ss.mmm"); None if malformed."""
    value = value.strip()
    if _SECONDS.match(value):
        return float(value)
    match = _CLOCK.match(value)
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (int(fraction.ljust(3, "0")) / 1000 if fraction else 0.0)


def build_metadata(
    parsed: ParsedFile,
    overrides: Optional[Mapping[str, Any]],
    *,
    source: str,
    default_call_id: str,
) -> CallMetadata:
    """Merge file metadata with overrides (which win) and validate it into CallMetadata."""
    values: dict[str, Any] = {}
    where: dict[str, tuple[str, Optional[int]]] = {}
    for key, value in parsed.metadata.items():
        if value is not None:
            values[key] = value
            where[key] = parsed.metadata_where.get(key, (key, None))
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            where[key] = (f"metadata override '{key}'", None)
    known = {key: _check_metadata(key, values[key], where[key], source) for key in values if key in METADATA_KEYS}
    extra = {key: value for key, value in values.items() if key not in METADATA_KEYS}
    return CallMetadata(
        call_id=known.get("call_id") or default_call_id,
        agent_id=known.get("agent_id") or DEFAULT_AGENT_ID,
        team=known.get("team"),
        started_at=known.get("started_at"),
        customer_ref=known.get("customer_ref"),
        days_overdue=known.get("days_overdue"),
        product=known.get("product"),
        extra=extra,
    )


def _check_metadata(key: str, value: Any, where: tuple[str, Optional[int]], source: str) -> Any:
    label, line = where
    try:
        return check_metadata_value(key, value)
    except ValueError as exc:
        raise fail(source, str(exc), line=line, where=label) from None


def check_metadata_value(key: str, value: Any) -> Any:
    """Validate and convert the value of a known metadata key; raise ValueError if invalid."""
    if key == "started_at":
        return parse_started_at(value)
    if key == "days_overdue":
        return parse_days_overdue(value)
    return _identifier(value)


def _identifier(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected a string, got {describe(value)}")
    text = str(value).strip()
    if not text:
        raise ValueError("is empty")
    return text


def parse_started_at(value: Any) -> datetime:
    """Parse an ISO 8601 date-time with a UTC offset; naive or malformed values are errors."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"expected an ISO 8601 date-time with a UTC offset such as 2024-05-01T09:30:00+08:00, "
                f"got {describe(value)}"
            ) from None
    else:
        raise ValueError(f"expected an ISO 8601 date-time string, got {describe(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("date-time has no UTC offset; add one, e.g. 2024-05-01T09:30:00+08:00")
    return moment


def parse_days_overdue(value: Any) -> int:
    """Parse a whole number of days >= 0 from an int or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    else:
        raise ValueError(f"expected a whole number of days >= 0, got {describe(value)}")
    if number < 0:
        raise ValueError(f"expected a whole number of days >= 0, got {number}")
    return number


def describe(value: Any) -> str:
    """Describe a non-text value for a message: short strings quoted, others by type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return '"' + shown.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def finalize_turns(raw: Sequence[RawTurn], *, source: str, fill_missing_ends: bool = False) -> tuple[Turn, ...]:
    """Validate raw turns, drop empty ones, sort timed ones and return Turn records."""
    turns = [t if t.text == t.text.strip() else replace(t, text=t.text.strip()) for t in raw]
    turns = [t for t in turns if t.text]
    if not turns:
        raise fail(source, "no turns with text found")
    for turn in turns:
        _check_turn_times(turn, source)
    if not _check_timing_mode(turns, source, fill_missing_ends):
        return tuple(_to_turn(t) for t in turns)
    _check_not_backwards(turns, source)
    turns.sort(key=lambda t: t.start_s or 0.0)
    turns = _fill_ends(turns)
    _check_same_speaker_overlap(turns, source)
    return tuple(_to_turn(t) for t in turns)


def _check_turn_times(turn: RawTurn, source: str) -> None:
    for name, value in (("start", turn.start_s), ("end", turn.end_s)):
        if value is None:
            continue
        if not math.isfinite(value):
            raise _turn_error(turn, source, f"{name} time is not a finite number")
        if value < 0:
            raise _turn_error(turn, source, f"negative {name} time {value:g} s")
    if turn.start_s is not None and turn.end_s is not None and turn.end_s < turn.start_s:
        raise _turn_error(turn, source, f"ends ({turn.end_s:.3f} s) before it starts ({turn.start_s:.3f} s)")
    _check_words(turn, source)


def _check_words(turn: RawTurn, source: str) -> None:
    if not turn.words:
        return
    if turn.start_s is None or turn.end_s is None:
        raise _turn_error(turn, source, "has timed words but no start and end time of its own")
    for index, word in enumerate(turn.words):
        label = f"word {index}"
        if not (math.isfinite(word.start_s) and math.isfinite(word.end_s)):
            raise _turn_error(turn, source, f"{label}: time is not a finite number")
        if word.end_s < word.start_s:
            problem = f"{label} ends ({word.end_s:.3f} s) before it starts ({word.start_s:.3f} s)"
            raise _turn_error(turn, source, problem)
        if word.start_s < turn.start_s - WORD_TOLERANCE_S or word.end_s > turn.end_s + WORD_TOLERANCE_S:
            raise _turn_error(
                turn,
                source,
                f"{label} ({word.start_s:.3f}-{word.end_s:.3f} s) lies outside its turn "
                f"({turn.start_s:.3f}-{turn.end_s:.3f} s)",
            )


def _check_timing_mode(turns: list[RawTurn], source: str, fill_missing_ends: bool) -> bool:
    """Return True when every turn is timed; raise when only some are."""
    started = [t.start_s is not None for t in turns]
    if not any(started):
        ended = next((t for t in turns if t.end_s is not None), None)
        if ended:
            raise _turn_error(ended, source, "has an end time but no start time")
        return False
    if not all(started):
        untimed = turns[started.index(False)]
        raise _turn_error(untimed, source, "has no start time, but other turns do; time every turn or none")
    unended = next((t for t in turns if t.end_s is None), None)
    if unended and not fill_missing_ends:
        raise _turn_error(unended, source, "has a start time but no end time")
    return True


def _check_not_backwards(turns: Sequence[RawTurn], source: str) -> None:
    for previous, turn in zip(turns, turns[1:]):
        assert previous.start_s is not None and turn.start_s is not None
        gap = previous.start_s - turn.start_s
        if gap > BACKWARDS_TOLERANCE_S:
            raise _turn_error(
                turn,
                source,
                f"starts at {turn.start_s:.3f} s, {gap:.1f} s before the previous turn ({previous.ref()}); "
                f"times must not go backwards by more than {BACKWARDS_TOLERANCE_S:g} s",
            )


def _fill_ends(turns: list[RawTurn]) -> list[RawTurn]:
    filled = []
    for index, turn in enumerate(turns):
        if turn.end_s is None:
            assert turn.start_s is not None
            if index + 1 < len(turns):
                end = max(turn.start_s, turns[index + 1].start_s or 0.0)
            else:
                end = turn.start_s + len(turn.text) / CHARS_PER_SECOND
            turn = replace(turn, end_s=end)
        filled.append(turn)
    return filled


def _check_same_speaker_overlap(turns: Sequence[RawTurn], source: str) -> None:
    last: dict[str, RawTurn] = {}
    for turn in turns:
        previous = last.get(turn.speaker)
        assert turn.start_s is not None
        if previous is not None and previous.end_s is not None:
            if turn.start_s < previous.end_s - SAME_SPEAKER_OVERLAP_S:
                raise _turn_error(
                    turn,
                    source,
                    f"{turn.speaker} turn starts at {turn.start_s:.3f} s, before the previous {turn.speaker} "
                    f"turn ({previous.ref()}) ends at {previous.end_s:.3f} s; a speaker cannot overlap "
                    f"themselves by more than {SAME_SPEAKER_OVERLAP_S:g} s",
                )
        if previous is None or (turn.end_s or 0.0) >= (previous.end_s or 0.0):
            last[turn.speaker] = turn


def _turn_error(turn: RawTurn, source: str, problem: str) -> TranscriptError:
    return fail(source, problem, line=turn.line, where=turn.where)


def _to_turn(raw: RawTurn) -> Turn:
    return Turn(
        speaker=raw.speaker,
        text=raw.text,
        start_s=raw.start_s,
        end_s=raw.end_s,
        words=raw.words,
        channel=raw.channel,
        line=raw.line,
    )


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"

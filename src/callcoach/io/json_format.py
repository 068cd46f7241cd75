"""Read and write the documented JSON transcript format.

A top-level object with ``schema_version`` (optional), the call metadata (at the top level or
under ``"metadata"``) and ``"turns"``. Type errors name the JSON path and, where it can be
found, the line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from callcoach.errors import TranscriptError
from callcoach.io._common import (
    METADATA_KEYS,
    ParsedFile,
    RawTurn,
    check_metadata_value,
    describe,
    fail,
    speaker_for,
)
from callcoach.models import SCHEMA_VERSION, Speaker, Transcript, Word

JsonPath = tuple[Union[str, int], ...]

_RESERVED = ("schema_version", "metadata", "turns", "provenance", "extra")
_TURN_KEYS = ("speaker", "start_s", "end_s", "text", "words", "channel")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


class _NotFound(Exception):
    """The JSON path is not in the text (only raised while locating lines)."""


def write(transcript: Transcript, path: Union[str, Path]) -> None:
    """Write `transcript` as UTF-8 JSON in the documented format."""
    text = json.dumps(transcript.to_dict(), ensure_ascii=False, indent=2)
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise fail(str(path), f"cannot write the transcript: {exc.strerror or exc}") from exc


def parse(text: str, source: str) -> ParsedFile:
    """Parse the JSON transcript format into raw turns and metadata."""
    return _Reader(text, source).read()


class _Reader:
    """Validate a decoded JSON document, naming the path (and line) of each problem."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def read(self) -> ParsedFile:
        """Return the raw turns, metadata and provenance of the document."""
        data = self._load()
        if not isinstance(data, dict):
            raise self.error((), f"expected a JSON object at the top level, got {describe(data)}")
        self._check_version(data)
        metadata, where = self._metadata(data)
        provenance = data.get("provenance") or {}
        if not isinstance(provenance, dict):
            raise self.error(("provenance",), f"expected an object, got {describe(provenance)}")
        return ParsedFile(self._turns(data), metadata, where, provenance)

    def error(self, path: JsonPath, problem: str) -> TranscriptError:
        """Return an error naming the JSON path and its line (or its nearest parent's)."""
        line = next((n for n in (locate(self.text, path[:k]) for k in range(len(path), 0, -1)) if n), None)
        return fail(self.source, problem, line=line, where=format_path(path) or None)

    def _load(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise fail(self.source, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
        except RecursionError:
            raise fail(self.source, "invalid JSON: nested too deeply") from None

    def _check_version(self, data: dict[str, Any]) -> None:
        version = data.get("schema_version")
        if version is None:
            return
        if not isinstance(version, str) or not re.fullmatch(r"\d+(\.\d+)*", version):
            raise self.error(("schema_version",), f'expected a version string such as "1.0", got {describe(version)}')
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise self.error(
                ("schema_version",),
                f"unsupported schema version {version}; this callcoach reads version {SCHEMA_VERSION}",
            )

    def _metadata(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, Optional[int]]]]:
        values: dict[str, Any] = {}
        paths: dict[str, JsonPath] = {}
        nested = data.get("metadata")
        if nested is not None and not isinstance(nested, dict):
            raise self.error(("metadata",), f"expected an object, got {describe(nested)}")
        for prefix, block in ((("metadata",), nested or {}), ((), data)):
            for key, value in block.items():
                if not prefix and key in _RESERVED:
                    continue
                self._add_metadata(key, value, prefix + (key,), values, paths)
        extra = data.get("extra")
        if extra is not None and not isinstance(extra, dict):
            raise self.error(("extra",), f"expected an object, got {describe(extra)}")
        for key, value in (extra or {}).items():
            self._add_metadata(key, value, ("extra", key), values, paths)
        for key in (k for k in METADATA_KEYS if k in values):
            try:
                check_metadata_value(key, values[key])
            except ValueError as exc:
                raise self.error(paths[key], str(exc)) from None
        return values, {key: (format_path(path), None) for key, path in paths.items()}

    def _add_metadata(
        self, key: str, value: Any, path: JsonPath, values: dict[str, Any], paths: dict[str, JsonPath]
    ) -> None:
        if value is None:
            return
        if key in values and values[key] != value:
            raise self.error(path, f"conflicts with {format_path(paths[key])}; give {key} once")
        values[key] = value
        paths[key] = path

    def _turns(self, data: dict[str, Any]) -> tuple[RawTurn, ...]:
        turns = data.get("turns")
        if turns is None:
            raise self.error((), 'no "turns" list; a transcript needs at least one turn')
        if not isinstance(turns, list):
            raise self.error(("turns",), f"expected a list, got {describe(turns)}")
        if not turns:
            raise self.error(("turns",), "the list is empty; a transcript needs at least one turn")
        lines: list[Optional[int]] = list(element_lines(self.text, ("turns",)))
        if len(lines) != len(turns):
            lines = [None] * len(turns)
        return tuple(self._turn(item, ("turns", index), lines[index]) for index, item in enumerate(turns))

    def _turn(self, item: Any, path: JsonPath, line: Optional[int]) -> RawTurn:
        if not isinstance(item, dict):
            raise self.error(path, f"expected an object, got {describe(item)}")
        unknown = sorted(set(item) - set(_TURN_KEYS))
        if unknown:
            raise self.error(path + (unknown[0],), f"unknown turn field; expected one of {', '.join(_TURN_KEYS)}")
        text = item.get("text")
        if not isinstance(text, str):
            raise self.error(path + ("text",), f"expected a string, got {_kind(text)}")
        return RawTurn(
            speaker=self._speaker(item.get("speaker"), path + ("speaker",)),
            text=text,
            line=line,
            where=format_path(path),
            start_s=self._number(item.get("start_s"), path + ("start_s",)),
            end_s=self._number(item.get("end_s"), path + ("end_s",)),
            words=self._words(item.get("words"), path + ("words",)),
            channel=self._channel(item.get("channel"), path + ("channel",)),
        )

    def _speaker(self, value: Any, path: JsonPath) -> Speaker:
        if not isinstance(value, str):
            raise self.error(path, f'expected "agent" or "customer", got {describe(value)}')
        speaker = speaker_for(value)
        if speaker is None:
            raise self.error(path, f"unknown speaker label '{value[:16]}'; expected \"agent\" or \"customer\"")
        return speaker

    def _number(self, value: Any, path: JsonPath, required: bool = False) -> Optional[float]:
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path, f"expected a number, got {describe(value)}")
        return float(value)

    def _channel(self, value: Any, path: JsonPath) -> Optional[int]:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(path, f"expected a whole number >= 0, got {describe(value)}")
        return value

    def _words(self, value: Any, path: JsonPath) -> tuple[Word, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {describe(value)}")
        return tuple(self._word(item, path + (index,)) for index, item in enumerate(value))

    def _word(self, item: Any, path: JsonPath) -> Word:
        if not isinstance(item, dict):
            raise self.error(path, f"expected an object, got {describe(item)}")
        text = item.get("text")
        if not isinstance(text, str):
            raise self.error(path + ("text",), f"expected a string, got {_kind(text)}")
        start = self._number(item.get("start_s"), path + ("start_s",), required=True)
        end = self._number(item.get("end_s"), path + ("end_s",), required=True)
        probability = self._number(item.get("probability"), path + ("probability",))
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise self.error(path + ("probability",), f"expected a number from 0 to 1, got {probability:g}")
        assert start is not None and end is not None
        return Word(text=text, start_s=start, end_s=end, probability=probability)


def _kind(value: Any) -> str:
    """Describe a value found in a text field by its type only: it may be personal data."""
    if isinstance(value, bool) or value is None:
        return describe(value)
    if isinstance(value, (int, float)):
        return "a number"
    return describe(value)


def format_path(path: JsonPath) -> str:
    """Format a JSON path as ``turns[3].end_s``."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def locate(text: str, path: JsonPath) -> Optional[int]:
    """Return the line where the value at `path` starts in the JSON `text`, or None."""
    try:
        token = _seek(_TOKEN.finditer(text), path)
    except (StopIteration, _NotFound):
        return None
    return text.count("\n", 0, token.start()) + 1


def element_lines(text: str, path: JsonPath) -> list[int]:
    """Return the line where each element of the JSON array at `path` starts (one pass)."""
    tokens = _TOKEN.finditer(text)
    offsets: list[int] = []
    try:
        token = _seek(tokens, path)
        if token.group() != "[":
            return []
        token = next(tokens)
        while token.group() != "]":
            offsets.append(token.start())
            _skip(token, tokens)
            if next(tokens).group() == "]":
                break
            token = next(tokens)
    except (StopIteration, _NotFound):
        return []
    return _lines_of(text, offsets)


def _lines_of(text: str, offsets: list[int]) -> list[int]:
    lines, line, previous = [], 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


def _seek(tokens: Iterator[re.Match[str]], path: JsonPath) -> re.Match[str]:
    """Consume tokens up to the first token of the value at `path` and return it."""
    token = next(tokens)
    for step in path:
        if isinstance(step, str) and token.group() == "{":
            token = _seek_key(tokens, step)
        elif isinstance(step, int) and token.group() == "[":
            token = _seek_index(tokens, step)
        else:
            raise _NotFound
    return token


def _seek_key(tokens: Iterator[re.Match[str]], key: str) -> re.Match[str]:
    while True:
        token = next(tokens)
        if token.group() == "}":
            raise _NotFound
        if token.group() == ",":
            token = next(tokens)
        next(tokens)
        value = next(tokens)
        if json.loads(token.group()) == key:
            return value
        _skip(value, tokens)


def _seek_index(tokens: Iterator[re.Match[str]], index: int) -> re.Match[str]:
    token = next(tokens)
    for _ in range(index):
        if token.group() == "]":
            raise _NotFound
        _skip(token, tokens)
        if next(tokens).group() != ",":
            raise _NotFound
        token = next(tokens)
    if token.group() == "]":
        raise _NotFound
    return token


def _skip(first: re.Match[str], tokens: Iterator[re.Match[str]]) -> None:
    """Consume the rest of the value that starts with token `first`."""
    if first.group() not in ("{", "["):
        return
    depth = 1
    for token in tokens:
        if token.group() in ("{", "["):
            depth += 1
        elif token.group() in ("}", "]"):
            depth -= 1
            if depth == 0:
                return

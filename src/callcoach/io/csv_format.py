"""Read CSV (or TSV): a header row, then one row per turn.

Columns: speaker (or role), text (or content/utterance), optional start_s/end_s (or
start/end; seconds or mm:ss) and channel. Call-level columns (call_id, agent_id, …) must hold
one value per file. Other columns are ignored.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator, Optional

from callcoach.io._common import METADATA_KEYS, ParsedFile, RawTurn, describe, fail, parse_clock, speaker_for

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "speaker": ("speaker", "role", "说话人", "角色"),
    "text": ("text", "content", "utterance", "内容", "文本"),
    "start_s": ("start_s", "start", "start_time"),
    "end_s": ("end_s", "end", "end_time"),
    "channel": ("channel",),
}
"""Accepted header names (case-insensitive) of each turn column."""

_DELIMITERS = (",", "\t", ";")


class _Rows:
    """A csv reader that knows the line each row starts on."""

    def __init__(self, text: str, source: str) -> None:
        first = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = max(_DELIMITERS, key=first.count)
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        self._source = source

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            line = self._reader.line_num + 1
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise fail(self._source, f"malformed CSV: {exc}", line=line) from exc
            if any(cell.strip() for cell in row):
                yield line, row


def parse(text: str, source: str) -> ParsedFile:
    """Parse CSV rows into raw turns and the call-level columns into metadata."""
    rows = iter(_Rows(text, source))
    header_line, header = next(rows, (1, []))
    columns = _columns(header, header_line, source)
    metadata: dict[str, Any] = {}
    where: dict[str, tuple[str, Optional[int]]] = {}
    first_rows: dict[str, int] = {}
    turns = []
    for number, (line, row) in enumerate(rows, start=1):
        if len(row) != len(header):
            raise fail(source, f"{len(row)} fields, but the header has {len(header)}", line=line, where=f"row {number}")
        cells = {name: row[index].strip() for name, index in columns.items()}
        _collect_metadata(cells, number, line, metadata, where, first_rows, source)
        turns.append(_turn(cells, number, line, source))
    return ParsedFile(tuple(turns), metadata, where, fill_missing_ends=True)


def _columns(header: list[str], line: int, source: str) -> dict[str, int]:
    names = [cell.strip().lstrip("\ufeff").casefold() for cell in header]
    columns: dict[str, int] = {}
    for column, aliases in COLUMN_ALIASES.items():
        found = [name for name in names if name in aliases]
        if len(found) > 1:
            raise fail(source, f"header has both '{found[0]}' and '{found[1]}' columns; keep one", line=line)
        if found:
            columns[column] = names.index(found[0])
    for column in ("speaker", "text"):
        if column not in columns:
            expected = " or ".join(f"'{a}'" for a in COLUMN_ALIASES[column])
            raise fail(source, f"header row has no {column} column ({expected})", line=line)
    columns.update({key: names.index(key) for key in METADATA_KEYS if key in names})
    return columns


def _collect_metadata(
    cells: dict[str, str],
    number: int,
    line: int,
    metadata: dict[str, Any],
    where: dict[str, tuple[str, Optional[int]]],
    first_rows: dict[str, int],
    source: str,
) -> None:
    """Record call-level column values, which must not change from row to row."""
    for key in METADATA_KEYS:
        value = cells.get(key)
        if not value:
            continue
        if key not in metadata:
            metadata[key] = value
            where[key] = (f"row {number}: {key}", line)
            first_rows[key] = number
        elif metadata[key] != value:
            raise fail(
                source,
                f"{key} differs from row {first_rows[key]}; "
                "a CSV file holds one call, so call-level columns must not change",
                line=line,
                where=f"row {number}",
            )


def _turn(cells: dict[str, str], number: int, line: int, source: str) -> RawTurn:
    where = f"row {number}"
    label = cells["speaker"]
    if not label:
        raise fail(source, "speaker is empty", line=line, where=where)
    speaker = speaker_for(label)
    if speaker is None:
        raise fail(source, f"unknown speaker label '{label[:16]}'", line=line, where=where)
    return RawTurn(
        speaker,
        cells["text"],
        line,
        where=where,
        start_s=_time(cells, "start_s", line, where, source),
        end_s=_time(cells, "end_s", line, where, source),
        channel=_channel(cells, line, where, source),
    )


def _time(cells: dict[str, str], column: str, line: int, where: str, source: str) -> Optional[float]:
    value = cells.get(column)
    if not value:
        return None
    seconds = parse_clock(value)
    if seconds is None:
        problem = f"{column}: expected seconds or mm:ss, got {describe(value)}"
        if value.startswith("-"):
            problem = f"{column}: negative time {describe(value)}"
        raise fail(source, problem, line=line, where=where)
    return seconds


def _channel(cells: dict[str, str], line: int, where: str, source: str) -> Optional[int]:
    value = cells.get("channel")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise fail(source, f"channel: expected a whole number >= 0, got {describe(value)}", line=line, where=where)
    return int(value)

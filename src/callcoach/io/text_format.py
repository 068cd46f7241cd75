"""Read plain-text dialogue: one turn per line, ``[mm:ss] 坐席：text``.

A line may start with a time (``[mm:ss]``, ``[mm:ss-mm:ss]``, ``[hh:mm:ss.ms]``), then needs a
speaker label and a colon. ``客服:[1]text`` sentence ids (ASR exports, several turns may share
one line) and ``[1]->客服：text`` are accepted. A line without a label continues the previous
turn. Metadata comes first, as ``# key: value`` lines or ``key: value`` lines between ``---``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from callcoach.io._common import (
    METADATA_KEYS,
    SPEAKER_LABELS,
    HeaderMetadata,
    ParsedFile,
    RawTurn,
    fail,
    join_text,
    label_prefix,
    parse_clock,
    speaker_for,
    split_lines,
)

__all__ = ["SPEAKER_LABELS", "parse"]

_TIME = r"(?:\d+:)?\d+:\d{2}(?:[.,]\d{1,3})?"
_TIME_PREFIX = re.compile(rf"^\[\s*({_TIME})\s*(?:(?:-->|-|–|—|~|～)\s*({_TIME})\s*)?\]\s*")
_LOOSE_TIME = re.compile(r"^\[[\d\s:.,\-–—~～>]*:[\d\s:.,\-–—~～>]*\]")
_ID_FIRST = re.compile(r"^\[\d+\]\s*(?:->|→)?\s*")
_SENTENCE_ID = re.compile(r"^\[\d+\]\s*")
_PARENTHETICAL = re.compile(r"[(（][^)）]*[)）]$")
_LABEL_ALTERNATION = "|".join(re.escape(label) for label in sorted(SPEAKER_LABELS, key=len, reverse=True))
_ID_TURN = re.compile(rf"(?<![A-Za-z0-9])({_LABEL_ALTERNATION})\s*[:：]\s*\[\d+\]\s*", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^#\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:：]\s*(.*)$")
_FENCED_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[:：]\s*(.*)$")
_FENCE = "---"


def parse(text: str, source: str) -> ParsedFile:
    """Parse plain-text dialogue into raw turns and header metadata."""
    lines = split_lines(text)
    first_body, header = _read_header(lines, source)
    turns: list[RawTurn] = []
    for index in range(first_body, len(lines)):
        _read_line(lines[index], index + 1, turns, source)
    return ParsedFile(tuple(turns), header.values, header.where, fill_missing_ends=True)


def _read_header(lines: list[str], source: str) -> tuple[int, HeaderMetadata]:
    header = HeaderMetadata(source)
    index = _skip_blank(lines, 0)
    if index < len(lines) and lines[index].strip() == _FENCE:
        index = _read_fenced(lines, index, header)
    while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
        match = _HEADER_LINE.match(lines[index].strip())
        if match:
            header.add(match.group(1), match.group(2), index + 1)
        index += 1
    return index, header


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _read_fenced(lines: list[str], index: int, header: HeaderMetadata) -> int:
    opened = index + 1
    index += 1
    while index < len(lines):
        line = lines[index].strip()
        if line == _FENCE:
            return index + 1
        if line and not line.startswith("#"):
            match = _FENCED_LINE.match(line)
            if not match:
                raise fail(
                    header.source,
                    f"expected 'key: value' or a closing '{_FENCE}' in the metadata block opened on line {opened}",
                    line=index + 1,
                )
            header.add(match.group(1), match.group(2), index + 1)
        index += 1
    raise fail(header.source, f"metadata block opened with '{_FENCE}' is never closed", line=opened)


def _read_line(raw: str, number: int, turns: list[RawTurn], source: str) -> None:
    body = raw.strip()
    if not body or body.startswith("#"):
        return
    start, end, rest = _split_time(body, number, source)
    if _ID_TURN.match(rest):
        turns.extend(_id_turns(rest, number, start, end))
        return
    rest = _strip_leading_id(rest)
    prefix = label_prefix(rest)
    if prefix:
        label, text = prefix
        speaker = speaker_for(_PARENTHETICAL.sub("", label))
        if speaker:
            text = _SENTENCE_ID.sub("", text, count=1)
            turns.append(RawTurn(speaker, text, number, start_s=start, end_s=end))
            return
        if not raw[:1].isspace():
            raise fail(source, _unknown_label(label), line=number)
    if start is not None:
        raise fail(source, "time stamp without a speaker label such as '坐席：' or '客户：'", line=number)
    if not turns:
        raise fail(source, "text before the first speaker label; start the line with e.g. '坐席：'", line=number)
    turns[-1] = replace(turns[-1], text=join_text(turns[-1].text, rest))


def _split_time(body: str, number: int, source: str) -> tuple[Optional[float], Optional[float], str]:
    match = _TIME_PREFIX.match(body)
    if not match:
        if _LOOSE_TIME.match(body):
            raise fail(source, "malformed time stamp; use [mm:ss], [mm:ss-mm:ss] or [hh:mm:ss.ms]", line=number)
        return None, None, body
    start = parse_clock(match.group(1))
    end = parse_clock(match.group(2)) if match.group(2) else None
    if start is None or (match.group(2) and end is None):
        raise fail(source, "malformed time stamp (minutes and seconds must be below 60)", line=number)
    return start, end, body[match.end():]


def _id_turns(rest: str, number: int, start: Optional[float], end: Optional[float]) -> list[RawTurn]:
    """Split ``客服:[1]…用户:[2]…`` into turns; they share the line's start, the last gets its end."""
    matches = list(_ID_TURN.finditer(rest))
    turns = []
    for index, match in enumerate(matches):
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(rest)
        speaker = speaker_for(match.group(1))
        assert speaker is not None
        last = index == len(matches) - 1
        turns.append(RawTurn(speaker, rest[match.end():stop], number, start_s=start, end_s=end if last else None))
    return turns


def _strip_leading_id(rest: str) -> str:
    """Strip a ``[1]->`` sentence id in front of a known speaker label."""
    match = _ID_FIRST.match(rest)
    if not match:
        return rest
    prefix = label_prefix(rest[match.end():])
    if prefix and speaker_for(prefix[0]):
        return rest[match.end():]
    return rest


def _unknown_label(label: str) -> str:
    if label in METADATA_KEYS:
        return f"unknown speaker label '{label}'; write metadata as '# {label}: value' before the first turn"
    agents = [_shown(k) for k, v in SPEAKER_LABELS.items() if v == "agent"]
    customers = [_shown(k) for k, v in SPEAKER_LABELS.items() if v == "customer"]
    return (
        f"unknown speaker label '{label}'; use one of {', '.join(agents)} (agent) or "
        f"{', '.join(customers)} (customer), or indent the line to continue the previous turn"
    )



def _shown(label: str) -> str:
    return label.upper() if len(label) == 1 else label

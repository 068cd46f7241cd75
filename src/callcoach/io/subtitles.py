"""Read WebVTT and SRT subtitles: one turn per cue, speaker from a voice tag or a label.

Lower-case ``key: value`` lines in the WEBVTT header are call metadata; SRT has none.

The speaker comes from a ``<v 坐席>`` voice tag or a ``坐席：`` prefix; a cue without either
continues with the previous cue's speaker. A cue line that starts with another label starts a
new turn with the same times. Other tags are stripped and multi-line text is joined.
"""

from __future__ import annotations

import html
import re
from typing import Optional

from callcoach.io._common import (
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
from callcoach.models import Speaker

_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?(?:[A-Za-z][^<>]*|\d[\d:.]*)>|\{\\[^{}]*\}")
_HEADER_LINE = re.compile(r"^([a-z_][a-z0-9_]*)\s*:\s*(.*)$")
_VTT_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")

Block = list[tuple[int, str]]


def parse_vtt(text: str, source: str) -> ParsedFile:
    """Parse a WebVTT file into raw turns."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][0][1].lstrip("\ufeff").startswith("WEBVTT"):
        raise fail(source, "not a WebVTT file: the first line must be 'WEBVTT'", line=1)
    header = _vtt_header(blocks[0][1:], source)
    cues = [b for b in blocks[1:] if not b[0][1].strip().startswith(_VTT_SKIPPED_BLOCKS)]
    return ParsedFile(_turns(cues, source), header.values, header.where)


def _vtt_header(lines: Block, source: str) -> HeaderMetadata:
    """Read ``call_id: C1``-style lines of the WEBVTT header; other header lines are ignored."""
    header = HeaderMetadata(source)
    for number, line in lines:
        match = _HEADER_LINE.match(line.strip())
        if match:
            header.add(match.group(1), match.group(2), number)
    return header


def parse_srt(text: str, source: str) -> ParsedFile:
    """Parse an SRT file into raw turns."""
    return ParsedFile(_turns(_blocks(text), source))


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block = []
    for number, line in enumerate(split_lines(text), start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _turns(cues: list[Block], source: str) -> tuple[RawTurn, ...]:
    turns: list[RawTurn] = []
    for index, cue in enumerate(cues, start=1):
        turns.extend(_cue_turns(cue, index, turns[-1].speaker if turns else None, source))
    if not turns:
        raise fail(source, "no cues found")
    return tuple(turns)


def _cue_turns(cue: Block, index: int, previous: Optional[Speaker], source: str) -> list[RawTurn]:
    where = f"cue {index}"
    timing_at = next((i for i, (_, line) in enumerate(cue[:2]) if "-->" in line), None)
    if timing_at is None:
        raise fail(source, "expected a time line 'hh:mm:ss.mmm --> hh:mm:ss.mmm'", line=cue[0][0], where=where)
    number, timing = cue[timing_at]
    start, end = _parse_timing(timing, number, where, source)
    payload = [line for _, line in cue[timing_at + 1:]]
    turns: list[RawTurn] = []
    for speaker, text in _speaker_pieces(payload, number, where, source):
        speaker = speaker or (turns[-1].speaker if turns else previous)
        if speaker is None:
            problem = "no speaker; add a voice tag such as <v 坐席> or a label such as '坐席：'"
            raise fail(source, problem, line=number, where=where)
        turns.append(RawTurn(speaker, text, number, where=where, start_s=start, end_s=end))
    return turns


def _parse_timing(line: str, number: int, where: str, source: str) -> tuple[float, float]:
    match = _TIMING.match(line)
    if not match:
        raise fail(source, "malformed time line; expected 'hh:mm:ss.mmm --> hh:mm:ss.mmm'", line=number, where=where)
    start, end = parse_clock(match.group(1)), parse_clock(match.group(2))
    if start is None or end is None:
        raise fail(source, "malformed time (minutes and seconds must be below 60)", line=number, where=where)
    return start, end


def _speaker_pieces(
    payload: list[str], number: int, where: str, source: str
) -> list[tuple[Optional[Speaker], str]]:
    """Split cue text into (speaker or None, text) pieces: a new piece at each voice or label."""
    pieces: list[tuple[Optional[Speaker], str]] = []
    for line in payload:
        speaker, text = _line_speaker(line, number, where, source)
        if speaker is not None or not pieces:
            pieces.append((speaker, text))
        else:
            pieces[-1] = (pieces[-1][0], join_text(pieces[-1][1], text))
    return pieces


def _line_speaker(line: str, number: int, where: str, source: str) -> tuple[Optional[Speaker], str]:
    voices = {v.strip() for v in _VOICE.findall(line)}
    text = html.unescape(_TAG.sub("", line)).strip()
    if len(voices) > 1:
        raise fail(source, "several voices on one cue line; put each speaker on its own line", line=number, where=where)
    if voices:
        return _known(voices.pop(), number, where, source), text
    prefix = label_prefix(text)
    if prefix:
        return _known(prefix[0], number, where, source), prefix[1]
    return None, text


def _known(label: str, number: int, where: str, source: str) -> Speaker:
    speaker = speaker_for(label)
    if speaker is None:
        raise fail(
            source,
            f"unknown speaker label '{label}'; "
            "use e.g. 坐席/客服/agent for the agent, 客户/用户/customer for the customer",
            line=number,
            where=where,
        )
    return speaker

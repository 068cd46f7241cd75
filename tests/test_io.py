"""Tests of callcoach.io: every transcript format, metadata, and each error case."""

from __future__ import annotations

import codecs
import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional, Union

import pytest

from callcoach.errors import TranscriptError
from callcoach.io import (
    FORMATS,
    detect_format,
    loads_transcript,
    read_transcript,
    write_transcript_json,
)
from callcoach.io.text_format import SPEAKER_LABELS
from callcoach.models import SCHEMA_VERSION, Transcript

SAMPLES = Path(__file__).resolve().parent / "data" / "transcripts"
SAMPLE_TEXTS = (
    "您好，请问是张先生吗？",
    "是我。",
    "我是某某金融的客服，您的账单已经逾期十五天了。",
    "我这个月手头紧，下周五还可以吗？",
    "好的，那我们约定下周五还款。",
)
SAMPLE_SPEAKERS = ("agent", "customer", "agent", "customer", "agent")
SAMPLE_FORMATS = {
    "sample.json": "json",
    "sample.txt": "text",
    "sample.vtt": "vtt",
    "sample.srt": "srt",
    "sample.csv": "csv",
}
SECRET = "身份证号码是十二三四"
"""An utterance that must never appear in an error message."""


def write(tmp_path: Path, name: str, content: Union[str, bytes]) -> Path:
    """Write a fixture file (str as UTF-8) and return its path."""
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read_error(tmp_path: Path, name: str, content: Union[str, bytes], **kwargs: Any) -> TranscriptError:
    """Read a file that must fail and return the error."""
    path = write(tmp_path, name, content)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path, **kwargs)
    return info.value


def assert_error(error: TranscriptError, name: str, line: Optional[int], *problems: str) -> None:
    """Assert the message names the file, the line and the problem, and quotes no utterance."""
    message = str(error)
    assert name in message
    if line is not None:
        assert error.line == line
        assert f"{name}:{line}:" in message
    for problem in problems:
        assert problem in message, message
    assert SECRET not in message
    assert "张先生" not in message


# --- every format ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLE_FORMATS))
def test_sample_reads_in_every_format(name: str) -> None:
    srt_metadata = {"call_id": "C-2024-0001", "agent_id": "A017"} if name.endswith(".srt") else None
    transcript = read_transcript(SAMPLES / name, metadata=srt_metadata)
    assert tuple(t.speaker for t in transcript.turns) == SAMPLE_SPEAKERS
    assert tuple(t.text for t in transcript.turns) == SAMPLE_TEXTS
    assert transcript.metadata.call_id == "C-2024-0001"
    assert transcript.metadata.agent_id == "A017"
    assert transcript.source_format == detect_format(SAMPLES / name)
    assert transcript.timed


def test_formats_constant() -> None:
    assert FORMATS == ("json", "text", "vtt", "srt", "csv")


@pytest.mark.parametrize(
    ("name", "expected"),
    list(SAMPLE_FORMATS.items()),
)
def test_detect_format_by_extension_and_by_content(tmp_path: Path, name: str, expected: str) -> None:
    assert detect_format(SAMPLES / name) == expected
    unknown = write(tmp_path, "call.dat", (SAMPLES / name).read_bytes())
    assert detect_format(unknown) == expected
    assert read_transcript(unknown).source_format == expected


def test_explicit_format_wins_over_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "call.txt", (SAMPLES / "sample.json").read_text(encoding="utf-8"))
    assert read_transcript(path, format="json").metadata.call_id == "C-2024-0001"


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="unknown transcript format 'docx'"):
        loads_transcript("坐席：你好", format="docx")


# --- JSON -----------------------------------------------------------------------------------


def test_json_reads_all_fields() -> None:
    transcript = read_transcript(SAMPLES / "sample.json")
    meta = transcript.metadata
    assert meta.team == "M1-早期"
    assert meta.started_at == datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert meta.days_overdue == 15
    assert meta.product == "消费贷"
    word = transcript.turns[2].words[0]
    assert (word.text, word.start_s, word.end_s, word.probability) == ("我", 4.3, 4.5, 0.98)
    assert transcript.turns[1].line == 11


def test_json_metadata_nested_and_schema_version_optional() -> None:
    doc = {
        "metadata": {"call_id": "N1", "agent_id": "A9", "queue": "vip"},
        "turns": [{"speaker": "agent", "text": "您好"}, {"speaker": "customer", "text": "嗯"}],
    }
    transcript = loads_transcript(json.dumps(doc, ensure_ascii=False), format="json")
    assert transcript.metadata.call_id == "N1"
    assert transcript.metadata.extra == {"queue": "vip"}
    assert transcript.schema_version == SCHEMA_VERSION
    assert not transcript.timed
    assert transcript.turns[0].start_s is None


def test_json_round_trip(tmp_path: Path) -> None:
    original = read_transcript(SAMPLES / "sample.json", metadata={"queue": "vip"})
    out = tmp_path / "out.json"
    write_transcript_json(original, out)
    again = read_transcript(out)
    assert again.metadata == original.metadata
    assert [(t.speaker, t.text, t.start_s, t.end_s, t.words) for t in again.turns] == [
        (t.speaker, t.text, t.start_s, t.end_s, t.words) for t in original.turns
    ]


def test_json_unknown_major_version(tmp_path: Path) -> None:
    doc = '{"schema_version": "2.0", "turns": [{"speaker": "agent", "text": "您好"}]}'
    error = read_error(tmp_path, "v2.json", doc)
    assert_error(error, "v2.json", 1, "schema_version", "unsupported schema version 2.0")


def test_json_newer_minor_version_is_read() -> None:
    doc = '{"schema_version": "1.7", "turns": [{"speaker": "agent", "text": "您好"}]}'
    assert loads_transcript(doc, format="json").turns[0].text == "您好"


def test_json_type_error_names_path_and_line(tmp_path: Path) -> None:
    doc = (
        '{\n  "call_id": "c1",\n  "turns": [\n'
        f'    {{"speaker": "agent", "start_s": 0, "end_s": 1, "text": "{SECRET}"}},\n'
        '    {"speaker": "customer",\n     "start_s": 2,\n     "end_s": "abc",\n'
        f'     "text": "{SECRET}"}}\n  ]\n}}\n'
    )
    error = read_error(tmp_path, "bad.json", doc)
    assert_error(error, "bad.json", 7, 'turns[1].end_s: expected a number, got "abc"')


def test_json_text_of_wrong_type_is_not_quoted(tmp_path: Path) -> None:
    doc = '{"turns": [{"speaker": "agent", "text": 13800138000}]}'
    error = read_error(tmp_path, "num.json", doc)
    assert_error(error, "num.json", 1, "turns[0].text: expected a string, got a number")
    assert "13800138000" not in str(error)


def test_json_missing_field_points_at_its_turn(tmp_path: Path) -> None:
    doc = '{\n  "turns": [\n    {"speaker": "agent", "text": "x"},\n    {"speaker": "agent"}\n  ]\n}\n'
    error = read_error(tmp_path, "missing.json", doc)
    assert_error(error, "missing.json", 4, "turns[1].text: expected a string, got null")


def test_json_syntax_error_has_line(tmp_path: Path) -> None:
    error = read_error(tmp_path, "syntax.json", '{\n  "turns": [\n    {"speaker": "agent" "text": "x"}\n  ]\n}')
    assert_error(error, "syntax.json", 3, "invalid JSON", "delimiter")


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ("[1, 2]", "expected a JSON object at the top level, got a list"),
        ('{"call_id": "x"}', 'no "turns" list'),
        ('{"turns": []}', "turns: the list is empty"),
        ('{"turns": [{"speaker": "manager", "text": "x"}]}', "turns[0].speaker: unknown speaker label 'manager'"),
        ('{"turns": [{"speaker": "agent", "start": 1, "text": "x"}]}', "turns[0].start: unknown turn field"),
        ('{"turns": [{"speaker": "agent", "start_s": 1, "text": "x"}]}', "turns[0]: has a start time but no end time"),
        ('{"turns": [{"speaker": "agent", "text": "x", "channel": -1}]}', "turns[0].channel: expected a whole number"),
        (
            '{"turns": [{"speaker": "agent", "text": "x", "start_s": 0, "end_s": 1, '
            '"words": [{"text": "x", "start_s": 0, "end_s": 0.5, "probability": 2}]}]}',
            "turns[0].words[0].probability: expected a number from 0 to 1",
        ),
        ('{"call_id": "a", "metadata": {"call_id": "b"}, "turns": []}', "call_id: conflicts with metadata.call_id"),
        (
            '{"days_overdue": "soon", "turns": [{"speaker": "agent", "text": "x"}]}',
            "days_overdue: expected a whole number",
        ),
    ],
)
def test_json_validation_errors(tmp_path: Path, doc: str, problem: str) -> None:
    assert_error(read_error(tmp_path, "t.json", doc), "t.json", None, problem)


def test_json_words_outside_turn(tmp_path: Path) -> None:
    doc = {
        "turns": [
            {
                "speaker": "agent",
                "start_s": 1.0,
                "end_s": 2.0,
                "text": SECRET,
                "words": [{"text": SECRET, "start_s": 1.5, "end_s": 2.6}],
            }
        ]
    }
    error = read_error(tmp_path, "words.json", json.dumps(doc, ensure_ascii=False, indent=1))
    assert_error(error, "words.json", 3, "turns[0]: word 0", "lies outside its turn")


# --- plain text -----------------------------------------------------------------------------


def test_text_header_and_start_times_fill_ends() -> None:
    transcript = read_transcript(SAMPLES / "sample.txt")
    assert transcript.metadata.days_overdue == 15
    started_at = transcript.metadata.started_at
    assert started_at is not None and started_at.utcoffset() == timedelta(hours=8)
    starts = [t.start_s for t in transcript.turns]
    ends = [t.end_s for t in transcript.turns]
    assert starts == [0.0, 3.0, 4.0, 9.0, 12.0]
    assert ends[:4] == [3.0, 4.0, 9.0, 12.0]
    assert ends[4] == pytest.approx(12.0 + len(SAMPLE_TEXTS[4]) / 4.5)
    assert transcript.turns[2].line == 8


def test_text_fenced_header_and_time_ranges() -> None:
    text = (
        "---\ncall_id: F1\nteam: M2\nqueue: night\n---\n"
        "[00:01.5-00:03] agent: hello there\n"
        "[00:02-00:04.25] Customer: hi\n"
        "[01:00:00.5-01:00:02] A: later\n"
    )
    transcript = loads_transcript(text, format="text")
    assert transcript.metadata.call_id == "F1"
    assert transcript.metadata.team == "M2"
    assert transcript.metadata.extra == {"queue": "night"}
    assert [(t.start_s, t.end_s) for t in transcript.turns] == [(1.5, 3.0), (2.0, 4.25), (3600.5, 3602.0)]


def test_text_without_times_and_continuations() -> None:
    text = "客服：您好\n这里是某某金融\n\n用户：嗯\n借款人：我知道了\nAgent: ok\nc: bye\n"
    transcript = loads_transcript(text, format="text", source="calls/x.txt")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("agent", "您好这里是某某金融"),
        ("customer", "嗯"),
        ("customer", "我知道了"),
        ("agent", "ok"),
        ("customer", "bye"),
    ]
    assert all(t.start_s is None and t.end_s is None for t in transcript.turns)
    assert transcript.metadata.call_id == "x"
    assert transcript.metadata.agent_id == "unknown"


def test_text_asr_sentence_ids() -> None:
    text = "客服:[1]哎，您好。用户:[2]好嘞。用户:[3]就是。\n" "客服：[4]我这边是借条的\n" "[5]->用户：没有呢？\n"
    transcript = loads_transcript(text, format="text")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("agent", "哎，您好。"),
        ("customer", "好嘞。"),
        ("customer", "就是。"),
        ("agent", "我这边是借条的"),
        ("customer", "没有呢？"),
    ]


def test_text_speaker_map_is_a_constant() -> None:
    assert SPEAKER_LABELS["坐席"] == "agent"
    assert SPEAKER_LABELS["债务人"] == "customer"


def test_text_indented_line_with_colon_continues_turn() -> None:
    transcript = loads_transcript("坐席：请注意\n    注意：逾期会影响征信\n", format="text")
    assert transcript.turns[0].text == "请注意注意：逾期会影响征信"


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (f"坐席：你好\n经理：{SECRET}\n", 2, "unknown speaker label '经理'"),
        (f"{SECRET}\n坐席：你好\n", 1, "text before the first speaker label"),
        (f"坐席：你好\n[00:05] {SECRET}\n", 2, "time stamp without a speaker label"),
        (f"[00:75] 坐席：{SECRET}\n", 1, "malformed time stamp"),
        (f"[0:5] 坐席：{SECRET}\n", 1, "malformed time stamp"),
        (f"[00:01] 坐席：你好\n客户：{SECRET}\n", 2, "no start time, but other turns do"),
        (f"[00:05-00:02] 坐席：{SECRET}\n", 1, "ends (2.000 s) before it starts (5.000 s)"),
        (f"---\ncall_id: x\n坐席：{SECRET}\n", 3, "or a closing '---' in the metadata block opened on line 1"),
        ("---\ncall_id: x\n\n", 1, "metadata block opened with '---' is never closed"),
        (f"# call_id: a\n# call_id: b\n坐席：{SECRET}\n", 2, "metadata key 'call_id' given twice"),
        (f"call_id: a\n坐席：{SECRET}\n", 1, "write metadata as '# call_id: value'"),
        (f"# started_at: 2024-05-01 09:30\n坐席：{SECRET}\n", 1, "metadata 'started_at': date-time has no UTC"),
        (f"# days_overdue: -3\n坐席：{SECRET}\n", 1, "metadata 'days_overdue': expected a whole number of days"),
        ("# call_id: x\n\n# a comment\n", None, "no turns with text found"),
        ("坐席：\n客户：   \n", None, "no turns with text found"),
    ],
)
def test_text_errors(tmp_path: Path, content: str, line: Optional[int], problem: str) -> None:
    assert_error(read_error(tmp_path, "call.txt", content), "call.txt", line, problem)


def test_text_empty_turns_are_skipped() -> None:
    transcript = loads_transcript("坐席：\n客户：嗯\n", format="text")
    assert [t.text for t in transcript.turns] == ["嗯"]


# --- timing rules (shared) --------------------------------------------------------------------


def test_overlap_between_speakers_is_allowed() -> None:
    text = "[00:00-00:05] 坐席：您好\n[00:03-00:06] 客户：等一下\n"
    assert len(loads_transcript(text, format="text").turns) == 2


def test_same_speaker_overlap_is_an_error(tmp_path: Path) -> None:
    text = f"[00:00-00:05] 坐席：您好\n[00:03-00:06] 坐席：{SECRET}\n"
    error = read_error(tmp_path, "o.txt", text)
    assert_error(error, "o.txt", 2, "before the previous agent turn (line 1) ends at 5.000 s")


def test_small_same_speaker_overlap_is_tolerated() -> None:
    text = "[00:00-00:05] 坐席：您好\n[00:04.6-00:06] 坐席：请问\n"
    assert len(loads_transcript(text, format="text").turns) == 2


def test_slightly_unordered_turns_are_sorted() -> None:
    text = "[00:10-00:12] 坐席：第二\n[00:02-00:04] 客户：第一\n"
    transcript = loads_transcript(text, format="text")
    assert [t.text for t in transcript.turns] == ["第一", "第二"]
    assert [t.line for t in transcript.turns] == [2, 1]


def test_times_going_backwards_is_an_error(tmp_path: Path) -> None:
    text = f"[01:00-01:02] 坐席：您好\n[00:10-00:12] 客户：{SECRET}\n"
    error = read_error(tmp_path, "b.txt", text)
    assert_error(error, "b.txt", 2, "50.0 s before the previous turn (line 1)", "must not go backwards")


def test_negative_time_is_an_error(tmp_path: Path) -> None:
    doc = {"turns": [{"speaker": "agent", "start_s": -1.5, "end_s": 1.0, "text": SECRET}]}
    error = read_error(tmp_path, "neg.json", json.dumps(doc, ensure_ascii=False))
    assert_error(error, "neg.json", 1, "turns[0]: negative start time -1.5 s")


# --- subtitles --------------------------------------------------------------------------------


def test_vtt_tags_entities_and_inherited_speaker() -> None:
    text = (
        "WEBVTT\nKind: captions\n\nSTYLE\n::cue { color: red }\n\n"
        "00:01.000 --> 00:02.500 align:start\n<v.loud 坐席><b>您好</b> &amp; 欢迎</v>\n\n"
        "00:02.600 --> 00:03.000\n<00:02.700>继续\n\n"
        "00:03.000 --> 00:04.000\n<v Agent>one</v>\n<v C>two\n"
    )
    transcript = loads_transcript(text, format="vtt")
    assert [(t.speaker, t.text, t.start_s, t.end_s) for t in transcript.turns] == [
        ("agent", "您好 & 欢迎", 1.0, 2.5),
        ("agent", "继续", 2.6, 3.0),
        ("agent", "one", 3.0, 4.0),
        ("customer", "two", 3.0, 4.0),
    ]


def test_srt_with_two_speakers_in_one_cue() -> None:
    text = (
        "1\n00:00:01,000 --> 00:00:03,000\n坐席：您好\n客户：你好\n\n"
        "2\n00:00:03,100 --> 00:00:04,000\n<i>客户：嗯</i>\n"
    )
    transcript = loads_transcript(text, format="srt")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("agent", "您好"),
        ("customer", "你好"),
        ("customer", "嗯"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "line", "problem"),
    [
        ("a.vtt", f"00:00.000 --> 00:01.000\n<v 坐席>{SECRET}\n", 1, "first line must be 'WEBVTT'"),
        ("a.vtt", f"WEBVTT\n\n1\n00:00.000 --> 00:01.000\n{SECRET}\n", 4, "cue 1: no speaker"),
        ("a.vtt", f"WEBVTT\n\n1\n00:00.000 --> 00:01.000\n<v 张经理>{SECRET}\n", 4, "cue 1: unknown speaker label"),
        ("a.vtt", f"WEBVTT\n\n00:00.000 --> 00:01.000\n<v A>你好\n\n00:02 --> 00:03\n<v C>{SECRET}\n", 6, "cue 2"),
        ("a.srt", f"1\n00:00:05,000 --> 00:00:01,000\n坐席：{SECRET}\n", 2, "cue 1: ends (1.000 s) before it starts"),
        ("a.srt", f"1\n坐席：{SECRET}\n", 1, "cue 1: expected a time line"),
        ("a.srt", f"1\n00:00:01,000 --> 00:00:02,000\n<v A>x</v><v C>{SECRET}\n", 2, "cue 1: several voices"),
        ("a.srt", "1\n00:00:01,000 --> 00:00:02,000\n坐席：  \n", None, "no turns with text found"),
    ],
)
def test_subtitle_errors(tmp_path: Path, name: str, content: str, line: Optional[int], problem: str) -> None:
    assert_error(read_error(tmp_path, name, content), name, line, problem)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_columns_times_and_channel() -> None:
    text = (
        "Speaker,Utterance,start_s,end_s,channel,confidence\n"
        "agent,您好,0,1.5,0,0.9\n"
        'customer,"嗯, 好",01:02.5,1:04,1,0.8\n'
    )
    transcript = loads_transcript(text, format="csv")
    assert [(t.speaker, t.text, t.start_s, t.end_s, t.channel, t.line) for t in transcript.turns] == [
        ("agent", "您好", 0.0, 1.5, 0, 2),
        ("customer", "嗯, 好", 62.5, 64.0, 1, 3),
    ]


def test_csv_tsv_without_times_and_blank_call_columns() -> None:
    text = "role\ttext\tcall_id\n坐席\t您好\tT1\n\n客户\t嗯\t\n"
    transcript = loads_transcript(text, format="csv")
    assert transcript.metadata.call_id == "T1"
    assert [t.start_s for t in transcript.turns] == [None, None]


def test_csv_start_times_only_fill_ends() -> None:
    transcript = loads_transcript("speaker,text,start\nagent,您好,1\ncustomer,嗯嗯,3\n", format="csv")
    assert [(t.start_s, t.end_s) for t in transcript.turns] == [(1.0, 3.0), (3.0, pytest.approx(3 + 2 / 4.5))]


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (f"who,text\nagent,{SECRET}\n", 1, "header row has no speaker column"),
        (f"speaker,words\nagent,{SECRET}\n", 1, "header row has no text column"),
        (f"speaker,role,text\nagent,agent,{SECRET}\n", 1, "both 'speaker' and 'role'"),
        (f"speaker,text\nagent,hi\n经理,{SECRET}\n", 3, "row 2: unknown speaker label '经理'"),
        (f"speaker,text\nagent,hi\n,{SECRET}\n", 3, "row 2: speaker is empty"),
        (f"speaker,text\nagent,{SECRET},extra\n", 2, "row 1: 3 fields, but the header has 2"),
        (f"speaker,text,start,end\nagent,{SECRET},abc,2\n", 2, 'row 1: start_s: expected seconds or mm:ss, got "abc"'),
        (f"speaker,text,start,end\nagent,{SECRET},-1,2\n", 2, 'row 1: start_s: negative time "-1"'),
        (f"speaker,text,start,end\nagent,{SECRET},3,2\n", 2, "row 1: ends (2.000 s) before it starts (3.000 s)"),
        (f"speaker,text,channel\nagent,{SECRET},left\n", 2, "row 1: channel: expected a whole number"),
        (
            f"call_id,speaker,text\nC1,agent,hi\nC1,customer,yo\nC2,agent,{SECRET}\n",
            4,
            "row 3: call_id differs from row 1",
        ),
        (f"days_overdue,speaker,text\nmany,agent,{SECRET}\n", 2, "row 1: days_overdue: expected a whole number"),
        (f'speaker,text\nagent,"{SECRET}\n', 2, "malformed CSV"),
        ("speaker,text\n", None, "no turns with text found"),
    ],
)
def test_csv_errors(tmp_path: Path, content: str, line: Optional[int], problem: str) -> None:
    assert_error(read_error(tmp_path, "call.csv", content), "call.csv", line, problem)


# --- metadata ---------------------------------------------------------------------------------


def test_metadata_overrides_win_and_complete() -> None:
    overrides = {
        "agent_id": "B2",
        "started_at": "2024-05-01T01:30:00Z",
        "days_overdue": "40",
        "customer_ref": "R-9",
        "team": None,
        "region": "华东",
    }
    transcript = read_transcript(SAMPLES / "sample.txt", metadata=overrides)
    meta = transcript.metadata
    assert meta.call_id == "C-2024-0001"
    assert meta.agent_id == "B2"
    assert meta.started_at == datetime(2024, 5, 1, 1, 30, tzinfo=timezone.utc)
    assert meta.days_overdue == 40
    assert meta.customer_ref == "R-9"
    assert meta.extra == {"region": "华东"}


def test_metadata_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "call_0042.txt", "坐席：您好\n")
    meta = read_transcript(path).metadata
    assert (meta.call_id, meta.agent_id) == ("call_0042", "unknown")


def test_metadata_override_accepts_aware_datetime() -> None:
    moment = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
    transcript = loads_transcript("坐席：您好", format="text", metadata={"started_at": moment})
    assert transcript.metadata.started_at == moment


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"started_at": "2024-05-01T09:30:00"}, "metadata override 'started_at': date-time has no UTC offset"),
        ({"started_at": datetime(2024, 5, 1)}, "metadata override 'started_at': date-time has no UTC offset"),
        ({"started_at": "yesterday"}, "metadata override 'started_at': expected an ISO 8601 date-time"),
        ({"days_overdue": -1}, "metadata override 'days_overdue': expected a whole number of days >= 0, got -1"),
        ({"agent_id": ["x"]}, "metadata override 'agent_id': expected a string, got a list"),
    ],
)
def test_metadata_override_errors(tmp_path: Path, overrides: dict[str, Any], problem: str) -> None:
    error = read_error(tmp_path, "call.txt", f"坐席：{SECRET}\n", metadata=overrides)
    assert_error(error, "call.txt", None, problem)


# --- encodings, binary content, size ------------------------------------------------------------


def test_utf8_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.txt", codecs.BOM_UTF8 + "# call_id: B1\n坐席：您好\n".encode("utf-8"))
    transcript = read_transcript(path)
    assert transcript.metadata.call_id == "B1"
    assert transcript.turns[0].text == "您好"


def test_utf8_bom_csv_header(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", codecs.BOM_UTF8 + "speaker,text\nagent,您好\n".encode("utf-8"))
    assert read_transcript(path).turns[0].text == "您好"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path = write(tmp_path, "u16.txt", bom + "坐席：您好\n客户：嗯\n".encode(encoding))
    assert [t.text for t in read_transcript(path).turns] == ["您好", "嗯"]


def test_utf16_without_bom_is_explained(tmp_path: Path) -> None:
    error = read_error(tmp_path, "u16.txt", f"坐席：{SECRET}\n".encode("utf-16-le"))
    assert_error(error, "u16.txt", None, "UTF-16 text without a byte-order mark; re-save as UTF-8")


def test_gb18030(tmp_path: Path) -> None:
    content = "# team: 催收一组\n坐席：您好，请问是张先生吗？\n客户：是我。\n"
    path = write(tmp_path, "gb.txt", content.encode("gb18030"))
    transcript = read_transcript(path)
    assert transcript.metadata.team == "催收一组"
    assert [t.text for t in transcript.turns] == ["您好，请问是张先生吗？", "是我。"]


def test_gb18030_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "gb.csv", "角色,内容\n坐席,您好\n客户,嗯\n".encode("gb18030"))
    assert [t.speaker for t in read_transcript(path).turns] == ["agent", "customer"]


def test_latin1_is_not_utf8(tmp_path: Path) -> None:
    error = read_error(tmp_path, "l1.txt", "agent: hello\ncustomer: café crème\n".encode("latin-1"))
    assert_error(error, "l1.txt", 2, "not UTF-8 text; re-save as UTF-8")


def test_random_bytes_fail_fast(tmp_path: Path) -> None:
    path = write(tmp_path, "noise.txt", os.urandom(10 * 1024 * 1024))
    started = time.perf_counter()
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5
    assert "noise.txt" in str(info.value)
    assert "not a text transcript" in str(info.value) or "not UTF-8" in str(info.value)


def test_random_bytes_without_nul_or_controls_fail_fast(tmp_path: Path) -> None:
    high_bytes = bytes(i | 0x80 for i in range(256))
    noise = os.urandom(10 * 1024 * 1024).translate(high_bytes)
    path = write(tmp_path, "noise.srt", noise)
    started = time.perf_counter()
    with pytest.raises(TranscriptError, match="not UTF-8 text"):
        read_transcript(path)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (b"\x00\x01binary", None, "binary content (NUL bytes)"),
        ("坐席：你好\n客户：嗯\x07\n".encode("utf-8"), 2, "control character 0x07"),
        (b"PK\x03\x04rest-of-zip", None, "ZIP archive"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None, "WAV audio"),
        (b"", None, "file is empty"),
        (b"  \n\n\t\n", None, "file is empty"),
    ],
)
def test_binary_and_empty_files(tmp_path: Path, content: bytes, line: Optional[int], problem: str) -> None:
    assert_error(read_error(tmp_path, "call.txt", content), "call.txt", line, problem)


def test_size_limit(tmp_path: Path) -> None:
    error = read_error(tmp_path, "big.txt", "坐席：您好\n" * 1000, max_bytes=1024)
    assert_error(error, "big.txt", None, "file is 15.6 KB, over the 1.0 KB limit")


def test_default_size_limit_is_50_mb(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(TranscriptError, match="over the 50.0 MB limit"):
        read_transcript(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="file not found"):
        read_transcript(tmp_path / "nope.txt")
    with pytest.raises(TranscriptError, match="is a folder"):
        read_transcript(tmp_path)


def test_loads_accepts_bytes_from_stdin() -> None:
    transcript = loads_transcript("坐席：您好\n".encode("gb18030"), format="text", source="<stdin>")
    assert transcript.turns[0].text == "您好"
    assert transcript.source == "<stdin>"


def test_result_is_a_transcript() -> None:
    assert isinstance(loads_transcript("A: hi", format="text"), Transcript)

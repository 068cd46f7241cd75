"""The call review page, rendered from results of the real pipeline on the sample transcripts."""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path
from typing import Any

import pytest

from callcoach.io import read_transcript
from callcoach.pipeline import Pipeline
from callcoach.reports.call_page import render_call_page
from callcoach.reports.redact import redact_result
from callcoach.reports.writer import ReportOptions

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_audio" / "transcripts").glob("*.json"))
NO_TIMESTAMPS = ROOT / "tests" / "data" / "calls" / "c10_no_timestamps_insult.json"
OPTIONS = ReportOptions()

FINDING_RE = re.compile(r'<article class="finding sev-(\w+)" id="finding-(\d+)" data-start="([^"]*)" data-turn="([^"]*)"')
TURN_RE = re.compile(r'<div class="turn (agent|customer|other)[^"]*" id="turn-(\d+)"')
MARK_RE = re.compile(r'<mark class="hl sev-\w+[^"]*" data-f="([\d ]+)" title="[^"]*">(.*?)</mark>', re.S)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


@pytest.fixture(scope="module")
def docs(pipeline: Pipeline) -> list[dict[str, Any]]:
    assert SAMPLES, "sample transcripts are missing"
    return [{**pipeline.score(read_transcript(p)).to_dict(), "redacted": False} for p in SAMPLES]


def _render(doc: dict[str, Any], audio_src: str | None = None) -> str:
    return render_call_page(doc, options=OPTIONS, audio_src=audio_src)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _turn_html(page: str, index: int) -> str:
    start = page.index(f'id="turn-{index}"')
    end = page.find('<div class="turn ', start + 1)
    return page[start: end if end > 0 else len(page)]


def test_every_finding_is_listed_with_its_time_and_turn(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        page = _render(doc)
        listed = FINDING_RE.findall(page)
        assert len(listed) == len(doc["findings"]), doc["call_id"]
        by_index = {int(i): (sev, start, turn) for sev, i, start, turn in listed}
        for i, f in enumerate(doc["findings"]):
            sev, start, turn = by_index[i]
            assert sev == f["severity"]
            if f["start_s"] is None:
                assert start == ""
            else:
                assert float(start) == pytest.approx(f["start_s"], abs=1e-3)
            assert turn == ("" if f["turn_index"] is None else str(f["turn_index"]))
            assert html.escape(f["rule_id"]) in page
        # sorted by severity, then time
        order = {"critical": 0, "major": 1, "minor": 2, "info": 3}
        keys = [(order[sev], start == "", float(start or 0)) for sev, _, start, _ in listed]
        assert keys == sorted(keys), doc["call_id"]


def test_findings_are_highlighted_in_place(docs: list[dict[str, Any]]) -> None:
    checked = 0
    for doc in docs:
        page = _render(doc)
        for i, f in enumerate(doc["findings"]):
            if f["char_start"] is None or f["turn_index"] is None:
                continue
            text = doc["turns"][f["turn_index"]]["text"]
            turn_html = _turn_html(page, f["turn_index"])
            pieces = [_text(body) for ids, body in MARK_RE.findall(turn_html) if str(i) in ids.split()]
            assert "".join(pieces) == text[f["char_start"]: f["char_end"]], (doc["call_id"], f["rule_id"])
            checked += 1
        # the whole turn text survives highlighting, unchanged
        for turn in doc["turns"]:
            bubble = _turn_html(page, turn["index"]).split('<div class="bubble">', 1)[1].split("</div>", 1)[0]
            assert _text(bubble) == turn["text"]
    assert checked > 0


def test_overlapping_findings_are_nested_safely(docs: list[dict[str, Any]]) -> None:
    doc = copy.deepcopy(docs[0])
    turn = next(t for t in doc["turns"] if len(t["text"]) >= 12)
    base = {"category": "insult", "speaker": turn["speaker"], "turn_index": turn["index"], "start_s": turn["start_s"],
            "end_s": turn["end_s"], "quote": "", "message": 'says "<b>" & more', "suggestion": "", "rationale": ""}
    doc["findings"] = [
        {**base, "rule_id": "AAA001", "severity": "minor", "char_start": 2, "char_end": 8},
        {**base, "rule_id": "BBB001", "severity": "critical", "char_start": 5, "char_end": 12},
        {**base, "rule_id": "CCC001", "severity": "major", "char_start": 40, "char_end": 20},  # invalid: ignored
    ]
    page = _render(doc)
    turn_html = _turn_html(page, turn["index"])
    marks = MARK_RE.findall(turn_html)
    for i, (s, e) in enumerate(((2, 8), (5, 12))):
        assert "".join(_text(b) for ids, b in marks if str(i) in ids.split()) == turn["text"][s:e]
    assert any(ids.split() == ["0", "1"] for ids, _ in marks)
    assert 'class="hl sev-critical multi"' in turn_html
    assert 'says "<b>"' not in page and "says &quot;&lt;b&gt;&quot; &amp; more" in page
    assert len(FINDING_RE.findall(page)) == 3


def test_transcript_turns_and_timestamps(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        page = _render(doc)
        turns = TURN_RE.findall(page)
        assert [int(i) for _, i in turns] == [t["index"] for t in doc["turns"]]
        assert [s for s, _ in turns] == [t["speaker"] for t in doc["turns"]]
        for t in doc["turns"]:
            assert f'class="ts" data-start="{round(t["start_s"], 3)!r}" data-turn="{t["index"]}"' in page
        assert page.count('class="tl-turn ') == len(doc["turns"])
        assert '<html lang="zh-CN">' in page
        assert "http://" not in page and "https://" not in page
        assert 'id="call-data"' in page


def test_silences_and_interruptions_are_shown(docs: list[dict[str, Any]]) -> None:
    pages = [_render(d) for d in docs]
    if any(d["metrics"].get("talk.silences_over_threshold") for d in docs):
        assert any("— 静默" in p for p in pages)
    if any(d["metrics"].get("talk.overlap_s") for d in docs):
        assert any("插话" in p and 'class="ovl"' in p for p in pages)


def test_audio_player_only_with_a_recording(docs: list[dict[str, Any]]) -> None:
    with_audio = _render(docs[0], audio_src="../audio/a b&c.wav")
    assert '<audio id="player" controls preload="metadata" src="../audio/a b&amp;c.wav">' in with_audio
    without = _render(docs[0])
    assert "<audio" not in without and 'id="player"' not in without
    assert "未找到录音" in without
    assert "if (player && !isNaN(s))" in without  # the script guards against a missing player


def test_redaction_notice(docs: list[dict[str, Any]]) -> None:
    page = _render(docs[0])
    assert "未脱敏：仅限授权复核人员 / Unredacted — authorised reviewers only" in page
    redacted = _render(redact_result(docs[0]))
    assert "未脱敏" not in redacted and "已脱敏" in redacted


def test_everything_is_escaped(docs: list[dict[str, Any]]) -> None:
    doc = copy.deepcopy(docs[0])
    evil = "<script>alert(1)</script> & \"quoted\" 'x'"
    doc["turns"][0]["text"] = evil
    doc["call_id"] = "<img src=x onerror=alert(1)>"
    doc["agent_id"] = '"><script>alert(2)</script>'
    doc["findings"].append({
        "rule_id": "<i>X</i>", "category": "<u>", "severity": "critical", "speaker": "agent", "turn_index": 0,
        "start_s": doc["turns"][0]["start_s"], "end_s": doc["turns"][0]["end_s"], "quote": evil,
        "message": "</script><script>alert(3)</script>", "suggestion": "<b>s</b>", "rationale": "<r>",
        "char_start": 0, "char_end": 8,
    })
    full = _render(doc, audio_src='x.wav" onplay="alert(4)')
    json_data = re.search(r'<script type="application/json" id="call-data">(.*?)</script>', full, re.S)
    assert json_data and "</" not in json_data.group(1)
    page = full.replace(json_data.group(0), "")
    assert "<script>alert" not in page and "</script><script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "<i>X</i>" not in page and "<b>s</b>" not in page
    assert 'onplay="alert(4)"' not in page
    # the script element carrying JSON data cannot be closed early by the text
    assert full.count("<script") == 2 and full.count("</script>") == 2  # the page's script and the JSON data
    turn_html = _turn_html(page, 0)
    marks = MARK_RE.findall(turn_html)
    assert "".join(_text(b) for ids, b in marks if str(len(doc["findings"]) - 1) in ids.split()) == evil[:8]


def test_times_estimated_are_marked(pipeline: Pipeline) -> None:
    doc = {**pipeline.score(read_transcript(NO_TIMESTAMPS)).to_dict(), "redacted": True}
    assert doc["times_estimated"] is True
    page = _render(doc)
    assert "时间为估算 / Times estimated" in page
    assert "≈[" in page  # estimated timestamps
    assert len(TURN_RE.findall(page)) == len(doc["turns"])
    assert "— 静默" not in page and 'class="ovl"' not in page  # no silences or overlaps from estimates


def test_low_confidence_words_are_marked(docs: list[dict[str, Any]]) -> None:
    doc = copy.deepcopy(docs[0])
    turn = doc["turns"][1]
    text = turn["text"]
    s0, s1 = turn["start_s"], turn["end_s"]
    turn["words"] = [
        {"text": text[:2], "start_s": s0, "end_s": s0 + 0.2, "probability": 0.9},
        {"text": text[2:4], "start_s": s0 + 0.2, "end_s": s0 + 0.4, "probability": 0.31},
        {"text": "不在文中", "start_s": s0 + 0.4, "end_s": s1, "probability": 0.1},  # not located: skipped
        {"text": text[4:], "start_s": s0 + 0.4, "end_s": s1, "probability": None},
    ]
    page = _render(doc)
    turn_html = _turn_html(page, turn["index"])
    low = re.findall(r'<span class="lowconf"[^>]*>(.*?)</span>', turn_html)
    assert [_text(x) for x in low] == [text[2:4]]
    bubble = turn_html.split('<div class="bubble">', 1)[1].split("</div>", 1)[0]
    assert _text(bubble) == text


def test_opening_and_header(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        page = _render(doc)
        m = doc["metrics"]
        for key in ("greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose"):
            item = re.search(rf'<li data-element="{key}">(.*?)</li>', page).group(1)
            value = m.get(f"opening.elements.{key}")
            assert ("✓" in item) == (value is True) and ("✗" in item) == (value is False)
        assert ("Disclosure before verification" in page) == bool(m.get("opening.disclosure_before_verification"))
        assert html.escape(doc["call_id"]) in page and html.escape(doc["agent_id"]) in page
        assert ("通过 PASS" in page) == bool(doc["passed"])
        assert doc["provenance"]["rules"]["sha256"][:12] in page
    assert any(d["metrics"].get("opening.disclosure_before_verification") for d in docs)


def test_a_minimal_doc_renders() -> None:
    page = render_call_page({"call_id": "x", "turns": [], "findings": [], "metrics": {}}, options=OPTIONS, audio_src=None)
    assert "<!DOCTYPE html>" in page and "未脱敏" in page

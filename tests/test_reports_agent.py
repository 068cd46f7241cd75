"""The agent coaching report: real scored calls in both formats, only the agent's own quotes,
at most three priorities, team medians, English, and refusal of mixed agents."""

from __future__ import annotations

import copy
import json
import re
import statistics
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from callcoach.io import read_transcript
from callcoach.pipeline import Pipeline
from callcoach.reports.agent_report import render_agent_report
from callcoach.reports.redact import redact_result
from callcoach.reports.writer import ReportOptions

ROOT = Path(__file__).resolve().parent.parent
CALL_FILES = sorted((ROOT / "tests" / "data" / "calls").glob("c*.json")) + sorted(
    (ROOT / "sample_audio" / "transcripts").glob("*.json")
)
ZH = ReportOptions()
EN = ReportOptions(lang="en")


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    pipeline = Pipeline()
    out = []
    for path in CALL_FILES:
        out.append(json.loads(json.dumps(pipeline.score(read_transcript(path)).to_dict(), ensure_ascii=False)))
    assert len(out) >= 10
    return out


def _agent_calls(docs: list[dict[str, Any]], agent: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    own = [d for d in docs if d["agent_id"] == agent]
    peers = [d for d in docs if d["team"] == own[0]["team"]]
    return own, peers


def _quoted_ids_html(text: str) -> list[str]:
    return re.findall(r'data-call="([^"]*)"', text)


def _quoted_ids_md(text: str) -> list[str]:
    return re.findall(r"— `([^`]*)`", text)


def _section(html_text: str, section_id: str) -> str:
    m = re.search(rf'<section id="{section_id}">(.*?)</section>', html_text, re.S)
    assert m, section_id
    return m.group(1)


class _Checker(HTMLParser):
    """Collect start tags; fails on script tags other than the page's own."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        self.tags.append(tag)


def test_every_agent_both_formats(docs: list[dict[str, Any]]) -> None:
    for agent in sorted({d["agent_id"] for d in docs}):
        own, peers = _agent_calls(docs, agent)
        own_ids = {d["call_id"] for d in own}
        other_agents = {d["agent_id"] for d in docs} - {agent}
        html_text = render_agent_report(agent, own, peers, options=ZH, fmt="html")
        md = render_agent_report(agent, own, peers, options=ZH, fmt="md")
        assert html_text.startswith("<!DOCTYPE html>") and 'name="viewport"' in html_text
        for sid in ("strengths", "priorities", "comparison"):
            assert f'id="{sid}"' in html_text
        assert "<svg" in html_text and "<table" in html_text and 'class="cards"' in html_text
        assert "http://" not in html_text and "https://" not in html_text  # self-contained
        assert "| 指标 | 你 | 团队中位数 |" in md and "团队中位数</th>" in html_text
        for heading in ("## 你做得好的地方", "## 最值得练习的三件事", "## 你和团队中位数的对比"):
            assert heading in md
        # Only this agent's calls are quoted, and colleagues are never named.
        ids_html, ids_md = _quoted_ids_html(html_text), _quoted_ids_md(md)
        assert ids_html and ids_md
        assert set(ids_html) <= own_ids and set(ids_md) <= own_ids
        for other in other_agents:
            assert other not in html_text and other not in md
        for d in peers:
            if d["agent_id"] != agent:
                assert d["call_id"] not in html_text and d["call_id"] not in md
        # At most three priorities, the same in both formats.
        prio = _section(html_text, "priorities")
        n_html = prio.count("<li>")
        assert 1 <= n_html <= 3
        md_prio = md.split("## 最值得练习的三件事")[1].split("## ")[0]
        assert len(re.findall(r"^\d+\. ", md_prio, re.M)) == n_html
        # Strengths: two or three.
        assert 2 <= _section(html_text, "strengths").count("<li>") <= 3


def test_quotes_are_real_and_times_formatted(docs: list[dict[str, Any]]) -> None:
    own, peers = _agent_calls(docs, "A1002")
    html_text = render_agent_report("A1002", own, peers, options=ZH, fmt="html")
    texts = {d["call_id"]: " ".join(t["text"] for t in d["turns"]) for d in own}
    quotes = re.findall(r"“([^”]*)” <span class=\"ref\" data-call=\"([^\"]+)\">[^<]*?(≈?\[\d\d:\d\d\])?</span>", html_text)
    assert quotes
    for quote, call_id, _ in quotes:
        piece = quote.strip("…").replace("&quot;", '"').replace("&#x27;", "'")
        assert piece[:10] in texts[call_id]
    assert re.search(r"\[\d\d:\d\d\]", html_text)
    # The worst problem comes first: threats of violence (critical) for this agent.
    prio = _section(html_text, "priorities")
    assert prio.index("威胁") < prio.index("可以这样说")
    assert "只谈还款本身" in prio  # the finding's suggestion


def test_priorities_order_and_deterministic(docs: list[dict[str, Any]]) -> None:
    own, peers = _agent_calls(docs, "A1005")  # no compliance findings: opening first, then listening
    md = render_agent_report("A1005", own, peers, options=ZH, fmt="md")
    prio = md.split("## 最值得练习的三件事")[1].split("## ")[0]
    titles = re.findall(r"^\d+\. \*\*(.*?)\*\*", prio, re.M)
    assert titles[0].startswith("开场补上")
    assert any("多听少说" in t for t in titles)
    shuffled = list(reversed(own))
    assert render_agent_report("A1005", shuffled, list(reversed(peers)), options=ZH, fmt="md") == md


def test_mixed_agents_rejected(docs: list[dict[str, Any]]) -> None:
    own, peers = _agent_calls(docs, "A1001")
    intruder = next(d for d in docs if d["agent_id"] != "A1001")
    for fmt in ("html", "md"):
        with pytest.raises(ValueError, match="only that agent"):
            render_agent_report("A1001", own + [intruder], peers, options=ZH, fmt=fmt)
    with pytest.raises(ValueError):
        render_agent_report("A1001", [], peers, options=ZH, fmt="html")
    with pytest.raises(ValueError):
        render_agent_report("A1001", own, peers, options=ZH, fmt="pdf")


def _mini(call_id: str, agent: str, *, score: float, share: float, listening: float, adherence: float,
          insult: int, plan: bool, promise: bool, end: str, trend: str, started: Any = "2026-11-02T10:00:00+08:00",
          recording: bool = True) -> dict[str, Any]:
    return {
        "call_id": call_id, "agent_id": agent, "team": "t", "started_at": started, "score": score,
        "passed": True, "redacted": True, "findings": [], "turns": [],
        "metrics": {
            "talk.agent_share": share, "talk.listening_ratio": listening, "opening.adherence": adherence,
            "opening.elements.recording_notice": recording, "compliance.insult": insult,
            "compliance.violations": insult, "conduct.plan_offered": plan, "conduct.promise_to_pay": promise,
            "sentiment.customer.end_label": end, "sentiment.customer.trend": trend,
        },
    }


def _table_md(md: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in md.splitlines():
        m = re.match(r"^\| (.+?) \| (.+?) \| (.+?) \|$", line)
        if m and m.group(1) not in ("指标", "Metric") and not m.group(1).startswith("-"):
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def test_team_medians_on_hand_made_docs() -> None:
    # Agent A: two calls; B: one; C: two. The median is over the agents' own values.
    a = [_mini("a1", "A", score=60, share=0.6, listening=0.5, adherence=1.0, insult=2, plan=True, promise=False,
               end="negative", trend="worsening", recording=False),
         _mini("a2", "A", score=80, share=0.4, listening=1.5, adherence=0.5, insult=0, plan=True, promise=True,
               end="positive", trend="improving", started="2026-11-12T10:00:00+08:00")]
    b = [_mini("b1", "agent-bob", score=90, share=0.5, listening=1.0, adherence=1.0, insult=0, plan=False, promise=True,
               end="neutral", trend="stable")]
    c = [_mini("c1", "agent-cy", score=40, share=0.8, listening=0.2, adherence=0.5, insult=3, plan=False, promise=False,
               end="negative", trend="worsening"),
         _mini("c2", "agent-cy", score=50, share=0.9, listening=0.1, adherence=0.5, insult=1, plan=False, promise=False,
               end="negative", trend="worsening")]
    peers = a + b + c
    md = render_agent_report("A", a, peers, options=ZH, fmt="md")
    rows = _table_md(md)
    # A: score 70, B: 90, C: 45 -> median 70.
    assert rows["质检分（平均）"] == ("70.0", f"{statistics.median([70, 90, 45]):.1f}")
    # Talk share A 0.5, B 0.5, C 0.85 -> median 0.5.
    assert rows["你说话的时间占比"] == ("50%", "50%")
    # Listening ratio A 1.0, B 1.0, C 0.15.
    assert rows["倾听比（客户/你说话时长）"] == ("1.00", "1.00")
    # Opening adherence A 0.75, B 1.0, C 0.5 -> 0.75; recording notice A 50%, B 100%, C 100%.
    assert rows["开场完成度"] == ("75%", "75%")
    assert rows["开场：告知录音"] == ("50%", "100%")
    # Insults per call A 1.0, B 0, C 2.0 -> 1.0.
    assert rows["违规/通：辱骂或贬低客户"] == ("1.00", "1.00")
    # Plan A 100%, B 0%, C 0% -> 0%; promise A 50%, B 100%, C 0% -> 50%.
    assert rows["提供还款方案的通话比例"] == ("100%", "0%")
    assert rows["获得还款承诺的通话比例"] == ("50%", "50%")
    # Ending negative A 50%, B 0%, C 100% -> 50%; improving A 50%, B 0, C 0 -> 0%.
    assert rows["客户以负面情绪结束"] == ("50%", "50%")
    assert rows["客户情绪好转"] == ("50%", "0%")
    # Two weeks: the weekly trend with numbers.
    assert "按周看" in md and "60.0" in md and "80.0" in md and "↑" in md
    # Peers are not named, no notice for redacted docs, and no findings: a kind message.
    assert "agent-bob" not in md and "agent-cy" not in md and "c1" not in md and "b1" not in md
    assert "未脱敏" not in md
    assert "没有发现需要改进的问题" in md
    # A peers list without the agent still counts the agent.
    rows2 = _table_md(render_agent_report("A", a, b + c, options=ZH, fmt="md"))
    assert rows2["质检分（平均）"] == rows["质检分（平均）"]
    # HTML escapes the numbers into the same table.
    html_text = render_agent_report("A", a, peers, options=ZH, fmt="html")
    assert "<td class=\"num\">70.0</td>" in html_text


def test_one_call_without_date_and_unredacted_note(docs: list[dict[str, Any]]) -> None:
    doc = copy.deepcopy(next(d for d in docs if d["call_id"] == "c09_agent_dominates"))
    doc["started_at"] = None
    doc["redacted"] = False
    for fmt in ("html", "md"):
        out = render_agent_report(doc["agent_id"], [doc], [doc], options=ZH, fmt=fmt)
        assert "日期未知" in out and "只有一通电话" in out
        assert "未脱敏" in out
    # No findings at all.
    clean = copy.deepcopy(doc)
    clean["findings"] = []
    out = render_agent_report(clean["agent_id"], [clean], [clean], options=ZH, fmt="html")
    assert "没有发现需要改进的问题" in out and 'id="priorities"' in out


def test_multi_week_trend(docs: list[dict[str, Any]]) -> None:
    base = [d for d in docs if d["agent_id"] == "A1001"]
    own = []
    for week, (d, score) in enumerate([(base[0], 50.0), (base[1], 60.0), (base[0], 75.0)]):
        c = copy.deepcopy(d)
        c["call_id"] = f"{d['call_id']}_w{week}"
        c["started_at"] = f"2026-11-{2 + 7 * week:02d}T10:00:00+08:00"
        c["score"] = score
        own.append(c)
    undated = copy.deepcopy(base[1])
    undated["call_id"], undated["started_at"] = "undated_call", None
    own.append(undated)
    md = render_agent_report("A1001", own, own, options=ZH, fmt="md")
    assert "2026-11-02 – 2026-11-16" in md
    assert "按周看" in md and "50.0" in md and "75.0" in md and "↑ 提高了 25.0 分" in md
    assert "1 通没有时间信息" in md
    html_text = render_agent_report("A1001", own, own, options=EN, fmt="html")
    assert "By week" in html_text and "↑ up 25.0 points" in html_text


def test_english(docs: list[dict[str, Any]]) -> None:
    own, peers = _agent_calls(docs, "A3001")
    html_text = render_agent_report("A3001", own, peers, options=EN, fmt="html")
    md = render_agent_report("A3001", own, peers, options=EN, fmt="md")
    assert '<html lang="en">' in html_text
    assert "Team median</th>" in html_text and "| Metric | You | Team median |" in md
    for heading in ("## What you do well", "## Three things that would help most", "## You and the team median"):
        assert heading in md
    assert "Why it matters" in md and "What to say instead" in md
    assert "你做得好" not in md


def test_html_escaping_and_markdown_safety(docs: list[dict[str, Any]]) -> None:
    doc = copy.deepcopy(next(d for d in docs if d["call_id"] == "c02_violence_insult"))
    evil = "<script>alert(1)</script>"
    doc["agent_id"] = f"A<marquee>{evil}"
    doc["call_id"] = f"c02{evil}"
    for f in doc["findings"]:
        if f.get("quote"):
            f["quote"] = evil + f["quote"]
    doc["findings"][-1]["suggestion"] = evil + "|[x](javascript:alert(1))"
    html_text = render_agent_report(doc["agent_id"], [doc], [doc], options=ZH, fmt="html")
    assert evil not in html_text and "&lt;script&gt;" in html_text
    checker = _Checker()
    checker.feed(html_text)
    assert checker.tags.count("script") == 1 and "marquee" not in checker.tags
    md = render_agent_report(doc["agent_id"], [doc], [doc], options=ZH, fmt="md")
    outside_code = re.sub(r"`[^`]*`", "", md)  # call ids are shown as code spans, which render literally
    assert "<script>" not in outside_code and not re.search(r"(?<!\\)\]\(javascript", md)


def test_redacted_docs_have_no_notice(docs: list[dict[str, Any]]) -> None:
    own, peers = _agent_calls(docs, "A1001")
    own = [redact_result(d) for d in own]
    out = render_agent_report("A1001", own, [redact_result(d) for d in peers], options=ZH, fmt="html")
    assert "未脱敏" not in out

"""Whole calls against a careful reviewer's judgement (tests/data/calls/expected.json).

Where callcoach deliberately differs from the reviewer's note, the test says why.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from callcoach.io import read_transcript
from callcoach.models import CallResult
from callcoach.pipeline import Pipeline
from callcoach.scorers.prohibited import PROHIBITED_CATEGORIES

CALLS = Path(__file__).parent / "data" / "calls"
EXPECTED: dict = json.loads((CALLS / "expected.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def scored(call_id: str) -> CallResult:
    return Pipeline().score(read_transcript(CALLS / f"{call_id}.json"))


@pytest.mark.parametrize("call_id", sorted(EXPECTED))
def test_opening_elements(call_id: str) -> None:
    m = scored(call_id).metrics
    for element, present in EXPECTED[call_id]["opening"].items():
        assert m[f"opening.elements.{element}"] == present, element


@pytest.mark.parametrize("call_id", sorted(EXPECTED))
def test_violation_categories(call_id: str) -> None:
    found = {f.category for f in scored(call_id).findings if f.category in PROHIBITED_CATEGORIES}
    expected = set(EXPECTED[call_id]["violation_categories"])
    assert expected <= found
    if call_id == "c05_disclosure_to_spouse":
        found -= {"exposure"}  # the agent told the wife about the debt: exposure as well as OPN007
    if not expected:
        # A clean call stays clean. In a call already full of threats, a further category
        # (a veiled "反正你跑不掉") is a reviewer's judgement call, so only clean calls are strict.
        assert not found, f"unexpected categories {found}"


@pytest.mark.parametrize("call_id", sorted(EXPECTED))
def test_disclosure_plan_and_promise(call_id: str) -> None:
    m, e = scored(call_id).metrics, EXPECTED[call_id]
    assert m["opening.disclosure_before_verification"] == e["disclosure_before_verification"]
    assert m["conduct.plan_offered"] == e["plan_offered"]
    assert m["conduct.promise_to_pay"] == e["promise_to_pay"]


def test_passed_is_false_exactly_on_critical_findings() -> None:
    for call_id in EXPECTED:
        r = scored(call_id)
        assert r.passed == (not any(f.severity == "critical" for f in r.findings))
    assert not scored("c05_disclosure_to_spouse").passed


def test_stage_decides_whether_litigation_talk_is_pressure() -> None:
    early = {f.rule_id for f in scored("c07_early_stage_lawsuit").findings}
    late = {f.rule_id for f in scored("c08_litigation_notice_95d").findings}
    assert "PRS001" in early and "PRS001" not in late
    assert scored("c08_litigation_notice_95d").metrics["stage.name"] == "legal"


def test_agent_share_orders_calls_and_flags_the_dominating_agent() -> None:
    # Our guideline: the agent listens at least as much as it talks (band 30-50 %). The test
    # calls' agents mostly talk ~60-70 %, which is a coaching point; c09 talks far more.
    shares = {c: scored(c).metrics["talk.agent_share"] for c in EXPECTED if not scored(c).times_estimated}
    assert max(shares, key=shares.get) == "c09_agent_dominates"
    assert shares["c09_agent_dominates"] > 0.8
    assert "TLK001" in {f.rule_id for f in scored("c09_agent_dominates").findings}
    assert scored("c09_agent_dominates").metrics["talk.interruptions.agent"] >= 2


def test_compliant_call_scores_best() -> None:
    scores = {c: scored(c).score for c in EXPECTED}
    assert max(scores, key=scores.get) == "c01_model_compliant"
    assert scored("c01_model_compliant").passed


def test_untimed_call_is_estimated() -> None:
    r = scored("c10_no_timestamps_insult")
    assert r.times_estimated and r.metrics["talk.estimated"] is True
    assert r.metrics["talk.agent_share"] is not None


def test_findings_point_at_the_quote() -> None:
    r = scored("c02_violence_insult")
    for f in r.findings:
        if f.turn_index is None:
            continue
        turn = r.turns[f.turn_index]
        assert f.speaker == turn.speaker and f.start_s == turn.start_s
        assert f.quote in turn.text
        if f.char_start is not None:
            assert turn.text[f.char_start:f.char_end] in f.quote

"""Scorers on small hand-made calls: talk metrics, opening, disclosure, conduct, stages, score."""

from __future__ import annotations

import pytest

from callcoach.config import Config, config_from_dict
from callcoach.io import loads_transcript
from callcoach.lexicon import load_rulebook
from callcoach.models import CallMetadata, Transcript, Turn
from callcoach.pipeline import analyze, stage_for
from callcoach.scorers.base import ScoringContext
from callcoach.scorers.conduct import ConductScorer
from callcoach.scorers.opening import OpeningScorer
from callcoach.scorers.talk import TalkScorer, union

CFG = Config()
CTX = ScoringContext(CFG, load_rulebook())


def call(turns: list[tuple[str, float | None, float | None, str]], days: int | None = None, cfg: Config = CFG):
    meta = CallMetadata(call_id="t", agent_id="A1", days_overdue=days)
    tr = Transcript(meta, tuple(Turn(speaker=s, start_s=a, end_s=b, text=x) for s, a, b, x in turns))  # type: ignore[arg-type]
    return analyze(tr, cfg)


def test_union_of_intervals() -> None:
    assert union([(0, 2), (1, 3), (5, 6)]) == [(0, 3), (5, 6)]


def test_talk_share_silence_and_interruptions() -> None:
    c = call([
        ("agent", 0.0, 10.0, "您好，我是华信银行的客服小王，请问是张先生吗？"),
        ("customer", 9.0, 9.5, "嗯"),                       # backchannel overlap: not an interruption
        ("customer", 11.0, 15.0, "是我，什么事？"),
        ("agent", 13.0, 20.0, "关于您的信用卡账单，我想跟您确认一下。"),  # starts 2 s into the customer: interruption
        ("customer", 27.0, 30.0, "好的，我知道了。"),            # 7 s silence before
    ])
    m = TalkScorer().score(c, CTX).metrics
    assert m["talk.agent_s"] == pytest.approx(17.0)        # 0-10 and 13-20
    assert m["talk.customer_s"] == pytest.approx(0.5 + 4.0 + 3.0)
    assert m["talk.agent_share"] == pytest.approx(17.0 / 24.5, abs=1e-3)
    assert m["talk.interruptions.agent"] == 1
    assert m["talk.interruptions.customer"] == 0
    assert m["talk.silences_over_threshold"] == 1
    assert m["talk.longest_silence_s"] == pytest.approx(7.0)
    assert m["talk.agent_questions"] >= 1


def test_agent_dominating_is_flagged_and_band_is_configurable() -> None:
    turns = [("agent", 0.0, 50.0, "我跟您说一下这个情况" * 20), ("customer", 51.0, 52.0, "哦")]
    ids = [f.rule_id for f in TalkScorer().score(call(turns), CTX).findings]
    assert "TLK001" in ids and "TLK002" in ids
    loose = config_from_dict({"talk": {"agent_share_band": [0.0, 1.0], "long_monologue_s": 100}})
    ids = [f.rule_id for f in TalkScorer().score(call(turns, cfg=loose), ScoringContext(loose, CTX.rulebook)).findings]
    assert ids == []


def test_estimated_times_without_timestamps() -> None:
    c = call([("agent", None, None, "您好，请问是张先生吗？"), ("customer", None, None, "是我。")])
    assert c.times_estimated
    assert c.turns[1].start_s > c.turns[0].end_s


GOOD_OPENING = [
    ("agent", 0.0, 12.0, "您好，我是华信银行信用卡中心的客服专员李明，工号3021，本次通话会录音。请问您是张伟先生本人吗？"),
    ("customer", 12.5, 13.5, "对，是我。"),
    ("agent", 14.0, 20.0, "今天联系您是关于您信用卡账单逾期的事情。"),
    ("customer", 20.5, 22.0, "哦，我知道。"),
]


def test_full_opening_is_recognised() -> None:
    out = OpeningScorer().score(call(GOOD_OPENING), CTX)
    for el in CFG.opening.elements:
        assert out.metrics[f"opening.elements.{el}"], el
    assert out.metrics["opening.verified"]
    assert not out.metrics["opening.disclosure_before_verification"]
    assert out.findings == ()


def test_missing_elements_are_coaching_points() -> None:
    c = call([("agent", 0.0, 5.0, "喂，张伟是吧？"), ("customer", 5.5, 6.0, "是。"),
              ("agent", 6.5, 10.0, "你信用卡逾期了，什么时候还？")])
    out = OpeningScorer().score(c, CTX)
    assert not out.metrics["opening.elements.recording_notice"]
    assert not out.metrics["opening.elements.self_identify"]
    ids = {f.rule_id for f in out.findings}
    assert {"OPN002", "OPN005"} <= ids
    assert "OPN007" not in ids  # identity confirmed before the debt was named


def test_disclosure_to_relative_before_verification_is_critical() -> None:
    c = call([
        ("agent", 0.0, 4.0, "您好，请问是王强先生吗？"),
        ("customer", 4.5, 6.0, "不是，我是他老婆，他出去了。"),
        ("agent", 6.5, 12.0, "那麻烦您告诉他，他在我们这的贷款已经逾期两个月了。"),
    ])
    out = OpeningScorer().score(c, CTX)
    crit = [f for f in out.findings if f.rule_id == "OPN007"]
    assert crit and crit[0].severity == "critical" and crit[0].turn_index == 2
    assert out.metrics["opening.disclosure_before_verification"]


def test_plan_offer_and_promise_to_pay() -> None:
    c = call([
        ("customer", 0.0, 3.0, "我最近失业了，实在没钱。"),
        ("agent", 3.5, 8.0, "理解您的难处，我们可以帮您申请分期，分12期每月压力小一些。"),
        ("customer", 8.5, 12.0, "那行，我下周五先还2000块。"),
    ])
    m = ConductScorer().score(c, CTX).metrics
    assert m["conduct.plan_offered"] and m["conduct.customer_difficulty"]
    assert m["conduct.promise_to_pay"]
    assert m["conduct.promise_date"] == "下周五" and m["conduct.promise_amount"] == "2000块"
    assert m["conduct.empathy_turns"] == 1


def test_refusal_is_not_a_promise_and_no_plan_is_flagged() -> None:
    c = call([("customer", 0.0, 3.0, "我没钱，下个月也还不上。"), ("agent", 3.5, 6.0, "那你自己想办法。")])
    out = ConductScorer().score(c, CTX)
    assert not out.metrics["conduct.promise_to_pay"]
    assert "CND001" in {f.rule_id for f in out.findings}


@pytest.mark.parametrize("days,name", [(0, "reminder"), (3, "early"), (10, "mid"), (15, "late"), (95, "legal")])
def test_stage_bands(days: int, name: str) -> None:
    assert stage_for(days, CFG).name == name  # type: ignore[union-attr]


def test_text_transcript_through_the_scorers() -> None:
    tr = loads_transcript("坐席：您好，请问是张先生吗？\n客户：是我。\n", format="text")
    assert len(analyze(tr, CFG).turns) == 2

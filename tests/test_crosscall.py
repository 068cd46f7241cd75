"""Cross-call compliance: calling hours, daily limits, and calls after stop/lawyer requests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest

from callcoach.crosscall import (
    RULES,
    CallRecord,
    CrossCallConfig,
    check_calls,
    find_requests,
    load_request_lexicon,
    parse_request_lexicon,
    record_from_transcript,
)
from callcoach.errors import ConfigError, RuleError
from callcoach.models import SEVERITIES

CST = timezone(timedelta(hours=8))
UTC = timezone.utc
REQUIRED = {"call_id", "agent_id", "rule_id", "category", "severity", "message", "suggestion", "rationale", "evidence"}


def rec(
    call_id: str,
    when: Optional[datetime],
    *,
    customer: Optional[str] = "C-1",
    connected: bool = True,
    texts: tuple[str, ...] = (),
    agent: str = "A-1",
) -> CallRecord:
    return CallRecord(call_id, agent, "T-1", customer, when, connected=connected, customer_texts=texts)


def at(day: int, hour: int, minute: int = 0, second: int = 0, tz: timezone = CST) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=tz)


def ids(findings: list[dict[str, Any]], rule_id: str) -> list[str]:
    return [f["call_id"] for f in findings if f["rule_id"] == rule_id]


# ----------------------------------------------------------------------------- XCL001 hours


def test_night_call_flagged_in_customer_local_time() -> None:
    # 23:30+08:00 is 15:30 UTC: still night for the customer.
    call = rec("N1", at(2, 23, 30))
    assert call.started_at is not None and call.started_at.astimezone(UTC).hour == 15
    findings = check_calls([call])
    assert ids(findings, "XCL001") == ["N1"]
    f = findings[0]
    assert REQUIRED <= set(f)
    assert f["category"] == "harassment" and f["severity"] == "major"
    assert "23:30" in f["evidence"] and "UTC+08:00" in f["evidence"]
    assert "22:00" in f["rationale"] and "第1033条" in f["rationale"]


def test_local_offset_not_utc_decides() -> None:
    # 14:00 UTC is 22:00 in +08:00 (flagged) but 09:00 in -05:00 (fine).
    assert ids(check_calls([rec("E", datetime(2026, 11, 2, 22, 0, tzinfo=CST))]), "XCL001") == ["E"]
    ny = timezone(timedelta(hours=-5))
    assert check_calls([rec("W", datetime(2026, 11, 2, 9, 0, tzinfo=ny))]) == []
    # A call at 10:00 UTC recorded in UTC is daytime, the same instant in +08:00 (18:00) too.
    assert check_calls([rec("U", datetime(2026, 11, 2, 10, 0, tzinfo=UTC))]) == []


@pytest.mark.parametrize("hms,flagged", [
    ((7, 59, 0), True), ((7, 59, 59), True), ((8, 0, 0), False), ((12, 0, 0), False),
    ((21, 59, 59), False), ((22, 0, 0), True), ((0, 0, 0), True), ((3, 15, 0), True),
])
def test_window_boundaries(hms: tuple[int, int, int], flagged: bool) -> None:
    findings = check_calls([rec("B", at(2, *hms))])
    assert bool(ids(findings, "XCL001")) is flagged


def test_stricter_21_00_setting() -> None:
    cfg = CrossCallConfig.from_dict({"forbidden_start": "21:00"}, "cc.toml")
    assert ids(check_calls([rec("S", at(2, 21, 0))], cfg), "XCL001") == ["S"]
    assert ids(check_calls([rec("S", at(2, 20, 59))], cfg), "XCL001") == []
    assert "21:00" in check_calls([rec("S", at(2, 21, 30))], cfg)[0]["message"]


def test_non_wrapping_window() -> None:
    cfg = CrossCallConfig(forbidden_start="00:00", forbidden_end="07:00")
    assert cfg.is_forbidden(at(2, 6, 59)) and not cfg.is_forbidden(at(2, 7, 0)) and not cfg.is_forbidden(at(2, 23, 0))


def test_unanswered_attempt_at_night_is_flagged() -> None:
    findings = check_calls([rec("A", at(2, 6, 30), connected=False)])
    assert ids(findings, "XCL001") == ["A"]
    assert "unanswered attempt" in findings[0]["evidence"]


def test_hours_rule_needs_no_customer_ref_but_needs_time() -> None:
    assert ids(check_calls([rec("X", at(2, 23, 0), customer=None)]), "XCL001") == ["X"]
    assert check_calls([rec("Y", None)]) == []


# ----------------------------------------------------------------------------- XCL002 / XCL003 limits


def test_fourth_connected_call_flagged_in_time_order() -> None:
    # Given out of order: the limit counts by time, not by list position.
    calls = [rec("c4", at(2, 17)), rec("c1", at(2, 9)), rec("c5", at(2, 19)), rec("c2", at(2, 11)), rec("c3", at(2, 14))]
    findings = check_calls(calls)
    assert ids(findings, "XCL002") == ["c4", "c5"]
    first = next(f for f in findings if f["rule_id"] == "XCL002")
    assert first["evidence"] == "4th connected call to customer C-1 on 2026-11-02 (limit 3)"
    assert first["related_call_ids"] == ["c1", "c2", "c3"]
    assert first["severity"] == "major" and first["category"] == "harassment"


def test_unanswered_attempts_do_not_count_as_connected() -> None:
    calls = [rec(f"a{i}", at(2, 9 + i), connected=False) for i in range(3)]
    calls += [rec(f"c{i}", at(2, 13 + i)) for i in range(3)]
    assert check_calls(calls) == []  # 3 connected, 6 attempts: at both limits, not beyond


def test_seventh_attempt_flagged() -> None:
    calls = [rec(f"a{i}", at(2, 9, 10 * i), connected=False) for i in range(6)]
    calls.append(rec("a6", at(2, 10, 30), connected=True))
    findings = check_calls(calls)
    assert ids(findings, "XCL003") == ["a6"]
    assert "7th attempt to customer C-1 on 2026-11-02" in findings[0]["evidence"]
    assert ids(findings, "XCL002") == []


def test_day_boundary_is_local() -> None:
    # 23:59 of Nov 2 and 00:01 of Nov 3 in +08:00: different days (though both are Nov 2 in UTC).
    day2 = [rec(f"d{i}", at(2, 10 + i)) for i in range(3)]
    cfg = CrossCallConfig(ignore=("XCL001",))
    late = rec("late", at(2, 23, 58))
    early = rec("early", at(3, 0, 1))
    assert early.started_at is not None and early.started_at.astimezone(UTC).day == 2
    findings = check_calls([*day2, late, early], cfg)
    assert ids(findings, "XCL002") == ["late"]  # early starts a new local day


def test_same_utc_day_different_local_days_by_offset() -> None:
    # Two customers' calls are grouped per customer; other customers never count.
    calls = [rec(f"c{i}", at(2, 9 + i)) for i in range(3)] + [rec("other", at(2, 15), customer="C-2")]
    assert check_calls(calls) == []


def test_limits_configurable_and_no_customer_skipped() -> None:
    cfg = CrossCallConfig.from_dict({"max_connected_per_day": 1, "max_attempts_per_day": 2}, "cc.toml")
    calls = [rec("c1", at(2, 9)), rec("c2", at(2, 10)), rec("c3", at(2, 11), connected=False)]
    findings = check_calls(calls, cfg)
    assert ids(findings, "XCL002") == ["c2"]
    assert ids(findings, "XCL003") == ["c3"]
    anon = [rec(f"n{i}", at(2, 9 + i), customer=None) for i in range(8)]
    assert check_calls(anon) == []


def test_duplicate_call_ids_are_merged() -> None:
    # A dialer manifest row and the transcript of the same call count once.
    calls = [rec("c1", at(2, 9), connected=False), rec("c1", at(2, 9)), rec("c2", at(2, 10)), rec("c3", at(2, 11)), rec("c4", at(2, 12))]
    assert ids(check_calls(calls), "XCL002") == ["c4"]


# ----------------------------------------------------------------------------- XCL004 / XCL005 requests


def test_call_after_stop_request_flagged_within_window() -> None:
    calls = [
        rec("r0", at(1, 10), texts=("我知道欠款。", "你们别再打了！")),
        rec("same-day", at(1, 15)),
        rec("later", at(20, 10), connected=False),
        rec("outside", at(1, 10) + timedelta(days=31)),
    ]
    findings = check_calls(calls)
    assert ids(findings, "XCL004") == ["same-day", "later"]
    f = next(f for f in findings if f["rule_id"] == "XCL004")
    assert f["severity"] == "major" and f["category"] == "harassment"
    assert "r0" in f["evidence"] and "2026-11-01" in f["evidence"] and "asked to stop calling" in f["evidence"]
    assert "第1033条" in f["rationale"] and f["suggestion"]
    assert "别再打" not in f["evidence"] + f["message"]  # no transcript text
    assert f["related_call_ids"] == ["r0"]


def test_request_call_itself_and_earlier_calls_not_flagged() -> None:
    calls = [rec("before", at(1, 9)), rec("r0", at(1, 10), texts=("不要再给我打电话了。",))]
    assert ids(check_calls(calls), "XCL004") == []


def test_window_boundary_and_setting() -> None:
    start = at(1, 10)
    calls = [rec("r0", start, texts=("再打我就投诉。",)), rec("edge", start + timedelta(days=30)),
             rec("past", start + timedelta(days=30, seconds=1))]
    assert ids(check_calls(calls), "XCL004") == ["edge"]
    cfg = CrossCallConfig.from_dict({"stop_request_days": 7}, "cc.toml")
    calls = [rec("r0", start, texts=("停止联系。",)), rec("d6", start + timedelta(days=6)), rec("d8", start + timedelta(days=8))]
    assert ids(check_calls(calls, cfg), "XCL004") == ["d6"]


def test_repeated_request_extends_window() -> None:
    start = at(1, 10)
    calls = [rec("r0", start, texts=("别再打了",)), rec("r1", start + timedelta(days=20), texts=("别再骚扰我了",)),
             rec("x", start + timedelta(days=45))]
    findings = check_calls(calls)
    assert ids(findings, "XCL004") == ["r1", "x"]
    assert "r1" in [f for f in findings if f["call_id"] == "x"][0]["evidence"]


def test_request_only_applies_to_same_customer() -> None:
    calls = [rec("r0", at(1, 10), texts=("别再打了",)), rec("other", at(2, 10), customer="C-2")]
    assert check_calls(calls) == []


def test_unanswered_attempt_carries_no_request() -> None:
    calls = [rec("r0", at(1, 10), connected=False, texts=("别再打了",)), rec("x", at(2, 10))]
    assert check_calls(calls) == []


def test_negated_request_is_not_a_request() -> None:
    calls = [rec("r0", at(1, 10), texts=("我不是说别再打了，我是说晚上别打。",)), rec("x", at(2, 10))]
    assert ids(check_calls(calls), "XCL004") == []
    calls = [rec("r0", at(1, 10), texts=("我不是说别再打了吗？",)), rec("x", at(2, 10))]
    assert ids(check_calls(calls), "XCL004") == ["x"]


def test_call_after_lawyer_notice() -> None:
    calls = [rec("r0", at(1, 10), texts=("我请了律师，有事找我律师。",)), rec("x", at(3, 10)), rec("y", at(3, 11))]
    findings = check_calls(calls)
    assert ids(findings, "XCL005") == ["x", "y"]
    assert ids(findings, "XCL004") == []
    f = findings[0]
    assert f["severity"] == "major" and "lawyer" in f["evidence"] and "律师" in f["suggestion"]
    cfg = CrossCallConfig(lawyer_request_days=1)
    assert ids(check_calls(calls, cfg), "XCL005") == []


def test_both_requests_in_one_call() -> None:
    calls = [rec("r0", at(1, 10), texts=("我们找了律师，别再找我。",)), rec("x", at(2, 10))]
    findings = check_calls(calls)
    assert [f["rule_id"] for f in findings] == ["XCL004", "XCL005"]


def test_ignore_and_severity_override() -> None:
    cfg = CrossCallConfig.from_dict({"ignore": ["XCL001"], "severity": {"XCL002": "critical"}}, "cc.toml")
    calls = [rec(f"c{i}", at(2, 20 + i)) for i in range(4)]  # 20,21,22,23 h
    findings = check_calls(calls, cfg)
    assert [f["rule_id"] for f in findings] == ["XCL002"]
    assert findings[0]["severity"] == "critical"


def test_findings_ordered_by_time_then_rule() -> None:
    calls = [rec("r0", at(1, 10), texts=("别再打了",))] + [rec(f"c{i}", at(2, 19 + i)) for i in range(5)]
    findings = check_calls(calls)
    keys = [(f["call_id"], f["rule_id"]) for f in findings]
    assert keys[:2] == [("c0", "XCL004"), ("c1", "XCL004")]
    assert ("c3", "XCL001") in keys and ("c3", "XCL002") in keys and ("c3", "XCL004") in keys
    assert keys.index(("c3", "XCL001")) < keys.index(("c3", "XCL002")) < keys.index(("c3", "XCL004"))


# ----------------------------------------------------------------------------- lexicon


def _examples(kind: str) -> list[tuple[str, str]]:
    lex = load_request_lexicon()
    out = []
    for req in lex.requests.values():
        for text in (req.examples_match if kind == "match" else req.examples_no_match):
            out.append((req.name, text))
    return out


def test_lexicon_has_both_request_types() -> None:
    lex = load_request_lexicon()
    assert {r.rule_id for r in lex.requests.values()} == {"XCL004", "XCL005"}
    for req in lex.requests.values():
        assert len(req.examples_match) >= 5 and len(req.examples_no_match) >= 5
        assert "第1033条" in req.rationale


@pytest.mark.parametrize("name,text", _examples("match"))
def test_lexicon_examples_match(name: str, text: str) -> None:
    assert name in {h.request for h in find_requests(text)}, text


@pytest.mark.parametrize("name,text", _examples("no_match"))
def test_lexicon_examples_do_not_match(name: str, text: str) -> None:
    assert name not in {h.request for h in find_requests(text)}, text


def test_brief_examples() -> None:
    assert [h.request for h in find_requests("你们别再打了")] == ["stop_calling"]
    assert find_requests("你别挂电话") == []
    assert find_requests("我不是说别再打了") == []
    hit = find_requests("好的。你们别再打了")[0]
    assert "好的。你们别再打了"[hit.start:hit.end].startswith("别再打")


def test_lexicon_validation() -> None:
    good = {"requests": {"stop": {"rule": "XCL004", "patterns": ["别再打"], "rationale": "r", "suggestion": "s"}}}
    lex = parse_request_lexicon(good, "x.toml")
    assert [h.request for h in find_requests("别再打", lex)] == ["stop"]
    with pytest.raises(RuleError, match="unknown rule id"):
        parse_request_lexicon({"requests": {"stop": {**good["requests"]["stop"], "rule": "XCL999"}}}, "x.toml")
    with pytest.raises(RuleError, match="invalid regular expression"):
        parse_request_lexicon({"requests": {"stop": {**good["requests"]["stop"], "patterns": ["(别"]}}}, "x.toml")
    with pytest.raises(RuleError, match="unknown key"):
        parse_request_lexicon({"requests": {"stop": {**good["requests"]["stop"], "pattern": "x"}}}, "x.toml")


# ----------------------------------------------------------------------------- config


def test_config_defaults() -> None:
    cfg = CrossCallConfig()
    assert (cfg.forbidden_start, cfg.forbidden_end) == ("22:00", "08:00")
    assert (cfg.max_connected_per_day, cfg.max_attempts_per_day, cfg.stop_request_days) == (3, 6, 30)
    assert CrossCallConfig.from_dict({}, "cc.toml") == cfg
    assert all(r.severity in SEVERITIES for r in RULES.values())


@pytest.mark.parametrize("data,match", [
    ({"forbiden_start": "21:00"}, "unknown key 'forbiden_start'"),
    ({"forbidden_start": "21"}, "forbidden_start"),
    ({"forbidden_end": "24:00"}, "forbidden_end"),
    ({"forbidden_start": 2100}, "forbidden_start"),
    ({"forbidden_start": "08:00"}, "must differ"),
    ({"max_connected_per_day": "3"}, "expected a whole number"),
    ({"max_attempts_per_day": True}, "expected a whole number"),
    ({"stop_request_days": 0}, "must be >= 1"),
    ({"ignore": "XCL001"}, "expected a list"),
    ({"ignore": ["XCL009"]}, "unknown rule id"),
    ({"severity": {"XCL001": "fatal"}}, "unknown severity"),
    ({"severity": {"HAR001": "minor"}}, "unknown rule id"),
])
def test_config_errors_name_source_and_key(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        CrossCallConfig.from_dict(data, "team.toml")
    assert str(info.value).startswith("team.toml: ")


def test_direct_construction_validated() -> None:
    with pytest.raises(ConfigError, match="forbidden_end"):
        CrossCallConfig(forbidden_end="8am")


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        rec("n", datetime(2026, 11, 2, 23, 0))


def test_record_from_transcript() -> None:
    from callcoach.models import CallMetadata, Transcript, Turn

    t = Transcript(
        metadata=CallMetadata(call_id="T1", agent_id="A-9", team="T", started_at=at(2, 10), customer_ref="C-7"),
        turns=(Turn("agent", "您好"), Turn("customer", "你們別再打了！")),
    )
    r = record_from_transcript(t)
    assert (r.call_id, r.agent_id, r.customer_ref, r.connected) == ("T1", "A-9", "C-7", True)
    assert r.customer_texts == ("你们别再打了！",)
    assert [h.request for h in find_requests(r.customer_texts[0])] == ["stop_calling"]


def test_dial_log_rows_become_attempts_and_merge_with_scored_calls(tmp_path) -> None:
    from callcoach.crosscall import read_dial_log

    log = tmp_path / "log.csv"
    log.write_text("\ufeffcall_id,customer_ref,started_at,connected\n"
                   "K1,C-1,2026-11-02T09:00:00+08:00,false\n"
                   "K2,C-1,2026-11-02T09:30:00+08:00,\n"
                   "K3,C-1,2026-11-02T23:30:00+08:00,yes\n"
                   ",C-1,2026-11-02T10:00:00+08:00,no\n", encoding="utf-8")
    records, problems = read_dial_log(log)
    assert [(r.call_id, r.connected) for r in records] == [("K1", False), ("K2", False), ("K3", True)]
    assert problems == [(f"{log}:5", "call_id is empty")]
    # K2 has a transcript: merged, it counts as connected; K3 at night is flagged by XCL001.
    merged = check_calls([*records, rec("K2", at(2, 9, 30))], CrossCallConfig(max_connected_per_day=1))
    assert ids(merged, "XCL002") == ["K3"]
    assert ids(merged, "XCL001") == ["K3"]

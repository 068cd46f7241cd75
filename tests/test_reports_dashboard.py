"""The managers' dashboard: the per-call frame, the aggregates, the exports and the page."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from callcoach.io import read_transcript
from callcoach.pipeline import Pipeline
from callcoach.reports import dashboard
from callcoach.reports.dashboard import (
    FRAME_COLUMNS,
    VIOLATION_CATEGORIES,
    aggregate,
    export_frame,
    render_dashboard,
    results_frame,
    scoring_version,
)
from callcoach.reports.writer import ReportOptions

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "tests" / "data" / "calls"


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    """Real results: the bundled test calls and sample transcripts, scored now."""
    files = sorted(CALLS.glob("c0*.json")) + sorted(CALLS.glob("c10*.json")) + sorted(
        (ROOT / "sample_audio" / "transcripts").glob("*.json"))
    pipeline = Pipeline()
    return [pipeline.score(read_transcript(f)).to_dict() for f in files]


@pytest.fixture(scope="module")
def frame(docs: list[dict[str, Any]]) -> pd.DataFrame:
    return results_frame(docs)


def by_id(docs: list[dict[str, Any]], call_id: str) -> dict[str, Any]:
    return next(d for d in docs if d["call_id"] == call_id)


# --------------------------------------------------------------------------- results_frame


def test_frame_columns_and_values(docs: list[dict[str, Any]], frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == len(docs)
    assert frame["call_id"].is_unique
    assert isinstance(frame["started_at"].dtype, pd.DatetimeTZDtype)

    row = frame.set_index("call_id").loc["c02_violence_insult"]
    doc = by_id(docs, "c02_violence_insult")
    m = doc["metrics"]
    assert row["agent_id"] == doc["agent_id"] and row["team"] == doc["team"]
    assert row["started_at"] == pd.Timestamp(doc["started_at"])
    assert row["score"] == pytest.approx(doc["score"]) and bool(row["passed"]) is doc["passed"]
    assert row["agent_share"] == pytest.approx(m["talk.agent_share"])
    assert row["listening_ratio"] == pytest.approx(m["talk.listening_ratio"])
    assert row["opening_adherence"] == pytest.approx(m["opening.adherence"])
    for e in ("greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose"):
        assert bool(row[f"opening_{e}"]) is m[f"opening.elements.{e}"], e
    for c in VIOLATION_CATEGORIES:
        assert row[f"v_{c}"] == sum(f["category"] == c for f in doc["findings"]), c
    assert row["v_violence"] > 0 and row["v_insult"] > 0 and bool(row["any_violation"])
    assert row["critical"] == sum(f["severity"] == "critical" for f in doc["findings"])
    assert row["customer_trend"] == m["sentiment.customer.trend"]
    assert row["customer_end"] == m["sentiment.customer.end_label"]
    assert bool(row["promise_to_pay"]) is m["conduct.promise_to_pay"]
    assert bool(row["plan_offered"]) is m["conduct.plan_offered"]
    assert "VIO001" in row["flagged_rules"].split() and "violence" in row["flagged_categories"].split()

    # Privacy findings (disclosure to a third party) count as violations too.
    assert frame.set_index("call_id").loc["c05_disclosure_to_spouse", "v_privacy"] > 0
    clean = frame.set_index("call_id").loc["c01_model_compliant"]
    assert not clean["any_violation"] and clean["violations"] == 0

    # One provenance, one short version.
    assert frame["scoring_version"].nunique() == 1
    assert re.fullmatch(r"[0-9a-f]{10}", frame["scoring_version"].iloc[0])


def test_frame_fills_missing_metadata() -> None:
    f = results_frame([{"call_id": "x", "turns": [], "score": 50.0, "passed": True, "started_at": "not a date"},
                       {"call_id": "y", "turns": [], "score": 60.0, "passed": True}])
    assert list(f["team"]) == ["—", "—"]
    assert f["started_at"].isna().all()
    assert list(f["agent_id"]) == ["unknown", "unknown"]
    assert f["any_violation"].sum() == 0


def test_scoring_version_depends_on_what_decides_scores(docs: list[dict[str, Any]]) -> None:
    prov = docs[0]["provenance"]
    assert scoring_version(prov) == scoring_version(copy.deepcopy(prov))
    other_rules = copy.deepcopy(prov)
    other_rules["rules"]["sha256"] = "0" * 64
    assert scoring_version(other_rules) != scoring_version(prov)
    other_model = copy.deepcopy(prov)
    other_model["models"]["sentiment"]["sha256"] = "1" * 64
    assert scoring_version(other_model) != scoring_version(prov)
    other_scorer = copy.deepcopy(prov)
    other_scorer["scorers"]["talk"] = "9.9.9"
    assert scoring_version(other_scorer) != scoring_version(prov)
    # Training statistics and the config file's name do not change a score; its settings do.
    same = copy.deepcopy(prov)
    same["models"]["sentiment"]["heldout"] = {}
    same["config"]["source"] = "renamed.toml"
    assert scoring_version(same) == scoring_version(prov)
    other_config = copy.deepcopy(prov)
    other_config["config"]["sha256"] = "f" * 16
    assert scoring_version(other_config) != scoring_version(prov)


# --------------------------------------------------------------------------- aggregate


def hand_doc(call_id: str, agent: str, team: str, when: str, score: float, cats: tuple[str, ...] = (),
             share: float = 0.5, trend: str = "stable", end: str = "neutral", promise: bool = False,
             plan: bool = False, opening: float = 1.0) -> dict[str, Any]:
    findings = [{"rule_id": f"{c[:3].upper()}001", "category": c, "severity": "critical", "quote": ""} for c in cats]
    return {
        "call_id": call_id, "agent_id": agent, "team": team, "started_at": when, "score": score,
        "passed": not cats, "turns": [], "findings": findings, "provenance": {"callcoach": "test"},
        "metrics": {"talk.agent_share": share, "opening.adherence": opening, "sentiment.customer.trend": trend,
                    "sentiment.customer.end_label": end, "conduct.promise_to_pay": promise,
                    "conduct.plan_offered": plan},
    }


HAND = [
    # Week of 2026-11-02 (Mon), team east: 3 calls.
    hand_doc("h1", "A1", "east", "2026-11-02T10:00:00+08:00", 80.0, share=0.40, trend="improving", promise=True),
    hand_doc("h2", "A1", "east", "2026-11-03T10:00:00+08:00", 60.0, ("violence", "insult"), share=0.60, end="negative"),
    hand_doc("h3", "A2", "east", "2026-11-04T10:00:00+08:00", 70.0, ("violence",), share=0.50, trend="worsening"),
    # Team west, same week.
    hand_doc("h4", "A3", "west", "2026-11-05T10:00:00+08:00", 90.0, plan=True),
    # Monday 00:30 local is still Sunday in UTC: it belongs to the local week of 2026-11-09.
    hand_doc("h5", "A1", "east", "2026-11-09T00:30:00+08:00", 50.0, ("exposure",)),
]


def test_aggregate_by_hand() -> None:
    trends = aggregate(results_frame(HAND), "W")
    w1, w2 = pd.Period("2026-11-02", "W"), pd.Period("2026-11-09", "W")
    east1 = trends[(trends["level"] == "team") & (trends["team"] == "east") & (trends["period"] == w1)].iloc[0]
    assert east1["calls"] == 3
    assert east1["score"] == pytest.approx((80 + 60 + 70) / 3)
    assert east1["rate_violence"] == pytest.approx(2 / 3)  # calls with >=1 violence finding
    assert east1["rate_insult"] == pytest.approx(1 / 3)
    assert east1["violation_rate"] == pytest.approx(2 / 3)
    assert east1["agent_share"] == pytest.approx(0.5)
    assert east1["improving"] == pytest.approx(1 / 3) and east1["worsening"] == pytest.approx(1 / 3)
    assert east1["ends_negative"] == pytest.approx(1 / 3)
    assert east1["promise_rate"] == pytest.approx(1 / 3)
    assert east1["plan_rate"] == 0

    a1 = trends[(trends["level"] == "agent") & (trends["agent_id"] == "A1")].set_index("period")
    assert a1.loc[w1, "calls"] == 2 and a1.loc[w1, "score"] == pytest.approx(70.0)
    assert a1.loc[w2, "calls"] == 1 and a1.loc[w2, "rate_exposure"] == 1.0  # local calendar, not UTC

    overall = trends[trends["level"] == "all"].set_index("period")
    assert overall.loc[w1, "calls"] == 4 and overall.loc[w1, "plan_rate"] == pytest.approx(1 / 4)

    months = aggregate(results_frame(HAND), "M")
    assert set(months["period"].astype(str)) == {"2026-11"}


def test_aggregate_never_mixes_scoring_versions() -> None:
    docs = copy.deepcopy(HAND)
    docs[0]["provenance"] = {"callcoach": "older"}
    trends = aggregate(results_frame(docs), "W")
    east1 = trends[(trends["level"] == "team") & (trends["team"] == "east")
                   & (trends["period"] == pd.Period("2026-11-02", "W"))]
    assert sorted(east1["calls"]) == [1, 2]


# --------------------------------------------------------------------------- export


def test_export_writes_csv_and_parquet(frame: pd.DataFrame, tmp_path: Path) -> None:
    paths = export_frame(frame, tmp_path)
    names = {p.name for p in paths}
    assert {"dashboard.csv", "dashboard_trends.csv"} <= names
    calls = pd.read_csv(tmp_path / "dashboard.csv")
    assert list(calls.columns) == list(FRAME_COLUMNS) and len(calls) == len(frame)
    trends = pd.read_csv(tmp_path / "dashboard_trends.csv")
    assert {"period", "level", "team", "agent_id", "calls", "score", "rate_violence"} <= set(trends.columns)
    assert trends.loc[trends["level"] == "all", "calls"].sum() == frame["started_at"].notna().sum()

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pytest.skip("pyarrow is not installed: Parquet exports are skipped (CSV only)")
    assert {"dashboard.parquet", "dashboard_trends.parquet"} <= names
    pq = pd.read_parquet(tmp_path / "dashboard.parquet")
    assert list(pq["call_id"]) == list(frame["call_id"])
    assert pq["score"].tolist() == pytest.approx(frame["score"].tolist())
    assert len(pd.read_parquet(tmp_path / "dashboard_trends.parquet")) == len(trends)


def test_export_without_pyarrow_writes_csv_only(frame: pd.DataFrame, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "_pyarrow_available", lambda: False)
    paths = export_frame(frame, tmp_path)
    assert sorted(p.name for p in paths) == ["dashboard.csv", "dashboard_trends.csv"]
    assert not (tmp_path / "dashboard.parquet").exists()


# --------------------------------------------------------------------------- the page


def table_html(page: str, table_id: str) -> str:
    m = re.search(rf'<table id="{table_id}"[^>]*>.*?</table>', page, re.S)
    assert m, table_id
    return m.group(0)


def test_review_queue_holds_exactly_the_failed_calls(docs: list[dict[str, Any]], frame: pd.DataFrame) -> None:
    page = render_dashboard(frame, docs, options=ReportOptions())
    queue = table_html(page, "review-queue")
    listed = re.findall(r'href="calls/([^"]+)\.html"', queue)
    failed = [d["call_id"] for d in docs if not d["passed"]]
    assert failed and sorted(listed) == sorted(failed)
    # Newest first, with rule ids and categories.
    times = [pd.Timestamp(by_id(docs, c)["started_at"]) for c in listed]
    assert times == sorted(times, reverse=True)
    assert "VIO001" in queue and "violence" in queue


def test_page_structure(docs: list[dict[str, Any]], frame: pd.DataFrame) -> None:
    page = render_dashboard(frame, docs, options=ReportOptions())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert re.search(r'<table id="agents-table" class="sortable">', page)
    assert "table.sortable" in page  # the inline sorting script
    assert 'id="movers"' in page
    for agent in frame["agent_id"].unique():
        assert f'href="agents/{agent}.html"' in page
    assert page.count("<svg") >= 6  # score, violations, talk share, opening, sentiment, promise
    assert "评分规则或模型已变更" not in page
    assert "未脱敏" not in page
    assert "<script src" not in page and "http://" not in page and "https://" not in page
    # No transcript text: quotes of findings stay on the call pages.
    quotes = [f["quote"] for d in docs for f in d["findings"] if len(f.get("quote") or "") >= 6]
    assert quotes and not any(q in page for q in quotes)


def test_unredacted_is_stated(docs: list[dict[str, Any]], frame: pd.DataFrame) -> None:
    page = render_dashboard(frame, docs, options=ReportOptions(redact=False))
    assert "未脱敏" in page


def test_mixed_scoring_versions_notice(docs: list[dict[str, Any]]) -> None:
    mixed = copy.deepcopy(docs)
    for d in mixed[:4]:
        prov = d["provenance"]
        d["provenance"] = {**prov, "rules": {**prov["rules"], "sha256": "f" * 64}}
    f = results_frame(mixed)
    page = render_dashboard(f, mixed, options=ReportOptions())
    assert "评分规则或模型已变更：" in page
    notice = re.search(r'<div class="notice" id="version-notice">.*?</div>', page, re.S).group(0)
    for version, n in f["scoring_version"].value_counts().items():
        assert version in notice and f"{n} 通" in notice
    # Trends and the agents table use the most recent version only; the queue keeps every call.
    newest = f.loc[f["started_at"].idxmax(), "scoring_version"]
    assert f'最新版本 <code>{newest}</code>' in page
    listed = re.findall(r'href="calls/([^"]+)\.html"', table_html(page, "review-queue"))
    assert sorted(listed) == sorted(d["call_id"] for d in mixed if not d["passed"])


def test_movers_compare_last_two_periods() -> None:
    docs = HAND + [hand_doc("h6", "A2", "east", "2026-11-10T10:00:00+08:00", 95.0)]
    f = results_frame(docs)
    page = render_dashboard(f, docs, options=ReportOptions())
    movers = re.search(r'<div id="movers">.*?</div></div></div>', page, re.S).group(0)
    improving, slipping = movers.split("退步")
    assert "A2" in improving and "+25.0" in improving  # 70 -> 95
    assert "A1" in slipping and "-20.0" in slipping  # 70 -> 50
    assert "A3" not in movers  # no calls in the latest week


def test_empty_and_undated() -> None:
    assert "没有评分结果" in render_dashboard(results_frame([]), [], options=ReportOptions())
    docs = [{"call_id": "u1", "turns": [], "score": 30.0, "passed": False, "findings": []}]
    page = render_dashboard(results_frame(docs), docs, options=ReportOptions())
    assert "u1" in table_html(page, "review-queue")
    assert aggregate(results_frame(docs)).empty

"""The managers' dashboard: trends per team and agent, who improves and who slips, and the calls
that need a reviewer now.

Everything is built from the public JSON results in three steps, each usable on its own:

* :func:`results_frame` turns results into one pandas row per call (no transcript text);
* :func:`aggregate` groups those rows per period × team and per period × agent;
* :func:`export_frame` writes both as CSV and Parquet, :func:`render_dashboard` as one HTML page.

Results scored with different rules, scorers or models are not comparable, so every row carries
a ``scoring_version`` (a short hash of the scoring provenance); aggregates never mix versions and
the page draws its trends from the most recent version only, saying so when versions are mixed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence

import pandas as pd

from ..provenance import scoring_version
from .html import bar_chart, cards, esc, line_chart, page
from .writer import safe_name

if TYPE_CHECKING:  # pragma: no cover
    from .writer import ReportOptions

log = logging.getLogger(__name__)

VIOLATION_CATEGORIES = (
    "violence", "exposure", "impersonation", "false_legal", "insult", "harassment", "privacy", "pressure",
)
CATEGORY_LABELS = {
    "violence": "暴力威胁 violence",
    "exposure": "曝光/爆通讯录 exposure",
    "impersonation": "冒充公检法 impersonation",
    "false_legal": "虚假法律后果 false legal",
    "insult": "侮辱 insult",
    "harassment": "骚扰 harassment",
    "privacy": "隐私泄露 privacy",
    "pressure": "施压 pressure",
}
OPENING_ELEMENTS = ("greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose")
SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}
NO_TEAM = "—"
NO_AGENT = "unknown"
PALETTE = ("#0969da", "#cf222e", "#8250df", "#bc4c00", "#1a7f37", "#9a6700", "#59636e", "#bf3989",
           "#1b7c83", "#6639ba")

# Columns of the per-call frame, in order (a public contract of dashboard.csv / .parquet).
FRAME_COLUMNS = (
    ["call_id", "agent_id", "team", "started_at", "utc_offset_min", "score", "passed",
     "agent_share", "listening_ratio", "opening_adherence"]
    + [f"opening_{e}" for e in OPENING_ELEMENTS]
    + [f"v_{c}" for c in VIOLATION_CATEGORIES]
    + ["violations", "any_violation", "customer_trend", "customer_end", "plan_offered", "promise_to_pay",
       "critical", "flagged_rules", "flagged_categories", "stage", "redacted", "scoring_version",
       "callcoach_version"]
)


# --------------------------------------------------------------------------- the per-call frame


def _parse_time(value: Any) -> tuple[Optional[datetime], Optional[int]]:
    """Return (aware UTC datetime, the call's UTC offset in minutes) or (None, None)."""
    if not value:
        return None, None
    try:
        t = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        try:  # other ISO 8601 spellings (e.g. "20261102T101500+0800")
            t = pd.Timestamp(str(value)).to_pydatetime()
        except (ValueError, TypeError, OverflowError):
            return None, None
        if pd.isna(t):
            return None, None
    offset = t.utcoffset()
    if offset is None:  # no offset given: take the wall clock as UTC (nothing better is known)
        return pd.Timestamp(t).tz_localize("UTC").to_pydatetime(), 0
    return t, int(offset.total_seconds() // 60)


def _opt_bool(value: Any) -> Optional[bool]:
    return None if value is None else bool(value)


def _opt_float(value: Any) -> Optional[float]:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def results_frame(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return one row per scored call (columns :data:`FRAME_COLUMNS`); no transcript text.

    ``started_at`` is tz-aware (the calls' common UTC offset, or UTC when offsets differ; NaT
    when missing or unreadable) and ``utc_offset_min`` keeps each call's own offset so periods
    follow the local calendar. Violation counts per category come from the findings.
    """
    rows: list[dict[str, Any]] = []
    version_cache: dict[int, str] = {}
    for doc in docs:
        m = doc.get("metrics") or {}
        findings = doc.get("findings") or []
        counts = dict.fromkeys(VIOLATION_CATEGORIES, 0)
        flagged: dict[str, int] = {}
        flagged_cats: dict[str, int] = {}
        critical = 0
        for f in findings:
            cat = f.get("category")
            sev = f.get("severity")
            if cat in counts:
                counts[cat] += 1
            if sev == "critical":
                critical += 1
            if sev in ("critical", "major"):
                rank = SEVERITY_ORDER[sev]
                rid = str(f.get("rule_id"))
                flagged[rid] = min(rank, flagged.get(rid, 9))
                flagged_cats[str(cat)] = min(rank, flagged_cats.get(str(cat), 9))
        prov = doc.get("provenance") or {}
        pid = id(prov)
        if pid not in version_cache:
            version_cache[pid] = scoring_version(prov)
        started, offset = _parse_time(doc.get("started_at"))
        row: dict[str, Any] = {
            "call_id": str(doc.get("call_id")),
            "agent_id": str(doc.get("agent_id") or NO_AGENT),
            "team": str(doc.get("team") or NO_TEAM),
            "started_at": started,
            "utc_offset_min": offset,
            "score": _opt_float(doc.get("score")),
            "passed": bool(doc.get("passed")),
            "agent_share": _opt_float(m.get("talk.agent_share")),
            "listening_ratio": _opt_float(m.get("talk.listening_ratio")),
            "opening_adherence": _opt_float(m.get("opening.adherence")),
        }
        for e in OPENING_ELEMENTS:
            row[f"opening_{e}"] = _opt_bool(m.get(f"opening.elements.{e}"))
        for c in VIOLATION_CATEGORIES:
            row[f"v_{c}"] = counts[c]
        total = sum(counts.values())
        row.update(
            violations=total,
            any_violation=total > 0,
            customer_trend=m.get("sentiment.customer.trend"),
            customer_end=m.get("sentiment.customer.end_label"),
            plan_offered=_opt_bool(m.get("conduct.plan_offered")),
            promise_to_pay=_opt_bool(m.get("conduct.promise_to_pay")),
            critical=critical,
            flagged_rules=" ".join(sorted(flagged, key=lambda r: (flagged[r], r))),
            flagged_categories=" ".join(sorted(flagged_cats, key=lambda c: (flagged_cats[c], c))),
            stage=m.get("stage.name"),
            redacted=_opt_bool(doc.get("redacted")),
            scoring_version=version_cache[pid],
            callcoach_version=str(prov.get("callcoach") or ""),
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    offsets = {o for o in frame["utc_offset_min"].dropna().unique()}
    utc = pd.to_datetime(frame["started_at"], utc=True)
    if len(offsets) == 1:
        (only,) = offsets
        from datetime import timedelta, timezone

        utc = utc.dt.tz_convert(timezone(timedelta(minutes=int(only))))
    frame["started_at"] = utc
    frame["utc_offset_min"] = frame["utc_offset_min"].astype("Int64")
    for col in [f"opening_{e}" for e in OPENING_ELEMENTS] + ["plan_offered", "promise_to_pay", "redacted"]:
        frame[col] = frame[col].astype("boolean")
    for col in ("score", "agent_share", "listening_ratio", "opening_adherence"):
        frame[col] = frame[col].astype("float64")
    for col in [f"v_{c}" for c in VIOLATION_CATEGORIES] + ["violations", "critical"]:
        frame[col] = frame[col].astype("int64")
    frame["passed"] = frame["passed"].astype(bool)
    frame["any_violation"] = frame["any_violation"].astype(bool)
    return frame


# --------------------------------------------------------------------------- aggregates


def local_periods(frame: pd.DataFrame, period: str = "W") -> pd.Series:
    """Return each call's period (pandas Period) on its own local calendar; NaT when undated."""
    started = frame["started_at"]
    if started.dt.tz is None:
        local = started
    else:
        offset = pd.to_timedelta(frame["utc_offset_min"].astype("float64").fillna(0), unit="m")
        local = started.dt.tz_convert("UTC").dt.tz_localize(None) + offset
    try:
        return local.dt.to_period(period)
    except (ValueError, TypeError) as exc:
        from ..errors import CallcoachError

        raise CallcoachError(f"period: expected a pandas period such as D, W or M, got {period!r}") from exc


def _helper_columns(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    f = pd.DataFrame({
        "period": local_periods(frame, period),
        "scoring_version": frame["scoring_version"],
        "team": frame["team"],
        "agent_id": frame["agent_id"],
        "call_id": frame["call_id"],
        "score": frame["score"],
        "passed": frame["passed"].astype("float64"),
        "violation_rate": frame["any_violation"].astype("float64"),
        "agent_share": frame["agent_share"],
        "opening_adherence": frame["opening_adherence"],
        "critical": frame["critical"],
    })
    for c in VIOLATION_CATEGORIES:
        f[f"rate_{c}"] = (frame[f"v_{c}"] > 0).astype("float64")
    trend = frame["customer_trend"]
    end = frame["customer_end"]
    f["improving"] = (trend == "improving").astype("float64").where(trend.notna())
    f["worsening"] = (trend == "worsening").astype("float64").where(trend.notna())
    f["ends_negative"] = (end == "negative").astype("float64").where(end.notna())
    f["promise_rate"] = frame["promise_to_pay"].astype("Float64").astype("float64")
    f["plan_rate"] = frame["plan_offered"].astype("Float64").astype("float64")
    return f


_AGG = {
    "calls": ("call_id", "size"),
    "score": ("score", "mean"),
    "pass_rate": ("passed", "mean"),
    "violation_rate": ("violation_rate", "mean"),
    **{f"rate_{c}": (f"rate_{c}", "mean") for c in VIOLATION_CATEGORIES},
    "agent_share": ("agent_share", "mean"),
    "opening_adherence": ("opening_adherence", "mean"),
    "improving": ("improving", "mean"),
    "worsening": ("worsening", "mean"),
    "ends_negative": ("ends_negative", "mean"),
    "promise_rate": ("promise_rate", "mean"),
    "plan_rate": ("plan_rate", "mean"),
    "critical": ("critical", "sum"),
}
TREND_COLUMNS = ["period", "scoring_version", "level", "team", "agent_id"] + list(_AGG)


def aggregate(frame: pd.DataFrame, period: str = "W") -> pd.DataFrame:
    """Return trends per period × team (``level`` "team"), per period × agent ("agent") and per
    period overall ("all"), each also keyed by ``scoring_version`` so versions never mix.

    Rates are shares of calls (a violation rate is the share of calls with at least one finding
    of that category); sentiment shares count only calls with a customer trend / end label.
    Undated calls (NaT) are left out.
    """
    if frame.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    h = _helper_columns(frame, period)
    h = h[h["period"].notna()]
    if h.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    parts = []
    team = h.groupby(["period", "scoring_version", "team"], sort=True, observed=True).agg(**_AGG).reset_index()
    team.insert(2, "level", "team")
    team.insert(4, "agent_id", None)
    agent = h.groupby(["period", "scoring_version", "team", "agent_id"], sort=True, observed=True).agg(**_AGG).reset_index()
    agent.insert(2, "level", "agent")
    overall = h.groupby(["period", "scoring_version"], sort=True, observed=True).agg(**_AGG).reset_index()
    overall.insert(2, "level", "all")
    overall.insert(3, "team", None)
    overall.insert(4, "agent_id", None)
    parts = [overall, team, agent]
    out = pd.concat(parts, ignore_index=True)[TREND_COLUMNS]
    out["calls"] = out["calls"].astype("int64")
    out["critical"] = out["critical"].astype("int64")
    return out


# --------------------------------------------------------------------------- export


def export_frame(frame: pd.DataFrame, out_dir: Path, period: Optional[str] = None) -> list[Path]:
    """Write ``dashboard.csv``/``.parquet`` (one row per call) and ``dashboard_trends.csv``/
    ``.parquet`` (the aggregates) into ``out_dir``; Parquet only when pyarrow is installed.

    CSV is UTF-8 with a byte-order mark so spreadsheet programs read Chinese team names. The
    trends' period is ``period``, else the one :func:`render_dashboard` used on this frame, else weeks.
    """
    period = period or frame.attrs.get("period") or "W"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    trends = aggregate(frame, period).copy()
    trends["period_start"] = [p.start_time if not pd.isna(p) else pd.NaT for p in trends["period"]]
    trends["period"] = trends["period"].astype(str)
    written: list[Path] = []
    for name, data in (("dashboard", frame), ("dashboard_trends", trends)):
        path = out_dir / f"{name}.csv"
        data.to_csv(path, index=False, encoding="utf-8-sig")
        written.append(path)
    if not _pyarrow_available():
        log.info("pyarrow is not installed: wrote the dashboard exports as CSV only")
        return written
    for name, data in (("dashboard", frame), ("dashboard_trends", trends)):
        path = out_dir / f"{name}.parquet"
        data.to_parquet(path, index=False, engine="pyarrow")
        written.append(path)
    return written


def _pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- the page


def _pct(v: Any, digits: int = 0) -> str:
    return "—" if v is None or pd.isna(v) else f"{v * 100:.{digits}f}%"


def _num(v: Any, digits: int = 1) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.{digits}f}"


def _signed(v: Any, digits: int = 1, pct: bool = False) -> str:
    if v is None or pd.isna(v):
        return "—"
    x = v * 100 if pct else v
    return f"{x:+.{digits}f}" + (" pp" if pct else "")


def _sortable(columns: Sequence[tuple[str, bool]], rows: Iterable[Sequence[tuple[str, Any]]], table_id: str) -> str:
    """A sortable table like html.table, with HTML cells and an explicit sort value per cell."""
    head = "".join(f'<th class="{"num" if n else ""}">{esc(c)}</th>' for c, n in columns)
    body = []
    for row in rows:
        cells = []
        for (cell_html, sort_value), (_, n) in zip(row, columns):
            data = ""
            if sort_value is not None and not (isinstance(sort_value, float) and pd.isna(sort_value)):
                data = f' data-v="{esc(sort_value)}"'
            elif n:
                data = ' data-v="-1e9"'
            cells.append(f'<td class="{"num" if n else ""}"{data}>{cell_html}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table id="{esc(table_id)}" class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _agent_link(agent_id: str) -> str:
    return f'<a href="agents/{esc(safe_name(agent_id))}.html">{esc(agent_id)}</a>'


def _call_link(call_id: str) -> str:
    return f'<a href="calls/{esc(safe_name(call_id))}.html">{esc(call_id)}</a>'


def _period_labels(periods: Sequence[pd.Period]) -> dict[pd.Period, str]:
    years = {p.start_time.year for p in periods}
    out = {}
    for p in periods:
        freq = p.freqstr
        if freq.startswith("M") or freq.startswith("Q") or freq.startswith("Y") or freq.startswith("A"):
            out[p] = str(p)
        else:
            out[p] = p.start_time.strftime("%m-%d" if len(years) == 1 else "%Y-%m-%d")
    return out


def _series(trends: pd.DataFrame, key: str, value: str, labels: Mapping[pd.Period, str],
            scale: float = 1.0) -> dict[str, list[tuple[str, Optional[float]]]]:
    out: dict[str, list[tuple[str, Optional[float]]]] = {}
    for name, grp in trends.groupby(key, sort=True):
        out[str(name)] = [(labels[p], None if pd.isna(v) else round(float(v) * scale, 2))
                          for p, v in zip(grp["period"], grp[value])]
    return out


def _chart(title: str, hint: str, svg: str) -> str:
    return f'<figure class="chart-box"><h3>{esc(title)}</h3>{svg}<figcaption class="muted">{hint}</figcaption></figure>'


EXTRA_CSS = """
main { max-width:1240px; }
.charts { display:grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap:14px 22px; }
figure.chart-box { margin:0; } figure.chart-box h3 { margin-top:4px; }
figcaption { font-size:12px; }
.movers { display:grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap:14px 22px; }
.up { color:var(--ok); } .down { color:var(--crit); }
.queue { max-height:520px; overflow-y:auto; }
.tag { display:inline-block; padding:0 6px; margin:1px 2px; border-radius:10px; font-size:12px;
  background:var(--soft); border:1px solid var(--line); }
.notice.danger { border-left-color:var(--crit); background:#ffebe9; }
@media (max-width: 640px) { .charts, .movers { grid-template-columns: 1fr; } }
"""


def render_dashboard(frame: pd.DataFrame, docs: Sequence[Mapping[str, Any]], *, options: "ReportOptions") -> str:
    """Return the managers' dashboard as one self-contained HTML page (zh-CN, English hints)."""
    period = getattr(options, "period", "W") or "W"
    frame.attrs["period"] = period  # export_frame's trends then use the same period
    notices: list[str] = []
    unredacted = (not getattr(options, "redact", True)) or bool(
        len(frame) and (frame["redacted"] == False).fillna(False).any())  # noqa: E712
    if unredacted:
        notices.append('<div class="notice danger"><b>未脱敏 (unredacted)</b>：本报告及链接的通话页含未遮盖的电话、'
                       '身份证、银行卡号，仅限授权人员查看。Authorised reviewers only.</div>')
    if frame.empty:
        body = "".join(notices) + '<section><p class="muted">没有评分结果 (no scored results).</p></section>'
        return page("催收质检看板 · QA dashboard", body, extra_css=EXTRA_CSS)

    # Comparable results only: the most recent scoring version drives the trends.
    counts = frame["scoring_version"].value_counts()
    dated = frame[frame["started_at"].notna()]
    if len(counts) > 1:
        current = (str(dated.loc[dated["started_at"].idxmax(), "scoring_version"]) if len(dated)
                   else str(counts.index[0]))
        cc = frame.groupby("scoring_version")["callcoach_version"].first()
        first_seen = dated.groupby("scoring_version")["started_at"].min().to_dict()
        order = sorted(counts.index, key=lambda v: (v not in first_seen, first_seen.get(v, 0) if v in first_seen else 0, v))
        items = "".join(
            f"<li><code>{esc(v)}</code>（callcoach {esc(cc.get(v, ''))}）：{int(counts[v])} 通"
            f"{' — <b>当前 current</b>' if v == current else ''}</li>" for v in order)
        notices.append(
            f'<div class="notice" id="version-notice"><b>评分规则或模型已变更：</b>这些结果由 {len(counts)} 个评分版本产生，'
            f'分数不能直接比较。趋势图与坐席表只使用最新版本 <code>{esc(current)}</code> 的 {int(counts[current])} 通通话；'
            f'待复核队列包含全部通话。<br><span class="muted">Scoring rules or models changed: trends use only '
            f'results of the most recent scoring version.</span><ul>{items}</ul></div>')
    else:
        current = str(counts.index[0])
    cur = frame[frame["scoring_version"] == current]

    trends = aggregate(cur, period)
    periods = sorted(trends["period"].unique()) if len(trends) else []
    labels = _period_labels(periods)
    overall = trends[trends["level"] == "all"]
    team_t = trends[trends["level"] == "team"]

    # Summary cards.
    n_all = len(frame)
    calls_txt = f"{len(cur)}" + (f' <span class="muted" style="font-size:13px">/ {n_all}</span>' if len(cur) != n_all else "")
    pass_rate = cur["passed"].mean()
    summary = cards([
        ("通话 Calls", calls_txt, ""),
        ("平均质检分 Mean score", _num(cur["score"].mean()), ""),
        ("合格率 Pass rate", _pct(pass_rate), "pass" if pass_rate >= 0.8 else "fail"),
        ("违规通话占比 Violation rate", _pct(cur["any_violation"].mean()), "fail" if cur["any_violation"].mean() > 0 else "pass"),
        ("承诺还款率 Promise rate", _pct(cur["promise_to_pay"].astype("Float64").mean()), ""),
        ("坐席 Agents / 团队 Teams", f"{cur['agent_id'].nunique()} / {cur['team'].nunique()}", ""),
    ])
    dated_cur = cur["started_at"].dropna()
    span = ""
    if len(dated_cur):
        span = f"{dated_cur.min():%Y-%m-%d} – {dated_cur.max():%Y-%m-%d}"
    period_name = {"D": "日 day", "W": "周 week", "M": "月 month"}.get(period, period)
    undated = int(cur["started_at"].isna().sum())
    sub = (f"{esc(span)} · 周期 period: {esc(period_name)} · {len(cur)} 通通话 calls"
           + (f" · {undated} 通无时间，未计入趋势 (undated, not in trends)" if undated else "")
           + (" · <b class=fail>未脱敏 unredacted</b>" if unredacted else " · 已脱敏 redacted"))

    # Charts.
    charts_html = ""
    if len(periods):
        cat_colors = dict(zip(VIOLATION_CATEGORIES, PALETTE))
        present = [c for c in VIOLATION_CATEGORIES if overall[f"rate_{c}"].fillna(0).gt(0).any()]
        viol_series = {CATEGORY_LABELS[c]: [(labels[p], round(float(v) * 100, 1)) for p, v in
                                            zip(overall["period"], overall[f"rate_{c}"])] for c in present}
        sent = {
            "好转 improving": [(labels[p], None if pd.isna(v) else round(v * 100, 1)) for p, v in zip(overall["period"], overall["improving"])],
            "恶化 worsening": [(labels[p], None if pd.isna(v) else round(v * 100, 1)) for p, v in zip(overall["period"], overall["worsening"])],
            "以负面结束 ends negative": [(labels[p], None if pd.isna(v) else round(v * 100, 1)) for p, v in zip(overall["period"], overall["ends_negative"])],
        }
        latest = periods[-1]
        last_overall = overall[overall["period"] == latest]
        bars = [(CATEGORY_LABELS[c].split(" ")[0], float(last_overall[f"rate_{c}"].iloc[0]) * 100) for c in VIOLATION_CATEGORIES]
        promise = _series(team_t, "team", "promise_rate", labels, 100)
        promise.update({"全部·还款方案 plan offered": [(labels[p], None if pd.isna(v) else round(v * 100, 1))
                                                      for p, v in zip(overall["period"], overall["plan_rate"])]})
        charts_html = '<div class="charts">' + "".join([
            _chart("团队质检得分 · QA score by team", "平均分 0–100 mean score",
                   line_chart(_series(team_t, "team", "score", labels), y_min=0, y_max=100, colors=PALETTE,
                              label="QA score by team")),
            _chart("各类违规通话占比 · Violation rate by category",
                   "含该类违规的通话占比 %，全部团队 share of calls with ≥1 finding, all teams" if present else "本期间无违规 no violations",
                   line_chart(viol_series, y_min=0, colors=[cat_colors[c] for c in present], label="violation rate")
                   if present else ""),
            _chart(f"最近一期违规占比 · Violation rate, latest {labels[latest]}", "% of calls",
                   bar_chart(bars, max_value=max(max(v for _, v in bars), 1.0),
                             color="#cf222e", fmt="{:.0f}%", label="violation rate latest period")),
            _chart("坐席说话占比 · Agent talk share", "坐席说话时间 / 总说话时间 %，目标约 30–50% (target band)",
                   line_chart(_series(team_t, "team", "agent_share", labels, 100), y_min=0, y_max=100,
                              colors=PALETTE, label="agent talk share")),
            _chart("开场白完整度 · Opening adherence", "六要素完成比例 % of the six opening elements",
                   line_chart(_series(team_t, "team", "opening_adherence", labels, 100), y_min=0, y_max=100,
                              colors=PALETTE, label="opening adherence")),
            _chart("客户情绪结果 · Customer sentiment outcomes", "占通话 % of calls，全部团队 all teams",
                   line_chart(sent, y_min=0, y_max=100, colors=("#1a7f37", "#bc4c00", "#cf222e"),
                              label="customer sentiment")),
            _chart("承诺还款率 · Promise-to-pay rate", "按团队 by team %，及全部团队提出还款方案的比例 plan rate",
                   line_chart(promise, y_min=0, y_max=100, colors=PALETTE, label="promise to pay")),
        ]) + "</div>"
    else:
        charts_html = '<p class="muted">没有带时间的通话，无法绘制趋势 (no dated calls, no trends).</p>'

    # Agents table and movers.
    last_p = periods[-1] if periods else None
    prev_p = periods[-2] if len(periods) > 1 else None
    h = _helper_columns(cur, period)
    per_agent = h.groupby("agent_id", sort=True).agg(
        team=("team", "first"), calls=("call_id", "size"), score=("score", "mean"),
        violation_rate=("violation_rate", "mean"), agent_share=("agent_share", "mean"),
        opening=("opening_adherence", "mean"), promise=("promise_rate", "mean"), pass_rate=("passed", "mean"))
    ap = h[h["period"].notna()].groupby(["agent_id", "period"], sort=False).agg(
        score=("score", "mean"), violation_rate=("violation_rate", "mean"), calls=("call_id", "size"))
    ap_d = ap.to_dict("index")

    def at(agent: str, p: Any, col: str) -> Any:
        rec = ap_d.get((agent, p)) if p is not None else None
        return None if rec is None else rec[col]

    rows = []
    movers = []
    for agent, r in per_agent.iterrows():
        last_s, prev_s = at(agent, last_p, "score"), at(agent, prev_p, "score")
        delta = None if last_s is None or prev_s is None or pd.isna(last_s) or pd.isna(prev_s) else float(last_s - prev_s)
        if delta is not None:
            lv, pv = at(agent, last_p, "violation_rate"), at(agent, prev_p, "violation_rate")
            movers.append((agent, r["team"], delta, float(prev_s), float(last_s), lv - pv,
                           int(at(agent, last_p, "calls")), int(at(agent, prev_p, "calls"))))
        cls = "" if delta is None else ("up" if delta > 0 else "down" if delta < 0 else "")
        rows.append([
            (_agent_link(str(agent)), str(agent)), (esc(r["team"]), str(r["team"])),
            (str(int(r["calls"])), int(r["calls"])), (_num(r["score"]), r["score"]),
            (f'<span class="{cls}">{_signed(delta)}</span>', delta),
            (_pct(r["pass_rate"]), r["pass_rate"]),
            (_pct(r["violation_rate"]), r["violation_rate"]), (_pct(r["agent_share"]), r["agent_share"]),
            (_pct(r["opening"]), r["opening"]), (_pct(r["promise"]), r["promise"]),
        ])
    agents_html = _sortable(
        [("坐席 Agent", False), ("团队 Team", False), ("通话 Calls", True), ("平均分 Score", True),
         ("较上期 Δ vs prev.", True), ("合格率 Pass", True), ("违规率 Violations", True),
         ("说话占比 Talk share", True), ("开场白 Opening", True), ("承诺还款 Promise", True)],
        rows, "agents-table")

    movers_html = _movers(movers, labels.get(last_p, ""), labels.get(prev_p, ""))

    # Review queue: every failed call or call with a critical finding, all versions, newest first.
    q = frame[(~frame["passed"]) | (frame["critical"] > 0)].sort_values(
        ["started_at", "call_id"], ascending=[False, True], na_position="last")
    qrows = []
    for r in q.itertuples(index=False):
        when = "—" if pd.isna(r.started_at) else f"{r.started_at:%Y-%m-%d %H:%M}"
        tags = "".join(
            f'<span class="tag">{esc(CATEGORY_LABELS[c].split(" ")[0])} <span class="muted">{esc(c)}</span></span>'
            if c in CATEGORY_LABELS else f'<span class="tag">{esc(c)}</span>'
            for c in str(r.flagged_categories).split())
        qrows.append([
            (esc(when), "" if pd.isna(r.started_at) else r.started_at.isoformat()),
            (_call_link(r.call_id), r.call_id), (_agent_link(r.agent_id), r.agent_id), (esc(r.team), r.team),
            (_num(r.score), r.score),
            (f'<span class="{"fail" if r.critical else ""}">{int(r.critical)}</span>', int(r.critical)),
            (esc(r.flagged_rules), r.flagged_rules), (tags, r.flagged_categories),
        ])
    queue_html = (
        f'<p class="muted">{len(q)} 通：不合格或含严重违规 (failed or with a critical finding)，最新在前 newest first。'
        f'点击通话查看证据 open a call for the evidence.</p>'
        + '<div class="queue">' + _sortable(
            [("时间 Time", False), ("通话 Call", False), ("坐席 Agent", False), ("团队 Team", False),
             ("得分 Score", True), ("严重 Critical", True), ("规则 Rules", False), ("类别 Categories", False)],
            qrows, "review-queue") + "</div>")

    # Team summary table for the latest period.
    team_html = ""
    if last_p is not None:
        lt = team_t[team_t["period"] == last_p].set_index("team")
        pt = team_t[team_t["period"] == prev_p].set_index("team") if prev_p is not None else None
        trows = []
        for team, r in lt.iterrows():
            d = None
            if pt is not None and team in pt.index:
                d = float(r["score"] - pt.loc[team, "score"])
            cls = "" if d is None else ("up" if d > 0 else "down" if d < 0 else "")
            trows.append([(esc(team), str(team)), (str(int(r["calls"])), int(r["calls"])), (_num(r["score"]), r["score"]),
                          (f'<span class="{cls}">{_signed(d)}</span>', d), (_pct(r["violation_rate"]), r["violation_rate"]),
                          (_pct(r["agent_share"]), r["agent_share"]), (_pct(r["opening_adherence"]), r["opening_adherence"]),
                          (_pct(r["promise_rate"]), r["promise_rate"])])
        team_html = (f'<section><h2>团队 · Teams（{esc(labels[last_p])}）</h2>' + _sortable(
            [("团队 Team", False), ("通话 Calls", True), ("平均分 Score", True), ("较上期 Δ", True),
             ("违规率 Violations", True), ("说话占比 Talk share", True), ("开场白 Opening", True),
             ("承诺还款 Promise", True)], trows, "teams-table") + "</section>")

    body = "".join(notices) + (
        f'<section><h2>概览 · Summary</h2>{summary}</section>'
        f'<section><h2>需立即复核的通话 · Calls that need a reviewer now</h2>{queue_html}</section>'
        f'<section><h2>趋势 · Trends by {esc(period_name)}</h2>{charts_html}</section>'
        f'{team_html}'
        f'<section><h2>进步与退步 · Which agents improve and which slip</h2>{movers_html}</section>'
        f'<section><h2>坐席 · Agents</h2><p class="muted">点击表头排序 click a header to sort；'
        f'“较上期”= 最近一期平均分 − 上一期 (latest period minus the previous one)。</p>{agents_html}</section>'
    )
    footer = (f"callcoach · 评分版本 scoring version <code>{esc(current)}</code> · "
              f"数据 data: dashboard.csv, dashboard_trends.csv (+ .parquet)")
    return page("催收质检看板 · QA dashboard", body, subtitle=sub, extra_css=EXTRA_CSS, footer=footer)


def _movers(movers: list[tuple], last_label: str, prev_label: str, top: int = 8) -> str:
    if not movers:
        return ('<div id="movers"><p class="muted">需要至少两期数据才能比较 '
                '(needs two periods with calls from the same agent).</p></div>')
    up = sorted((m for m in movers if m[2] > 0), key=lambda m: (-m[2], m[0]))[:top]
    down = sorted((m for m in movers if m[2] < 0), key=lambda m: (m[2], m[0]))[:top]

    def lst(items: list[tuple], cls: str, empty: str) -> str:
        if not items:
            return f'<p class="muted">{empty}</p>'
        rows = []
        for agent, team, delta, prev_s, last_s, dviol, n_last, n_prev in items:
            rows.append(
                f'<tr><td>{_agent_link(agent)}</td><td>{esc(team)}</td>'
                f'<td class="num">{prev_s:.1f} → {last_s:.1f}</td>'
                f'<td class="num {cls}">{delta:+.1f}</td>'
                f'<td class="num">{_signed(dviol, 0, pct=True)}</td><td class="num">{n_prev} → {n_last}</td></tr>')
        return ('<table><thead><tr><th>坐席 Agent</th><th>团队 Team</th><th class="num">得分 Score</th>'
                '<th class="num">Δ</th><th class="num">违规率 Δ viol.</th><th class="num">通话 Calls</th></tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>')

    return (f'<div id="movers"><p class="muted">比较最近一期 {esc(last_label)} 与上一期 {esc(prev_label)} '
            f'(latest period vs the previous one; agents with calls in both).</p><div class="movers">'
            f'<div><h3 class="up">▲ 进步 Improving</h3>{lst(up, "up", "无 none")}</div>'
            f'<div><h3 class="down">▼ 退步 Slipping</h3>{lst(down, "down", "无 none")}</div></div></div>')

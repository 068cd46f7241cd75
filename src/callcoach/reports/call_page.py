"""The call review page: one self-contained HTML page per scored call, for QA reviewers.

It shows the call's numbers at a glance, a timeline of who spoke when, the customer's sentiment
over the call, the opening script, every finding with why it matters and a better phrasing, and
the transcript as a conversation with each finding highlighted in place. Clicking a timestamp,
a finding or a turn on the timeline seeks the recording (when there is one) and scrolls to the
turn. Everything is escaped; nothing is fetched from a network.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from .html import cards, esc, json_script, page
from .writer import ReportOptions

SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}
SEVERITY_ZH = {"critical": "严重", "major": "重要", "minor": "轻微", "info": "提示"}
SPEAKER_ZH = {"agent": "坐席", "customer": "客户"}
CATEGORY_ZH = {
    "exposure": "告知第三方 / exposure",
    "privacy": "隐私 / privacy",
    "harassment": "骚扰 / harassment",
    "violence": "暴力威胁 / violence",
    "impersonation": "冒充身份 / impersonation",
    "false_legal": "虚假法律后果 / false legal",
    "insult": "侮辱 / insult",
    "pressure": "施压 / pressure",
    "listening": "倾听 / listening",
    "conduct": "沟通 / conduct",
    "opening": "开场白 / opening",
    "sentiment": "情绪 / sentiment",
}
OPENING_ELEMENTS = (
    ("greeting", "问候", "greeting"),
    ("self_identify", "自报姓名/工号", "self-identification"),
    ("organization", "说明机构", "organisation"),
    ("verify_identity", "核实身份", "identity check"),
    ("recording_notice", "录音告知", "recording notice"),
    ("purpose", "说明来意", "purpose"),
)
STAGE_ZH = {"reminder": "提醒", "early": "早期", "mid": "中期", "late": "后期", "legal": "法务"}
TREND_ZH = {"improving": ("好转 ↗", "pass"), "worsening": ("恶化 ↘", "fail"), "stable": ("平稳 →", "")}
LABEL_ZH = {"negative": "负面", "neutral": "中性", "positive": "正面"}

SILENCE_S = 5.0
LOW_CONFIDENCE = 0.5
DEFAULT_BAND = (0.30, 0.50)

EXTRA_CSS = """
.alert { border-left:4px solid var(--crit); background:#ffebe9; padding:8px 12px; margin:10px 0; font-weight:600; }
.redacted-note { font-size:12px; margin:6px 0; }
.player-bar { position:sticky; top:0; z-index:5; background:var(--bg); padding:6px 0; border-bottom:1px solid var(--line); }
.player-bar audio { width:100%; }
.card .v small { display:block; font-size:12px; font-weight:400; color:var(--muted); }
.chart-wrap { width:100%; overflow-x:auto; }
svg.timeline .tl-turn, svg.timeline .tl-tick, svg.senti .pt { cursor:pointer; }
svg.timeline .tl-turn.agent { fill:var(--agent); } svg.timeline .tl-turn.customer { fill:var(--customer); }
svg.timeline .tl-turn.other { fill:var(--info); }
svg.timeline .tl-turn:hover { opacity:.7; }
svg.timeline .tl-tick line { stroke:var(--crit); stroke-width:2.5; }
svg.timeline .tl-tick rect { fill:transparent; }
svg.timeline text, svg.senti text { font-size:13px; }
.legend { font-size:12px; color:var(--muted); }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin:0 3px 0 8px; vertical-align:middle; }
ul.opening { list-style:none; padding:0; margin:0; display:flex; flex-wrap:wrap; gap:6px 18px; }
ul.opening li { min-width:200px; }
.ok { color:var(--ok); font-weight:700; } .miss { color:var(--crit); font-weight:700; }
.finding { border:1px solid var(--line); border-left:4px solid var(--info); border-radius:6px; padding:8px 12px; margin:8px 0; }
.finding.sev-critical { border-left-color:var(--crit); } .finding.sev-major { border-left-color:var(--major); }
.finding.sev-minor { border-left-color:var(--minor); }
.finding .head { display:flex; flex-wrap:wrap; gap:4px 10px; align-items:center; font-size:13px; }
.finding .rule { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-weight:600; }
.finding blockquote { margin:6px 0; padding:4px 10px; background:var(--soft); border-left:3px solid var(--line); }
.finding .lbl { color:var(--muted); font-size:12px; }
.finding p { margin:4px 0; }
.finding .why { font-size:13px; }
.finding .better { background:#dafbe1; padding:4px 8px; border-radius:4px; }
button.ts { font:inherit; font-size:12px; font-variant-numeric:tabular-nums; color:var(--agent); background:none;
  border:0; padding:0 2px; cursor:pointer; text-decoration:underline dotted; }
.transcript { display:flex; flex-direction:column; gap:6px; }
.turn { max-width:82%; display:flex; flex-direction:column; scroll-margin-top:80px; }
.turn.agent { align-self:flex-start; } .turn.customer { align-self:flex-end; align-items:flex-end; }
.turn.other { align-self:center; }
.turn .meta { font-size:12px; color:var(--muted); }
.turn .bubble { padding:6px 10px; border-radius:10px; white-space:pre-wrap; word-break:break-word; border:1px solid transparent; }
.turn.agent .bubble { background:#ddf4ff; border-top-left-radius:2px; }
.turn.customer .bubble { background:#fbefff; border-top-right-radius:2px; }
.turn.other .bubble { background:var(--soft); }
.turn.has-finding .bubble { border-color:#ff8182; }
.turn.playing .bubble { box-shadow:0 0 0 2px #fd8c73; }
.turn.flash .bubble { animation:flash 1.2s ease-out; }
@keyframes flash { from { box-shadow:0 0 0 4px #ffd33d; } to { box-shadow:none; } }
.ovl { display:inline-block; font-size:11px; color:#fff; background:var(--major); border-radius:8px; padding:0 6px; }
.silence { align-self:center; color:var(--muted); font-size:12px; }
mark.hl { border-radius:2px; padding:0 1px; color:inherit; }
mark.hl.sev-critical { background:#ffcecb; border-bottom:2px solid var(--crit); }
mark.hl.sev-major { background:#ffd8b5; border-bottom:2px solid var(--major); }
mark.hl.sev-minor { background:#fff1a8; border-bottom:2px solid var(--minor); }
mark.hl.sev-info { background:#eaeef2; border-bottom:2px solid var(--info); }
.lowconf { text-decoration:underline wavy #8c959f; color:#57606a; }
.negs { margin:6px 0 0; padding-left:18px; font-size:13px; }
footer .prov { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; word-break:break-all; }
@media (max-width: 640px) {
  .turn { max-width:94%; }
  ul.opening li { min-width:45%; }
  svg.timeline { min-width:680px; } svg.senti { min-width:560px; }
}
"""

PAGE_JS = """
(function () {
  var player = document.getElementById('player');
  var lastFlash = null;
  function seek(el) {
    var s = parseFloat(el.getAttribute('data-start'));
    if (player && !isNaN(s)) {
      try {
        player.currentTime = s;
        var p = player.play();
        if (p && typeof p.catch === 'function') { p.catch(function () {}); }
      } catch (e) { /* the recording may not be loadable */ }
    }
    var t = el.getAttribute('data-turn');
    if (t !== null && t !== '') {
      var turn = document.getElementById('turn-' + t);
      if (turn && turn !== el) {
        turn.scrollIntoView({ behavior: 'smooth', block: 'center' });
        if (lastFlash) { lastFlash.classList.remove('flash'); }
        turn.classList.remove('flash'); void turn.offsetWidth; turn.classList.add('flash');
        lastFlash = turn;
      }
    }
  }
  document.addEventListener('click', function (e) {
    var target = e.target;
    if (!target || !target.closest) { return; }
    var el = target.closest('[data-start]');
    if (!el || el.getAttribute('data-start') === '') { return; }
    if (target.closest('a[href]')) { return; }
    var sel = window.getSelection ? String(window.getSelection()) : '';
    if (sel && el.tagName !== 'BUTTON') { return; }  /* let reviewers select and copy text */
    seek(el);
  });
  document.addEventListener('keydown', function (e) {
    if ((e.key === 'Enter' || e.key === ' ') && e.target && e.target.getAttribute &&
        e.target.getAttribute('role') === 'button' && e.target.getAttribute('data-start')) {
      e.preventDefault(); seek(e.target);
    }
  });
  if (player) {
    var dataEl = document.getElementById('call-data');
    var turns = [];
    try { turns = JSON.parse(dataEl ? dataEl.textContent : '{}').turns || []; } catch (e) { turns = []; }
    var current = null;
    player.addEventListener('timeupdate', function () {
      var now = player.currentTime, found = null;
      for (var i = 0; i < turns.length; i++) {
        if (now >= turns[i][1] && now < turns[i][2]) { found = turns[i][0]; }
      }
      if (found === current) { return; }
      if (current !== null) { var old = document.getElementById('turn-' + current); if (old) { old.classList.remove('playing'); } }
      current = found;
      if (found !== null) { var cur = document.getElementById('turn-' + found); if (cur) { cur.classList.add('playing'); } }
    });
  }
})();
"""


# ----------------------------------------------------------------------------- small helpers


def _num(value: Any) -> Optional[float]:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _clock(seconds: Any) -> str:
    s = _num(seconds)
    if s is None:
        return "--:--"
    total = int(max(0.0, s))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def _attr_num(value: Any) -> str:
    """A time as an attribute value ("" when unknown)."""
    s = _num(value)
    return "" if s is None else repr(round(s, 3))


def _pct(value: Any) -> str:
    v = _num(value)
    return "—" if v is None else f"{v * 100:.0f}%"


def _secs(value: Any) -> str:
    v = _num(value)
    return "—" if v is None else f"{v:.1f} s"


def _yes_no(value: Any) -> tuple[str, str]:
    if value is True:
        return "是 / yes", "pass"
    if value is False:
        return "否 / no", "fail"
    return "—", ""


def _speaker_class(speaker: Any) -> str:
    return speaker if speaker in ("agent", "customer") else "other"


def _span(finding: Mapping[str, Any], text: str) -> Optional[tuple[int, int]]:
    cs, ce = finding.get("char_start"), finding.get("char_end")
    if isinstance(cs, bool) or isinstance(ce, bool) or not isinstance(cs, int) or not isinstance(ce, int):
        return None
    if 0 <= cs < ce <= len(text):
        return cs, ce
    return None


def _severity(finding: Mapping[str, Any]) -> str:
    sev = str(finding.get("severity") or "info")
    return sev if sev in SEVERITY_ORDER else "info"


def _sorted_findings(findings: Sequence[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
    """(original index, finding) sorted by severity, then time (call-level findings last)."""
    def key(item: tuple[int, Mapping[str, Any]]) -> tuple[int, int, float, int]:
        i, f = item
        start = _num(f.get("start_s"))
        return (SEVERITY_ORDER[_severity(f)], start is None, start or 0.0, i)

    return sorted(enumerate(findings), key=key)


def _band(doc: Mapping[str, Any]) -> tuple[float, float]:
    metrics = doc.get("metrics") or {}
    lo, hi = _num(metrics.get("talk.agent_share_band_low")), _num(metrics.get("talk.agent_share_band_high"))
    if lo is not None and hi is not None:
        return lo, hi
    band = metrics.get("talk.agent_share_band")
    if isinstance(band, (list, tuple)) and len(band) == 2 and all(_num(b) is not None for b in band):
        return float(band[0]), float(band[1])
    for f in doc.get("findings") or []:
        if f.get("rule_id") == "TLK001":
            m = re.search(r"target (\d+(?:\.\d+)?)%\s*-\s*(\d+(?:\.\d+)?)%", str(f.get("message") or ""))
            if m:
                return float(m.group(1)) / 100, float(m.group(2)) / 100
    return DEFAULT_BAND


# ----------------------------------------------------------------------------- sections


def _header(doc: Mapping[str, Any]) -> str:
    metrics = doc.get("metrics") or {}
    parts = []
    if not doc.get("redacted"):
        parts.append('<div class="alert" role="alert">未脱敏：仅限授权复核人员 / Unredacted — authorised reviewers only. '
                     '本页含客户电话、证件号等个人信息，请勿转发。</div>')
    else:
        parts.append('<p class="redacted-note muted">已脱敏 / Redacted：电话、证件号、银行卡号等标识已遮盖（保留长度，以便定位）。</p>')
    if doc.get("times_estimated"):
        parts.append('<div class="notice">时间为估算 / Times estimated：转写文本没有时间戳，时长、静默与插话按字数估算，仅供参考。'
                     '标 ≈ 的数值为估算值。</div>')
    if metrics.get("opening.disclosure_before_verification") is True:
        parts.append('<div class="alert">核实身份前已透露债务信息 / Debt disclosed before identity verification</div>')
    return "".join(parts)


def _subtitle(doc: Mapping[str, Any]) -> str:
    metrics = doc.get("metrics") or {}
    items = [f"坐席 Agent: <b>{esc(doc.get('agent_id') or '—')}</b>"]
    if doc.get("team"):
        items.append(f"团队 Team: {esc(doc.get('team'))}")
    if doc.get("started_at"):
        items.append(f"时间: {esc(str(doc.get('started_at')).replace('T', ' '))}")
    if doc.get("days_overdue") is not None:
        items.append(f"逾期 {esc(doc.get('days_overdue'))} 天")
    stage = metrics.get("stage.name")
    if stage:
        items.append(f"阶段 Stage: {esc(STAGE_ZH.get(str(stage), ''))} {esc(stage)}".replace(":  ", ": "))
    if doc.get("product"):
        items.append(f"产品: {esc(doc.get('product'))}")
    dur = _num(metrics.get("talk.duration_s"))
    if dur is not None:
        items.append(f"时长 {'≈' if doc.get('times_estimated') else ''}{esc(_clock(dur))}")
    return " · ".join(items)


def _cards(doc: Mapping[str, Any]) -> str:
    m = doc.get("metrics") or {}
    est = "≈" if doc.get("times_estimated") else ""
    items: list[tuple[str, str, str]] = []
    score = _num(doc.get("score"))
    items.append(("QA 评分 / Score", "—" if score is None else f"{score:.1f}", ""))
    passed = doc.get("passed")
    items.append(("结果 / Result", "通过 PASS" if passed else ("不通过 FAIL" if passed is False else "—"),
                  "pass" if passed else ("fail" if passed is False else "")))
    lo, hi = _band(doc)
    in_band = m.get("talk.agent_share_in_band")
    band_txt = f"目标 {lo * 100:.0f}–{hi * 100:.0f}%"
    if in_band is True:
        band_txt += " · 达标 in band"
    elif in_band is False:
        band_txt += " · 超出 out of band"
    items.append(("坐席说话占比 / Agent talk share", f"{est}{_pct(m.get('talk.agent_share'))}<small>{esc(band_txt)}</small>",
                  "pass" if in_band is True else ("fail" if in_band is False else "")))
    lr = _num(m.get("talk.listening_ratio"))
    items.append(("倾听比 / Listening ratio", f"{est}{'—' if lr is None else f'{lr:.2f}'}<small>客户 ÷ 坐席说话时长</small>", ""))
    ia, ic = m.get("talk.interruptions.agent"), m.get("talk.interruptions.customer")
    items.append(("插话 / Interruptions",
                  f"{esc('—' if ia is None else ia)}<small>坐席插话 {esc('—' if ia is None else ia)} · "
                  f"客户插话 {esc('—' if ic is None else ic)}</small>",
                  "fail" if (_num(ia) or 0) > 0 else ""))
    over = m.get("talk.silences_over_threshold")
    items.append(("最长静默 / Longest silence", f"{est}{_secs(m.get('talk.longest_silence_s'))}"
                  + (f"<small>超过阈值 {esc(over)} 次</small>" if over is not None else ""), ""))
    adherence = _num(m.get("opening.adherence"))
    have = sum(1 for key, _, _ in OPENING_ELEMENTS if m.get(f"opening.elements.{key}") is True)
    items.append(("开场白 / Opening", f"{_pct(adherence)}<small>{have}/{len(OPENING_ELEMENTS)} 要素</small>",
                  "pass" if adherence == 1.0 else ("fail" if adherence is not None and adherence < 0.67 else "")))
    text, cls = _yes_no(m.get("conduct.plan_offered"))
    items.append(("提供还款方案 / Plan offered", text, cls))
    text, cls = _yes_no(m.get("conduct.promise_to_pay"))
    detail = " · ".join(str(x) for x in (m.get("conduct.promise_date"), m.get("conduct.promise_amount")) if x)
    items.append(("承诺还款 / Promise to pay", text + (f"<small>{esc(detail)}</small>" if detail else ""), cls))
    trend = m.get("sentiment.customer.trend")
    t_text, t_cls = TREND_ZH.get(str(trend), (str(trend) if trend else "—", ""))
    fq, lq = _num(m.get("sentiment.customer.first_quarter")), _num(m.get("sentiment.customer.last_quarter"))
    sub = f"{fq:.2f} → {lq:.2f}" if fq is not None and lq is not None else ""
    items.append(("客户情绪走势 / Customer sentiment", esc(t_text) + (f"<small>{esc(sub)}（0 负面 · 1 正面）</small>" if sub else ""), t_cls))
    sevs = [_severity(f) for f in (doc.get("findings") or []) if isinstance(f, Mapping)]
    n_crit, n_major = sevs.count("critical"), sevs.count("major")
    items.append(("严重问题 / Critical findings",
                  f"{n_crit}<small>重要 major {n_major} · 共 {len(sevs)} 条</small>",
                  "fail" if n_crit else ("pass" if not n_major else "")))
    return cards(items)


def _turns(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in (doc.get("turns") or []) if isinstance(t, Mapping)]


def _duration(doc: Mapping[str, Any]) -> float:
    ends = [_num(t.get("end_s")) for t in _turns(doc)]
    ends += [_num(f.get("end_s")) for f in doc.get("findings") or []]
    dur = max([e for e in ends if e is not None] + [_num((doc.get("metrics") or {}).get("talk.duration_s")) or 0.0])
    return dur if dur > 0 else 1.0


def _timeline(doc: Mapping[str, Any]) -> str:
    turns = _turns(doc)
    if not turns:
        return '<p class="muted">没有转写 / No turns.</p>'
    width, left, right = 1000, 70, 12
    lanes = {"agent": 30, "customer": 64}
    lane_h = 24
    height = 120
    dur = _duration(doc)
    span_w = width - left - right

    def x(t: float) -> float:
        return left + span_w * max(0.0, min(t, dur)) / dur

    parts = [f'<svg class="timeline" role="img" aria-label="通话时间轴 / who spoke when" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet">']
    parts.append(f'<text x="4" y="{lanes["agent"] + 17}">坐席</text><text x="4" y="{lanes["customer"] + 17}">客户</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{lanes["customer"] + lane_h + 6}" '
                 f'y2="{lanes["customer"] + lane_h + 6}" stroke="#d1d9e0"/>')
    step = _tick_step(dur)
    t = 0.0
    while t <= dur + 1e-9:
        xx = x(t)
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{lanes["agent"] - 4}" y2="{lanes["customer"] + lane_h + 10}" '
                     f'stroke="#eaeef2"/><text x="{xx:.1f}" y="{height - 4}" text-anchor="middle">{_clock(t)}</text>')
        t += step
    for turn in turns:
        start, end = _num(turn.get("start_s")), _num(turn.get("end_s"))
        if start is None or end is None:
            continue
        spk = _speaker_class(turn.get("speaker"))
        y = lanes.get(spk, (lanes["agent"] + lanes["customer"]) / 2)
        x0, x1 = x(start), x(max(end, start))
        idx = turn.get("index")
        label = f"{SPEAKER_ZH.get(spk, spk)} [{_clock(start)}–{_clock(end)}] {str(turn.get('text') or '')[:60]}"
        parts.append(f'<rect class="tl-turn {spk}" x="{x0:.1f}" y="{y}" width="{max(1.5, x1 - x0):.1f}" height="{lane_h}" rx="2" '
                     f'data-start="{_attr_num(start)}" data-turn="{esc(idx)}"><title>{esc(label)}</title></rect>')
    for f in doc.get("findings") or []:
        start = _num(f.get("start_s"))
        if start is None:
            continue
        xx = x(start)
        label = f"{f.get('rule_id')} ({SEVERITY_ZH.get(_severity(f), '')}) [{_clock(start)}]: {f.get('message') or ''}"
        parts.append(f'<g class="tl-tick sev-{_severity(f)}" data-start="{_attr_num(start)}" '
                     f'data-turn="{esc(f.get("turn_index"))}"><title>{esc(label)}</title>'
                     f'<rect x="{xx - 6:.1f}" y="4" width="12" height="{lanes["customer"] + lane_h - 2}"/>'
                     f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="8" y2="{lanes["customer"] + lane_h + 2}"/>'
                     f'<path d="M{xx - 5:.1f},4 L{xx + 5:.1f},4 L{xx:.1f},12 Z" fill="#cf222e"/></g>')
    parts.append("</svg>")
    legend = ('<div class="legend"><i style="background:var(--agent)"></i>坐席 Agent'
              '<i style="background:var(--customer)"></i>客户 Customer'
              '<i style="background:var(--crit)"></i>问题 Finding — 点击色块或红色标记跳转到录音和对话</div>')
    return f'<div class="chart-wrap">{"".join(parts)}</div>{legend}'


def _tick_step(dur: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if dur / step <= 10:
            return float(step)
    return 7200.0


def _sentiment_chart(doc: Mapping[str, Any]) -> str:
    points = []
    for turn in _turns(doc):
        if turn.get("speaker") != "customer":
            continue
        sent = turn.get("sentiment") or {}
        score, start = _num(sent.get("score")), _num(turn.get("start_s"))
        if score is None or start is None:
            continue
        points.append((start, score, str(sent.get("label") or ""), turn))
    if not points:
        return '<p class="muted">没有客户情绪数据 / No customer sentiment.</p>'
    width, height, left, right, top, bottom = 1000, 190, 70, 12, 12, 30
    dur = _duration(doc)
    w, h = width - left - right, height - top - bottom

    def x(t: float) -> float:
        return left + w * max(0.0, min(t, dur)) / dur

    def y(v: float) -> float:
        return top + h - max(0.0, min(v, 1.0)) * h

    parts = [f'<svg class="senti" role="img" aria-label="客户情绪 / customer sentiment over the call" '
             f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">']
    for v, name in ((0.0, "负面 0"), (0.5, "中性 .5"), (1.0, "正面 1")):
        dash = ' stroke-dasharray="4 4"' if v == 0.5 else ""
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d1d9e0"{dash}/>'
                     f'<text x="2" y="{y(v) + 4:.1f}">{name}</text>')
    step = _tick_step(dur)
    t = 0.0
    while t <= dur + 1e-9:
        parts.append(f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle">{_clock(t)}</text>')
        t += step
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(s):.1f},{y(v):.1f}" for i, (s, v, _, _) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#8250df" stroke-width="2"/>')
    colors = {"negative": "#cf222e", "positive": "#1a7f37"}
    for s, v, label, turn in points:
        tip = f"[{_clock(s)}] {LABEL_ZH.get(label, label)} {v:.2f} — {str(turn.get('text') or '')[:60]}"
        parts.append(f'<circle class="pt" cx="{x(s):.1f}" cy="{y(v):.1f}" r="5" fill="{colors.get(label, "#8250df")}" '
                     f'data-start="{_attr_num(s)}" data-turn="{esc(turn.get("index"))}"><title>{esc(tip)}</title></circle>')
    parts.append("</svg>")
    out = f'<div class="chart-wrap">{"".join(parts)}</div>'
    negs = ((doc.get("highlights") or {}).get("customer_most_negative") or [])
    if negs:
        items = "".join(
            f'<li><button type="button" class="ts" data-start="{_attr_num(n.get("start_s"))}" '
            f'data-turn="{esc(n.get("turn_index"))}">[{_clock(n.get("start_s"))}]</button> '
            f'{esc(n.get("quote"))} <span class="muted">({esc(_fmt_score(n.get("score")))})</span></li>'
            for n in negs if isinstance(n, Mapping)
        )
        out += f'<h3>客户最负面的时刻 / Most negative moments</h3><ul class="negs">{items}</ul>'
    return out


def _prose(text: Any) -> str:
    """Escape text whose line breaks are mostly hard wraps: keep a break only after a colon."""
    out = esc(text)
    out = re.sub(r"([:：])\s*\n", r"\1<br>", out)
    return re.sub(r"\s*\n\s*", " ", out)


def _fmt_score(v: Any) -> str:
    n = _num(v)
    return "—" if n is None else f"{n:.2f}"


def _opening(doc: Mapping[str, Any]) -> str:
    m = doc.get("metrics") or {}
    items = []
    for key, zh, en in OPENING_ELEMENTS:
        v = m.get(f"opening.elements.{key}")
        mark = '<span class="ok">✓</span>' if v is True else ('<span class="miss">✗</span>' if v is False else '<span class="muted">—</span>')
        state = "已做" if v is True else ("缺失 missing" if v is False else "未评估")
        items.append(f'<li data-element="{esc(key)}">{mark} {esc(zh)} <span class="muted">/ {esc(en)} · {state}</span></li>')
    out = f'<ul class="opening">{"".join(items)}</ul>'
    if m.get("opening.judged") is False:
        out += '<p class="muted">开场白未评估（通话中坐席开场轮次不足）/ Opening not judged.</p>'
    if m.get("opening.disclosure_before_verification") is True:
        out += ('<div class="alert">⚠ 核实身份前透露债务 / Disclosure before verification：坐席在确认对方是借款人本人之前'
                '就谈及欠款，可能向第三方泄露了债务信息。</div>')
    elif m.get("opening.verified") is False:
        out += '<div class="notice">未核实身份 / Identity not verified in the opening.</div>'
    return out


def _findings(doc: Mapping[str, Any]) -> str:
    findings = [f for f in (doc.get("findings") or []) if isinstance(f, Mapping)]
    if not findings:
        return '<p class="pass">没有发现问题 / No findings.</p>'
    est = "≈" if doc.get("times_estimated") else ""
    out = []
    for i, f in _sorted_findings(findings):
        sev = _severity(f)
        start, turn = f.get("start_s"), f.get("turn_index")
        cat = str(f.get("category") or "")
        if _num(start) is not None:
            where = (f'<button type="button" class="ts" data-start="{_attr_num(start)}" data-turn="{esc(turn)}" '
                     f'title="播放并跳到该轮 / play and jump to the turn">{est}[{_clock(start)}]</button>'
                     f'<span class="muted">第 {esc(turn)} 轮 · {esc(SPEAKER_ZH.get(str(f.get("speaker")), f.get("speaker") or ""))}</span>'
                     if turn is not None else
                     f'<button type="button" class="ts" data-start="{_attr_num(start)}" data-turn="">{est}[{_clock(start)}]</button>')
        else:
            where = '<span class="muted">整通电话 / whole call</span>'
        quote = f'<blockquote>{esc(f.get("quote"))}</blockquote>' if f.get("quote") else ""
        body = [
            f'<div class="head"><span class="sev {sev}">{esc(SEVERITY_ZH[sev])} {esc(sev)}</span>'
            f'<span class="rule">{esc(f.get("rule_id"))}</span>'
            f'<span class="muted">{esc(CATEGORY_ZH.get(cat, cat))}</span>{where}</div>',
            quote,
            f'<p>{esc(f.get("message"))}</p>',
        ]
        if f.get("rationale"):
            body.append(f'<p class="lbl">为什么重要 / Why it matters</p><p class="why">{_prose(f.get("rationale"))}</p>')
        if f.get("suggestion"):
            body.append(f'<p class="lbl">建议话术 / Better phrasing</p><p class="better">{esc(f.get("suggestion"))}</p>')
        out.append(f'<article class="finding sev-{sev}" id="finding-{i}" data-start="{_attr_num(start)}" '
                   f'data-turn="{esc(turn)}" data-rule="{esc(f.get("rule_id"))}">{"".join(body)}</article>')
    counts: dict[str, int] = {}
    for f in findings:
        counts[_severity(f)] = counts.get(_severity(f), 0) + 1
    summary = " · ".join(f"{SEVERITY_ZH[s]} {counts[s]}" for s in SEVERITY_ORDER if s in counts)
    return f'<p class="muted">共 {len(findings)} 条：{esc(summary)}（按严重程度、时间排序）</p>' + "".join(out)


def _render_text(text: str, marks: list[tuple[int, int, int, Mapping[str, Any]]], lowconf: list[tuple[int, int, float]]) -> str:
    """Return the escaped text with finding spans as <mark> and low-confidence words as spans.

    Spans may overlap: the text is cut at every span boundary and each piece is wrapped in the
    marks active over it (one <mark> naming every active finding in ``data-f``), so the pieces of
    one finding, read in order, are exactly its span.
    """
    cuts = {0, len(text)}
    for s, e, _, _ in marks:
        cuts.update((s, e))
    for s, e, _ in lowconf:
        cuts.update((s, e))
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:]):
        if a >= b:
            continue
        piece = esc(text[a:b])
        low = [p for s, e, p in lowconf if s <= a and b <= e]
        if low:
            piece = f'<span class="lowconf" title="识别置信度低 / low ASR confidence {min(low):.2f}">{piece}</span>'
        active = [(i, f) for s, e, i, f in marks if s <= a and b <= e]
        if active:
            worst = min((_severity(f) for _, f in active), key=lambda s: SEVERITY_ORDER[s])
            title = "\n".join(f"{f.get('rule_id')}: {f.get('message') or ''}" for _, f in active)
            ids = " ".join(str(i) for i, _ in active)
            multi = " multi" if len(active) > 1 else ""
            piece = f'<mark class="hl sev-{worst}{multi}" data-f="{ids}" title="{esc(title)}">{piece}</mark>'
        out.append(piece)
    return "".join(out)


def _lowconf_spans(turn: Mapping[str, Any], text: str) -> list[tuple[int, int, float]]:
    words = turn.get("words")
    if not isinstance(words, list) or not words:
        return []
    spans, cursor = [], 0
    for w in words:
        if not isinstance(w, Mapping):
            continue
        wt = str(w.get("text") or "").strip()
        if not wt:
            continue
        pos = text.find(wt, cursor)
        if pos < 0:
            continue  # the turn text is normalised; a word that no longer matches is skipped
        cursor = pos + len(wt)
        p = _num(w.get("probability"))
        if p is not None and p < LOW_CONFIDENCE:
            spans.append((pos, pos + len(wt), p))
    return spans


def _transcript(doc: Mapping[str, Any]) -> str:
    turns = _turns(doc)
    if not turns:
        return '<p class="muted">没有转写 / No transcript.</p>'
    estimated = bool(doc.get("times_estimated"))
    est = "≈" if estimated else ""
    findings = [f for f in (doc.get("findings") or []) if isinstance(f, Mapping)]
    by_turn: dict[Any, list[tuple[int, Mapping[str, Any]]]] = {}
    for i, f in enumerate(findings):
        if f.get("turn_index") is not None:
            by_turn.setdefault(f.get("turn_index"), []).append((i, f))
    out = ['<div class="transcript">']
    last_end: Optional[float] = None
    last_by_speaker: dict[str, float] = {}
    for turn in turns:
        idx = turn.get("index")
        spk = _speaker_class(turn.get("speaker"))
        text = str(turn.get("text") or "")
        start, end = _num(turn.get("start_s")), _num(turn.get("end_s"))
        if not estimated and start is not None and last_end is not None and start - last_end > SILENCE_S:
            out.append(f'<div class="silence">— 静默 {start - last_end:.0f} s —</div>')
        overlap = ""
        if not estimated and start is not None:
            others = [e for s, e in last_by_speaker.items() if s != spk]
            prev_other = max(others) if others else None
            if prev_other is not None and start < prev_other - 1e-6:
                overlap = (f' <span class="ovl" title="在对方说完前开始说话 / started {prev_other - start:.1f} s before '
                           f'the other speaker finished">插话 {prev_other - start:.1f} s</span>')
        own = by_turn.get(idx, [])
        marks = [(s, e, i, f) for i, f in own for s, e in [_span(f, text) or (-1, -1)] if s >= 0]
        body = _render_text(text, marks, _lowconf_spans(turn, text))
        sent = turn.get("sentiment") or {}
        label = str(sent.get("label") or "")
        cue = f" · 依据 / cue {sent['cue']}" if sent.get("cue") else ""
        senti = (f' · <span title="情绪 / sentiment {esc(_fmt_score(sent.get("score")))}{esc(cue)}">'
                 f'{esc(LABEL_ZH.get(label, label))}</span>') if label else ""
        flag = f' · <span class="fail">⚑ {len(own)}</span>' if own else ""
        cls = f"turn {spk}" + (" has-finding" if own else "")
        out.append(
            f'<div class="{cls}" id="turn-{esc(idx)}" data-index="{esc(idx)}">'
            f'<div class="meta"><button type="button" class="ts" data-start="{_attr_num(start)}" data-turn="{esc(idx)}">'
            f'{est}[{_clock(start)}]</button> {esc(SPEAKER_ZH.get(spk, turn.get("speaker") or ""))}{senti}{flag}{overlap}</div>'
            f'<div class="bubble">{body}</div></div>'
        )
        if end is not None:
            last_end = end if last_end is None else max(last_end, end)
            last_by_speaker[spk] = max(last_by_speaker.get(spk, end), end)
    out.append("</div>")
    return "".join(out)


def _player(audio_src: Optional[str]) -> str:
    if audio_src:
        return (f'<div class="player-bar"><audio id="player" controls preload="metadata" src="{esc(audio_src)}">'
                '您的浏览器不支持音频播放 / audio not supported</audio></div>')
    return '<p class="muted">未找到录音 / No recording found — 时间戳仍可跳转到对话。</p>'


def _provenance(doc: Mapping[str, Any]) -> str:
    prov = doc.get("provenance") or {}
    if not isinstance(prov, Mapping):
        return ""
    parts = [f"callcoach {esc(prov.get('callcoach') or '?')}"]
    rules = prov.get("rules") or {}
    if isinstance(rules, Mapping) and rules.get("sha256"):
        parts.append(f"rules sha256 {esc(str(rules['sha256'])[:12])}")
    models = prov.get("models") or {}
    if isinstance(models, Mapping):
        for name, model in models.items():
            if isinstance(model, Mapping):
                bits = [str(model.get(k)) for k in ("id", "version") if model.get(k)]
                if model.get("sha256"):
                    bits.append(str(model["sha256"])[:12])
                parts.append(f"{esc(name)}: {esc(' '.join(bits))}")
            elif model is None:
                parts.append(f"{esc(name)}: —")
    scorers = prov.get("scorers") or {}
    if isinstance(scorers, Mapping) and scorers:
        parts.append("scorers " + esc(", ".join(f"{k} {v}" for k, v in scorers.items())))
    seg = prov.get("segmenter") or {}
    if isinstance(seg, Mapping) and seg:
        parts.append(esc(", ".join(f"{k} {v}" for k, v in seg.items())))
    if prov.get("config"):
        parts.append(f"config {esc(prov.get('config'))}")
    return f'<div class="prov">来源 / Provenance: {" · ".join(parts)}</div>'


# ----------------------------------------------------------------------------- the page


def render_call_page(doc: Mapping[str, Any], *, options: ReportOptions, audio_src: Optional[str]) -> str:
    """Return the review page of one scored call (the public JSON result) as a complete HTML page.

    ``audio_src`` is the recording's URL relative to the page, or None when there is none.
    ``options`` is accepted for symmetry with the other reports; the page is in Chinese with
    English terms, for QA reviewers.
    """
    del options  # the call page has one layout; redaction was already applied by the writer
    call_id = str(doc.get("call_id") or "unknown")
    turns = _turns(doc)
    data = {
        "turns": [[t.get("index"), _num(t.get("start_s")), _num(t.get("end_s"))] for t in turns
                  if _num(t.get("start_s")) is not None and _num(t.get("end_s")) is not None],
        "times_estimated": bool(doc.get("times_estimated")),
    }
    est_note = '<span class="muted">（时间为估算 / estimated）</span>' if doc.get("times_estimated") else ""
    body = "\n".join([
        _header(doc),
        _player(audio_src),
        f'<section id="glance"><h2>概览 / At a glance</h2>{_cards(doc)}</section>',
        f'<section id="timeline"><h2>时间轴 / Who spoke when {est_note}</h2>{_timeline(doc)}</section>',
        f'<section id="sentiment"><h2>客户情绪 / Customer sentiment</h2>{_sentiment_chart(doc)}</section>',
        f'<section id="opening"><h2>开场白要素 / Opening script</h2>{_opening(doc)}</section>',
        f'<section id="findings"><h2>问题清单 / Findings</h2>{_findings(doc)}</section>',
        f'<section id="transcript"><h2>对话记录 / Transcript {est_note}</h2>'
        '<p class="legend">左：坐席 Agent · 右：客户 Customer · 点击时间戳播放 · '
        '<mark class="hl sev-critical">标记</mark> = 问题原文 · <span class="lowconf">波浪线</span> = 识别置信度低</p>'
        f'{_transcript(doc)}</section>',
        json_script("call-data", data),
    ])
    return page(
        f"通话复核 Call review · {call_id}",
        body,
        lang="zh-CN",
        subtitle=_subtitle(doc),
        extra_css=EXTRA_CSS,
        extra_js=PAGE_JS,
        footer=_provenance(doc),
    )

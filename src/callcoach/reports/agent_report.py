"""The coaching report an agent reads alone: how their calls went, what they do well, the three
things that would help most, and how they compare with the typical agent of their team.

Everything is built from the public JSON results of ``callcoach score``. The report quotes only
the agent's own calls and never names colleagues: the team column is the median, across the
team's agents (this agent included), of each agent's own value (mean or rate over their calls).
The same content is rendered as a self-contained HTML page or as Markdown.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Optional, Sequence

from .html import bar_chart, cards, esc, page, table
from .writer import ReportOptions

OPENING_ELEMENTS = ("greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose")
COMPLIANCE_CATEGORIES = ("violence", "exposure", "impersonation", "false_legal", "insult", "harassment", "pressure")
_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "info": 3}
_COMPLIANCE_TOPICS = set(COMPLIANCE_CATEGORIES) | {"privacy"}
_QUOTE_MAX = 60

# --------------------------------------------------------------------------------------------
# Wording. Kept together so both languages stay in step.
# --------------------------------------------------------------------------------------------

_ELEMENT_LABEL = {
    "zh": {"greeting": "问候", "self_identify": "自报姓名/工号", "organization": "说明所属机构",
           "verify_identity": "核实本人身份", "recording_notice": "告知录音", "purpose": "说明来电目的"},
    "en": {"greeting": "Greeting", "self_identify": "Says who you are", "organization": "Names the lender",
           "verify_identity": "Verifies identity", "recording_notice": "Recording notice", "purpose": "States the purpose"},
}
_CATEGORY_LABEL = {
    "zh": {"violence": "威胁或暴力言语", "exposure": "向他人透露欠款/曝光", "impersonation": "冒充公检法等身份",
           "false_legal": "夸大或虚假的法律后果", "insult": "辱骂或贬低客户", "harassment": "骚扰式联系",
           "pressure": "过度施压", "privacy": "未核实本人就提到欠款"},
    "en": {"violence": "Threats of harm", "exposure": "Disclosing the debt to others", "impersonation": "Posing as police/court/lawyer",
           "false_legal": "False legal consequences", "insult": "Insulting the customer", "harassment": "Harassing contact",
           "pressure": "Excessive pressure", "privacy": "Mentioning the debt before verifying identity"},
}
_WHY_ZH = {
    "violence": "威胁客户或其家人的人身、财产安全属于暴力催收，可能触犯刑法，也会让客户彻底不再配合。",
    "exposure": "向第三方透露欠款或威胁曝光，侵犯客户隐私，是监管明令禁止的做法。",
    "impersonation": "冒充公检法、律师等身份属于违法行为，会严重损害公司和你自己的信誉。",
    "false_legal": "个人欠款是民事问题，不会因此坐牢或被立即查封；夸大法律后果属于违规催收。",
    "insult": "辱骂、贬低客户被监管明令禁止，还会让原本愿意沟通的客户变得抵触。",
    "harassment": "过于频繁或在不当时间联系会构成骚扰，监管对此有明确限制。",
    "pressure": "过度施压容易让客户反感，反而降低还款意愿。",
    "privacy": "在确认对方是本人之前提到欠款，可能把债务信息泄露给家人或其他人。",
    "opening": "完整的开场让客户知道你是谁、代表谁来电，能建立信任，也保护公司和你自己。",
    "TLK001": "客户被充分倾听时，更愿意说明逾期原因，也更能守住约定的还款计划。",
    "TLK003": "打断客户会让对方觉得没有被尊重，容易让气氛紧张。",
    "CND001": "为有困难的客户提供分期、延期等方案，是把“还不上”变成还款的关键，监管也要求合理协商。",
    "CND002": "明确的金额和日期，才是一通催收电话真正的成果。",
    "other": "这会影响通话质量和客户体验。",
}
_TOPIC_LABEL = {
    "zh": {"TLK001": "多听少说：你说话的时间占比偏高", "TLK003": "等客户说完再回应", "CND001": "客户有困难时主动提供还款方案",
           "CND002": "结束前约定具体的还款金额和日期"},
    "en": {"TLK001": "Listen more: you did most of the talking", "TLK003": "Let the customer finish",
           "CND001": "Offer a plan when the customer is in difficulty", "CND002": "Close with an amount and a date"},
}

_T: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{agent} 的通话辅导报告",
        "intro": "这份报告只给你本人看，帮助你把电话打得更顺、更稳。所有例子都来自你自己的通话。",
        "unredacted": "未脱敏：本报告包含客户的电话、证件等个人信息，请勿转发，仅限本人和授权人员查看。",
        "overview": "概况",
        "period": "时间范围", "calls": "通话数", "score": "平均质检分", "change": "变化", "pass_rate": "通过率",
        "no_date": "日期未知",
        "undated": "（其中 {n} 通没有时间信息，未计入变化趋势）",
        "one_call": "本期只有一通电话，暂时看不出变化趋势。",
        "by_week": "按周看，你的平均分从第一周的 {a} 分到最近一周的 {b} 分：{arrow}",
        "by_half": "前一半通话平均 {a} 分，后一半平均 {b} 分：{arrow}",
        "up": "↑ 提高了 {d} 分，继续保持！", "down": "↓ 下降了 {d} 分，下面的建议可以帮你找回状态。",
        "flat": "→ 基本持平。",
        "colon": "：", "lp": "（", "rp": "）",
        "trend_chart": "每周平均分", "half_chart": "前后两半的平均分", "first_half": "前一半", "second_half": "后一半",
        "week_label": "{d} 那周",
        "strengths": "你做得好的地方",
        "priorities": "最值得练习的三件事",
        "no_priorities": "本期没有发现需要改进的问题，继续保持！",
        "comparison": "你和团队中位数的对比",
        "comparison_note": "团队中位数：先算出团队里每位坐席自己的平均值或比例，再取中间值（共 {n} 位坐席，包含你）。不列出任何同事的名字或通话。",
        "metric": "指标", "you": "你", "team": "团队中位数",
        "you_said": "你说", "customer_said": "客户说",
        "seen_in": "出现在 {k}/{n} 通电话中",
        "why": "为什么重要", "instead": "可以这样说", "basis": "依据",
        "example": "例子",
        "opening_chart": "开场要素完成率（你）",
        "footer": "callcoach 通话辅导报告 · 仅供本人学习参考",
        "s_opening_all": "开场白完整：{k}/{n} 通电话的开场六个要素（问候、自报身份、机构、核实身份、告知录音、说明目的）都做到了。",
        "s_opening_some": "开场稳定：每通电话都做到了{els}。",
        "s_plan": "主动提供还款方案：{k}/{n} 通电话里你给客户提供了分期、延期等方案。",
        "s_promise": "争取到还款承诺：{k}/{n} 通电话以客户的还款承诺结束。",
        "s_empathy": "表达理解和体谅：{k}/{n} 通电话里你说了共 {t} 句体谅客户的话。",
        "s_open": "善于提问：{k}/{n} 通电话里你用开放式问题了解客户的情况。",
        "s_clean": "守住底线：所有通话都没有出现严重的违规用语。",
        "s_listen": "注重倾听：你说话的时间平均只占 {p}，给了客户充分表达的空间。",
        "s_positive": "客户情绪转好：{k}/{n} 通电话里客户的情绪在通话中好转或以积极结束。",
        "s_fallback": "你本期完成了 {n} 通电话，最好的一通得了 {s} 分，这是你可以继续发挥的基础。",
        "row_score": "质检分（平均）", "row_agent_share": "你说话的时间占比", "row_listening": "倾听比（客户/你说话时长）",
        "row_adherence": "开场完成度", "row_element": "开场：{el}", "row_violations": "违规次数/通（合计）",
        "row_cat": "违规/通：{cat}", "row_privacy": "未核身先提欠款的通话比例",
        "row_end_pos": "客户以积极情绪结束", "row_end_neu": "客户以中性情绪结束", "row_end_neg": "客户以负面情绪结束",
        "row_improving": "客户情绪好转", "row_worsening": "客户情绪变差",
        "row_plan": "提供还款方案的通话比例", "row_promise": "获得还款承诺的通话比例",
        "row_empathy": "体谅话语/通", "row_open": "开放式问题/通",
    },
    "en": {
        "title": "Coaching report for {agent}",
        "intro": "This report is for you alone, to help your calls go more smoothly. Every example comes from your own calls.",
        "unredacted": "Unredacted (未脱敏): this report contains customers' phone, ID and card numbers. Do not forward it.",
        "overview": "Overview",
        "period": "Period", "calls": "Calls", "score": "Mean QA score", "change": "Change", "pass_rate": "Pass rate",
        "no_date": "dates unknown",
        "undated": " ({n} call(s) without a date are left out of the trend)",
        "one_call": "Only one call this period, so there is no trend yet.",
        "by_week": "By week, your mean score went from {a} in the first week to {b} in the latest week: {arrow}",
        "by_half": "Your first half of calls averaged {a}, the second half {b}: {arrow}",
        "up": "↑ up {d} points, keep it up!", "down": "↓ down {d} points; the tips below can help you get back on track.",
        "flat": "→ about the same.",
        "colon": ": ", "lp": " (", "rp": ")",
        "trend_chart": "Mean score by week", "half_chart": "Mean score, first and second half", "first_half": "First half",
        "second_half": "Second half", "week_label": "week of {d}",
        "strengths": "What you do well",
        "priorities": "Three things that would help most",
        "no_priorities": "No issues to work on this period. Keep it up!",
        "comparison": "You and the team median",
        "comparison_note": "Team median: each agent's own mean or rate, then the middle value across the team's {n} agent(s), you included. No colleague or their calls are named.",
        "metric": "Metric", "you": "You", "team": "Team median",
        "you_said": "You said", "customer_said": "The customer said",
        "seen_in": "seen in {k} of {n} calls",
        "why": "Why it matters", "instead": "What to say instead", "basis": "Basis",
        "example": "Example",
        "opening_chart": "Opening elements done (you)",
        "footer": "callcoach coaching report · for your own learning",
        "s_opening_all": "Complete openings: in {k} of {n} calls you covered all six opening elements (greeting, who you are, lender, identity check, recording notice, purpose).",
        "s_opening_some": "A steady opening: in every call you did {els}.",
        "s_plan": "Offering plans: in {k} of {n} calls you offered the customer an instalment, deferral or similar plan.",
        "s_promise": "Securing promises: {k} of {n} calls ended with a promise to pay.",
        "s_empathy": "Showing understanding: in {k} of {n} calls you said {t} empathetic sentence(s).",
        "s_open": "Good questions: in {k} of {n} calls you used open questions to understand the customer.",
        "s_clean": "Staying within the rules: none of your calls had a serious violation.",
        "s_listen": "Listening: on average you talked only {p} of the time, giving the customer room to speak.",
        "s_positive": "Calmer customers: in {k} of {n} calls the customer's mood improved or ended positive.",
        "s_fallback": "You completed {n} call(s) this period; your best scored {s}. That is a base to build on.",
        "row_score": "QA score (mean)", "row_agent_share": "Your share of talk time", "row_listening": "Listening ratio (customer/you)",
        "row_adherence": "Opening adherence", "row_element": "Opening: {el}", "row_violations": "Violations per call (all)",
        "row_cat": "Violations per call: {cat}", "row_privacy": "Calls mentioning the debt before verifying",
        "row_end_pos": "Customer ended positive", "row_end_neu": "Customer ended neutral", "row_end_neg": "Customer ended negative",
        "row_improving": "Customer mood improved", "row_worsening": "Customer mood worsened",
        "row_plan": "Calls with a plan offered", "row_promise": "Calls with a promise to pay",
        "row_empathy": "Empathy sentences per call", "row_open": "Open questions per call",
    },
}


# --------------------------------------------------------------------------------------------
# The report's content, independent of the output format.
# --------------------------------------------------------------------------------------------


@dataclass
class _Quote:
    call_id: str
    start_s: Optional[float]
    text: str
    speaker: str  # "agent" or "customer"
    estimated: bool = False  # the transcript had no timestamps


@dataclass
class _Item:
    title: str
    quote: Optional[_Quote] = None
    seen: str = ""
    why: str = ""
    basis: str = ""
    instead: str = ""


@dataclass
class _Row:
    label: str
    you: Optional[float]
    team: Optional[float]
    kind: str  # "pct", "num", "ratio"


@dataclass
class _Report:
    agent_id: str
    lang: str
    unredacted: bool
    period: str
    n_calls: int
    mean_score: Optional[float]
    pass_rate: Optional[float]
    change: Optional[float]
    trend_text: str
    trend_bars: list[tuple[str, float]]
    trend_chart_label: str
    strengths: list[_Item] = field(default_factory=list)
    priorities: list[_Item] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    n_team_agents: int = 1
    opening_bars: list[tuple[str, float]] = field(default_factory=list)


def render_agent_report(
    agent_id: str,
    own: Sequence[Mapping[str, Any]],
    peers: Sequence[Mapping[str, Any]],
    *,
    options: ReportOptions,
    fmt: str,
) -> str:
    """Return the coaching report of ``agent_id`` as HTML (``fmt="html"``) or Markdown (``"md"``).

    ``own`` holds this agent's calls only (ValueError otherwise); ``peers`` the calls of the
    agent's team, used only for team medians. The language is ``options.lang`` ("zh" or "en").
    """
    if fmt not in ("html", "md"):
        raise ValueError(f"fmt must be 'html' or 'md', got {fmt!r}")
    agent_id = str(agent_id)
    if not own:
        raise ValueError(f"no calls for agent {agent_id!r}: an agent's report needs at least one of their calls")
    others = sorted({_agent_of(d) for d in own} - {agent_id})
    if others:
        raise ValueError(
            f"the report of agent {agent_id!r} must hold only that agent's calls; "
            f"got calls of {len(others)} other agent(s)"
        )
    lang = "en" if str(getattr(options, "lang", "zh") or "zh").lower().startswith("en") else "zh"
    report = _build(agent_id, list(own), list(peers), lang)
    return _render_html(report) if fmt == "html" else _render_md(report)


def _agent_of(doc: Mapping[str, Any]) -> str:
    return str(doc.get("agent_id") or "unknown")


def _metric(doc: Mapping[str, Any], name: str) -> Any:
    return (doc.get("metrics") or {}).get(name)


def _parse_time(value: Any) -> Optional[datetime]:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _sort_key(doc: Mapping[str, Any]) -> tuple[int, float, str]:
    """Chronological order; calls without a time come first, then by call id."""
    t = _parse_time(doc.get("started_at"))
    if t is None:
        return (0, 0.0, str(doc.get("call_id")))
    ts = (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    return (1, ts, str(doc.get("call_id")))


def _mean(values: Sequence[Optional[float]]) -> Optional[float]:
    vals = [float(v) for v in values if isinstance(v, (int, float))]
    return sum(vals) / len(vals) if vals else None


def _build(agent_id: str, own: list[Mapping[str, Any]], peers: list[Mapping[str, Any]], lang: str) -> _Report:
    t = _T[lang]
    own = sorted(own, key=_sort_key)
    n = len(own)
    dated: list[tuple[Mapping[str, Any], datetime]] = []
    for d in own:
        ts = _parse_time(d.get("started_at"))
        if ts is not None:
            dated.append((d, ts))
    if dated:
        first, last = dated[0][1].date(), dated[-1][1].date()
        period = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
    else:
        period = t["no_date"]
    scores = [d.get("score") for d in own]
    passed = [bool(d["passed"]) for d in own if isinstance(d.get("passed"), bool)]
    change, trend_text, bars, chart_label = _trend(dated, lang)
    undated = n - len(dated)
    if undated and trend_text:
        trend_text += t["undated"].format(n=undated)

    report = _Report(
        agent_id=agent_id, lang=lang,
        unredacted=any(d.get("redacted") is not True for d in own),
        period=period, n_calls=n, mean_score=_mean(scores),
        pass_rate=(sum(passed) / len(passed)) if passed else None,
        change=change, trend_text=trend_text, trend_bars=bars, trend_chart_label=chart_label,
    )
    report.strengths = _strengths(own, lang)
    report.priorities = _priorities(own, lang)
    report.rows, report.n_team_agents = _comparison(agent_id, own, peers, lang)
    labels = _ELEMENT_LABEL[lang]
    for el in OPENING_ELEMENTS:
        rate = _rate(own, f"opening.elements.{el}")
        if rate is not None:
            report.opening_bars.append((labels[el], rate * 100))
    return report


# ---- score trend ----------------------------------------------------------------------------


def _trend(
    dated: list[tuple[Mapping[str, Any], datetime]], lang: str
) -> tuple[Optional[float], str, list[tuple[str, float]], str]:
    t = _T[lang]
    scored = [(d, ts) for d, ts in dated if isinstance(d.get("score"), (int, float))]
    if len(scored) < 2:
        return None, t["one_call"], [], ""
    weeks: dict[date, list[float]] = {}
    for d, ts in scored:
        monday = ts.date() - timedelta(days=ts.date().weekday())
        weeks.setdefault(monday, []).append(float(d["score"]))
    if len(weeks) >= 2:
        ordered = sorted(weeks.items())
        bars = [(t["week_label"].format(d=k.strftime("%m-%d")), sum(v) / len(v)) for k, v in ordered]
        a, b = bars[0][1], bars[-1][1]
        text_key, chart = "by_week", t["trend_chart"]
    else:
        half = len(scored) // 2
        a = sum(float(d["score"]) for d, _ in scored[:half]) / half
        b = sum(float(d["score"]) for d, _ in scored[half:]) / (len(scored) - half)
        bars = [(t["first_half"], a), (t["second_half"], b)]
        text_key, chart = "by_half", t["half_chart"]
    diff = round(b - a, 1)
    if diff >= 0.5:
        arrow = t["up"].format(d=f"{diff:.1f}")
    elif diff <= -0.5:
        arrow = t["down"].format(d=f"{-diff:.1f}")
    else:
        arrow = t["flat"]
    return diff, t[text_key].format(a=f"{a:.1f}", b=f"{b:.1f}", arrow=arrow), bars, chart


# ---- quotes ---------------------------------------------------------------------------------


def _turns(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [tt for tt in (doc.get("turns") or []) if isinstance(tt, Mapping)]


def _shorten(text: str, span: Optional[tuple[int, int]] = None, limit: int = _QUOTE_MAX) -> str:
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    if span is not None and 0 <= span[0] < span[1] <= len(text):
        start = max(0, min(span[0] - limit // 3, len(text) - limit))
    else:
        start = 0
    piece = text[start:start + limit]
    return ("…" if start > 0 else "") + piece + ("…" if start + limit < len(text) else "")


def _turn_quote(doc: Mapping[str, Any], turn: Mapping[str, Any], span: Optional[tuple[int, int]] = None) -> _Quote:
    return _Quote(
        call_id=str(doc.get("call_id")),
        start_s=turn.get("start_s") if isinstance(turn.get("start_s"), (int, float)) else None,
        text=_shorten(turn.get("text", ""), span),
        speaker="customer" if turn.get("speaker") == "customer" else "agent",
        estimated=bool(doc.get("times_estimated")),
    )


def _flagged_turns(doc: Mapping[str, Any]) -> set[int]:
    """Turns with a finding (other than a missing opening element): never quoted as a strength."""
    return {f["turn_index"] for f in (doc.get("findings") or [])
            if isinstance(f, Mapping) and isinstance(f.get("turn_index"), int) and f.get("category") != "opening"}


def _first_matching(
    doc: Mapping[str, Any], speaker: str, patterns: Sequence[re.Pattern[str]], *, clean: bool = False
) -> Optional[Mapping[str, Any]]:
    skip = _flagged_turns(doc) if clean else set()
    for turn in _turns(doc):
        if turn.get("index") in skip:
            continue
        if turn.get("speaker") == speaker and any(p.search(str(turn.get("text", ""))) for p in patterns):
            return turn
    return None


def _conduct_patterns() -> Any:
    try:
        from ..scorers.conduct import load_conduct

        return load_conduct()
    except Exception:  # noqa: BLE001 - a report must still render without the lexicons
        return None


def _opening_quote(doc: Mapping[str, Any]) -> Optional[_Quote]:
    """The agent's opening turn that covers the most opening elements."""
    flagged = _flagged_turns(doc)
    agent = [tt for tt in _turns(doc) if tt.get("speaker") == "agent"][:3]
    agent = [tt for tt in agent if tt.get("index") not in flagged]
    if not agent:
        return None
    try:
        from ..scorers.opening import load_opening

        elements = list(load_opening().elements.values())

        def covered(turn: Mapping[str, Any]) -> int:
            return sum(1 for el in elements if el.found_in(str(turn.get("text", ""))))

        best = max(agent, key=lambda tt: (covered(tt), -agent.index(tt)))
    except Exception:  # noqa: BLE001
        best = agent[0]
    return _turn_quote(doc, best)


def _latest(docs: Sequence[Mapping[str, Any]], pred: Callable[[Mapping[str, Any]], bool]) -> list[Mapping[str, Any]]:
    """Calls satisfying ``pred``, most recent first (the input is in chronological order)."""
    return [d for d in reversed(docs) if pred(d)]


# ---- strengths ------------------------------------------------------------------------------


def _strengths(own: list[Mapping[str, Any]], lang: str) -> list[_Item]:
    t = _T[lang]
    n = len(own)
    pats = _conduct_patterns()
    cands: list[tuple[float, int, _Item]] = []

    def add(order: int, rate: float, title: str, quote: Optional[_Quote]) -> None:
        cands.append((rate, order, _Item(title=title, quote=quote)))

    # Opening.
    full = _latest(own, lambda d: _metric(d, "opening.adherence") == 1)
    if full:
        add(0, len(full) / n, t["s_opening_all"].format(k=len(full), n=n), _opening_quote(full[0]))
    else:
        always = [el for el in OPENING_ELEMENTS if all(_metric(d, f"opening.elements.{el}") is True for d in own)]
        if len(always) >= 3:
            labels = _ELEMENT_LABEL[lang]
            sep = "、" if lang == "zh" else ", "
            add(0, 0.9 * len(always) / len(OPENING_ELEMENTS),
                t["s_opening_some"].format(els=sep.join(labels[e] for e in always)), _opening_quote(own[-1]))

    def conduct_item(order: int, key: str, pred: Callable[[Mapping[str, Any]], bool],
                     quote_of: Callable[[Mapping[str, Any]], Optional[_Quote]], **fmt: Any) -> None:
        hits = _latest(own, pred)
        if not hits:
            return
        quote = next((q for q in (quote_of(d) for d in hits) if q is not None), None)
        if quote is None:
            return
        add(order, len(hits) / n, t[key].format(k=len(hits), n=n, **fmt), quote)

    def pattern_quote(patterns_name: str) -> Callable[[Mapping[str, Any]], Optional[_Quote]]:
        def quote_of(d: Mapping[str, Any]) -> Optional[_Quote]:
            if pats is None:
                return None
            turn = _first_matching(d, "agent", getattr(pats, patterns_name), clean=True)
            return _turn_quote(d, turn) if turn else None
        return quote_of

    def promise_quote(d: Mapping[str, Any]) -> Optional[_Quote]:
        idx = _metric(d, "conduct.promise_turn")
        if not isinstance(idx, int):
            return None
        flagged = _flagged_turns(d)
        agent = [tt for tt in _turns(d) if tt.get("speaker") == "agent" and isinstance(tt.get("index"), int)
                 and tt["index"] not in flagged and tt.get("text")]
        confirm = re.compile(getattr(pats, "agent_confirm", None) or r"(?!)") if pats is not None else re.compile(r"(?!)")
        # The agent turn that restates the commitment, nearest the customer's promise.
        near = sorted(agent, key=lambda tt: (abs(tt["index"] - idx), tt["index"]))
        before = [tt for tt in agent if tt["index"] < idx]
        fallback = before[-1] if before else (near[0] if near else None)
        turn = next((tt for tt in near if confirm.search(str(tt["text"]))), fallback)
        return _turn_quote(d, turn) if turn else None

    conduct_item(1, "s_plan", lambda d: _metric(d, "conduct.plan_offered") is True, pattern_quote("plan"))
    conduct_item(2, "s_promise", lambda d: _metric(d, "conduct.promise_to_pay") is True, promise_quote)
    empathy_total = sum(int(_metric(d, "conduct.empathy_turns") or 0) for d in own)
    conduct_item(3, "s_empathy", lambda d: (_metric(d, "conduct.empathy_turns") or 0) > 0, pattern_quote("empathy"),
                 t=empathy_total)
    conduct_item(4, "s_open", lambda d: (_metric(d, "conduct.open_questions") or 0) > 0, pattern_quote("open_question"))

    serious = [f for d in own for f in (d.get("findings") or [])
               if f.get("category") in _COMPLIANCE_TOPICS and f.get("severity") in ("critical", "major")]
    if not serious:
        add(5, 0.95, t["s_clean"], None)
    share = _mean([_metric(d, "talk.agent_share") for d in own])
    if share is not None and share <= 0.5:
        add(6, 0.85, t["s_listen"].format(p=f"{share:.0%}"), None)
    better = [d for d in own if _metric(d, "sentiment.customer.trend") == "improving"
              or _metric(d, "sentiment.customer.end_label") == "positive"]
    if better and len(better) / n >= 0.5:
        add(7, len(better) / n * 0.8, t["s_positive"].format(k=len(better), n=n), None)

    cands.sort(key=lambda c: (-c[0], c[1]))
    items = [c[2] for c in cands[:3]]
    if len(items) < 2:
        scored = [d for d in own if isinstance(d.get("score"), (int, float))]
        if scored:
            best = max(scored, key=lambda d: (d["score"], str(d.get("call_id"))))
            quote = _opening_quote(best)
            if quote is not None and any(it.quote == quote for it in items):
                quote = None
            items.append(_Item(title=t["s_fallback"].format(n=n, s=f"{float(best['score']):.1f}"), quote=quote))
    return items


# ---- priorities -----------------------------------------------------------------------------


def _topic(f: Mapping[str, Any]) -> tuple[int, str]:
    """(tier, key) of a finding: serious compliance first, then opening, listening, plan, promise."""
    cat, sev, rule = str(f.get("category") or ""), str(f.get("severity") or "info"), str(f.get("rule_id") or "")
    if cat in _COMPLIANCE_TOPICS:
        return (0 if sev == "critical" else 1 if sev == "major" else 3), cat
    if cat == "opening":
        return 2, rule
    if cat == "listening":
        return 4, rule
    if rule == "CND001":
        return 5, rule
    if rule == "CND002":
        return 6, rule
    return 7, rule or cat


def _mmss(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    s = int(round(max(0.0, float(seconds))))
    return f"[{s // 60:02d}:{s % 60:02d}]"


def _condense(text: str, limit: int = 220) -> str:
    text = " ".join(str(text or "").split())
    m = re.search(r"(?<=[.!?。！？])\s", text)
    first = text[: m.start()] if m else text
    return first if len(first) <= limit else first[: limit - 1] + "…"


_LAW = re.compile(r"([\u4e00-\u9fff（）()0-9]{2,}\s*第[0-9一二三四五六七八九十百]+条(?:之一)?)")


def _basis(rationale: str) -> str:
    seen: list[str] = []
    for m in _LAW.finditer(" ".join(str(rationale or "").split())):
        ref = m.group(1).strip()
        if ref not in seen:
            seen.append(ref)
    return "；".join(seen[:3])


def _finding_quote(doc: Mapping[str, Any], f: Mapping[str, Any], pats: Any) -> Optional[_Quote]:
    turns = _turns(doc)
    by_index = {tt.get("index"): tt for tt in turns}
    rule = f.get("rule_id")
    if f.get("quote"):
        turn = by_index.get(f.get("turn_index"), {})
        span = (f.get("char_start"), f.get("char_end"))
        ok_span = tuple(span) if all(isinstance(x, int) for x in span) else None
        start = f.get("start_s") if isinstance(f.get("start_s"), (int, float)) else turn.get("start_s")
        speaker = str(f.get("speaker") or turn.get("speaker") or "agent")
        quote_text = str(f["quote"])
        if ok_span and turn.get("text") and str(turn.get("text")) != quote_text:
            ok_span = None  # offsets refer to the turn, the quote is a part of it
        return _Quote(str(doc.get("call_id")), start, _shorten(quote_text, ok_span),  # type: ignore[arg-type]
                      "customer" if speaker == "customer" else "agent", bool(doc.get("times_estimated")))
    if isinstance(f.get("turn_index"), int) and f["turn_index"] in by_index:
        return _turn_quote(doc, by_index[f["turn_index"]])
    agent = [tt for tt in turns if tt.get("speaker") == "agent" and tt.get("text")]
    if rule == "CND001" and pats is not None:
        hit = _first_matching(doc, "customer", pats.difficulty)
        if hit is not None:
            return _turn_quote(doc, hit)
    if rule == "CND002" and agent:
        return _turn_quote(doc, agent[-1])
    if agent:  # e.g. talk share: the agent's longest turn

        def length(tt: Mapping[str, Any]) -> tuple[float, int]:
            s, e = tt.get("start_s"), tt.get("end_s")
            dur = float(e) - float(s) if isinstance(s, (int, float)) and isinstance(e, (int, float)) else 0.0
            return dur, len(str(tt.get("text", "")))

        return _turn_quote(doc, max(agent, key=lambda tt: (length(tt), -agent.index(tt))))
    return None


def _priorities(own: list[Mapping[str, Any]], lang: str) -> list[_Item]:
    t = _T[lang]
    n = len(own)
    order = {id(d): i for i, d in enumerate(own)}
    groups: dict[tuple[int, str], list[tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
    for d in own:
        for f in d.get("findings") or []:
            if isinstance(f, Mapping):
                groups.setdefault(_topic(f), []).append((d, f))
    # A topic's tier is that of its worst finding (a category may hold critical and major ones).
    topics: dict[str, dict[str, Any]] = {}
    for (tier, key), items in groups.items():
        entry = topics.setdefault(key, {"tier": tier, "items": []})
        entry["tier"] = min(entry["tier"], tier)
        entry["items"].extend(items)

    def rank(key: str) -> tuple[Any, ...]:
        items = topics[key]["items"]
        worst = min(_SEVERITY_RANK.get(str(f.get("severity")), 4) for _, f in items)
        calls = len({id(d) for d, _ in items})
        return (topics[key]["tier"], worst, -calls, -len(items), key)

    pats = _conduct_patterns()
    out: list[_Item] = []
    for key in sorted(topics, key=rank)[:3]:
        items = topics[key]["items"]
        worst = min(_SEVERITY_RANK.get(str(f.get("severity")), 4) for _, f in items)
        # Example: the worst finding with a quote (a pattern rule's before the learned detector's),
        # from the most recent call, earliest in the call.
        cands = [(d, f) for d, f in items if _SEVERITY_RANK.get(str(f.get("severity")), 4) == worst]
        cands.sort(key=lambda df: (
            0 if df[1].get("quote") else 1,
            1 if "learned detector" in str(df[1].get("message") or "") else 0,  # pattern rules quote more precisely
            -order[id(df[0])],
            float(df[1]["start_s"]) if isinstance(df[1].get("start_s"), (int, float)) else float("inf"),
            str(df[1].get("rule_id")),
        ))
        doc, f = cands[0]
        calls = len({id(d) for d, _ in items})
        out.append(_Item(
            title=_topic_title(key, f, lang),
            quote=_finding_quote(doc, f, pats),
            seen=t["seen_in"].format(k=calls, n=n),
            why=_why(key, f, lang),
            basis=_basis(str(f.get("rationale") or "")) if lang == "zh" else "",
            instead=" ".join(str(f.get("suggestion") or "").split()),
        ))
    return out


def _topic_title(key: str, f: Mapping[str, Any], lang: str) -> str:
    cat = str(f.get("category") or "")
    if cat in _COMPLIANCE_TOPICS:
        return ("避免：" if lang == "zh" else "Avoid: ") + _CATEGORY_LABEL[lang].get(cat, cat)
    if cat == "opening":
        el = _opening_element(f)
        label = _ELEMENT_LABEL[lang].get(el, el) if el else key
        return ("开场补上：" if lang == "zh" else "Add to your opening: ") + label
    if key in _TOPIC_LABEL[lang]:
        return _TOPIC_LABEL[lang][key]
    return str(f.get("message") or key) if lang == "en" else f"改进：{cat or key}"


def _opening_element(f: Mapping[str, Any]) -> Optional[str]:
    m = re.search(r"missing:\s*([a-z_]+)", str(f.get("message") or ""))
    if m:
        return m.group(1)
    ids = {"OPN001": "greeting", "OPN002": "self_identify", "OPN003": "organization", "OPN004": "verify_identity",
           "OPN005": "recording_notice", "OPN006": "purpose"}
    return ids.get(str(f.get("rule_id")))


def _why(key: str, f: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return _condense(str(f.get("rationale") or f.get("message") or ""))
    cat = str(f.get("category") or "")
    if cat in _WHY_ZH:
        return _WHY_ZH[cat]
    return _WHY_ZH.get(key, _WHY_ZH["other"])


# ---- comparison -----------------------------------------------------------------------------


def _rate(docs: Sequence[Mapping[str, Any]], name: str, value: Any = True) -> Optional[float]:
    vals = [_metric(d, name) for d in docs]
    vals = [v for v in vals if v is not None]
    return sum(1 for v in vals if v == value) / len(vals) if vals else None


def _comparison(
    agent_id: str, own: list[Mapping[str, Any]], peers: list[Mapping[str, Any]], lang: str
) -> tuple[list[_Row], int]:
    t = _T[lang]
    team: dict[str, list[Mapping[str, Any]]] = {}
    seen_ids: set[str] = set()
    for d in list(peers) + list(own):  # the agent is always part of the team
        cid = str(d.get("call_id"))
        if cid in seen_ids:
            continue
        seen_ids.add(cid)
        team.setdefault(_agent_of(d), []).append(d)
    team[agent_id] = list(own)  # this agent's value comes from exactly the calls in the report

    def mean_of(name: str) -> Callable[[Sequence[Mapping[str, Any]]], Optional[float]]:
        return lambda docs: _mean([_metric(d, name) for d in docs])

    def rate_of(name: str, value: Any = True) -> Callable[[Sequence[Mapping[str, Any]]], Optional[float]]:
        return lambda docs: _rate(docs, name, value)

    specs: list[tuple[str, Callable[[Sequence[Mapping[str, Any]]], Optional[float]], str]] = [
        (t["row_score"], lambda docs: _mean([d.get("score") for d in docs]), "num"),
        (t["row_agent_share"], mean_of("talk.agent_share"), "pct"),
        (t["row_listening"], mean_of("talk.listening_ratio"), "ratio"),
        (t["row_adherence"], mean_of("opening.adherence"), "pct"),
    ]
    for el in OPENING_ELEMENTS:
        specs.append((t["row_element"].format(el=_ELEMENT_LABEL[lang][el]), rate_of(f"opening.elements.{el}"), "pct"))
    specs.append((t["row_violations"], mean_of("compliance.violations"), "ratio"))
    categories = list(COMPLIANCE_CATEGORIES) + sorted({
        k.split(".", 1)[1] for docs in team.values() for d in docs for k in (d.get("metrics") or {})
        if k.startswith("compliance.") and k.split(".", 1)[1] not in COMPLIANCE_CATEGORIES + ("violations", "critical")
    })
    for cat in categories:
        specs.append((t["row_cat"].format(cat=_CATEGORY_LABEL[lang].get(cat, cat)), mean_of(f"compliance.{cat}"), "ratio"))
    specs += [
        (t["row_privacy"], rate_of("opening.disclosure_before_verification"), "pct"),
        (t["row_end_pos"], rate_of("sentiment.customer.end_label", "positive"), "pct"),
        (t["row_end_neu"], rate_of("sentiment.customer.end_label", "neutral"), "pct"),
        (t["row_end_neg"], rate_of("sentiment.customer.end_label", "negative"), "pct"),
        (t["row_improving"], rate_of("sentiment.customer.trend", "improving"), "pct"),
        (t["row_worsening"], rate_of("sentiment.customer.trend", "worsening"), "pct"),
        (t["row_plan"], rate_of("conduct.plan_offered"), "pct"),
        (t["row_promise"], rate_of("conduct.promise_to_pay"), "pct"),
        (t["row_empathy"], mean_of("conduct.empathy_turns"), "ratio"),
        (t["row_open"], mean_of("conduct.open_questions"), "ratio"),
    ]
    rows: list[_Row] = []
    for label, fn, kind in specs:
        you = fn(own)
        per_agent = [v for v in (fn(docs) for _, docs in sorted(team.items())) if v is not None]
        med = statistics.median(per_agent) if per_agent else None
        if you is None and med is None:
            continue
        rows.append(_Row(label, you, med, kind))
    return rows, len(team)


def _fmt_value(v: Optional[float], kind: str) -> str:
    if v is None:
        return "—"
    if kind == "pct":
        return f"{v:.0%}"
    if kind == "num":
        return f"{v:.1f}"
    return f"{v:.2f}"


# --------------------------------------------------------------------------------------------
# Rendering.
# --------------------------------------------------------------------------------------------

_EXTRA_CSS = """
.intro { color:var(--muted); }
ol.items, ul.items { padding-left:20px; }
ol.items > li, ul.items > li { margin:0 0 14px; }
.item-title { font-weight:600; }
blockquote.q { margin:6px 0; padding:6px 10px; border-left:3px solid var(--agent); background:var(--soft); }
blockquote.q.customer { border-left-color:var(--customer); }
.ref { color:var(--muted); font-size:12px; white-space:nowrap; }
.say { border-left:3px solid var(--ok); padding:4px 10px; margin:6px 0; }
.field { font-size:13px; color:var(--muted); }
"""


def _when(q: _Quote) -> str:
    """"[mm:ss]" of the quote, "≈[mm:ss]" when the call's times were estimated, "" when unknown."""
    mark = _mmss(q.start_s)
    return ("≈" + mark) if mark and q.estimated else mark


def _quote_html(q: _Quote, t: Mapping[str, str]) -> str:
    who = t["customer_said"] if q.speaker == "customer" else t["you_said"]
    cls = "q customer" if q.speaker == "customer" else "q"
    ref = f'<span class="ref" data-call="{esc(q.call_id)}">{esc(q.call_id)} {esc(_when(q))}</span>'
    return f'<blockquote class="{cls}">{esc(who)}{esc(t["colon"])}“{esc(q.text)}” {ref}</blockquote>'


def _render_html(r: _Report) -> str:
    t = _T[r.lang]
    parts: list[str] = []
    if r.unredacted:
        parts.append(f'<div class="notice" role="note">{esc(t["unredacted"])}</div>')
    parts.append(f'<p class="intro">{esc(t["intro"])}</p>')

    change = "—" if r.change is None else (("↑ +" if r.change > 0 else "↓ " if r.change < 0 else "→ ") + f"{r.change:.1f}")
    change_cls = "" if r.change is None else ("pass" if r.change >= 0.5 else "fail" if r.change <= -0.5 else "")
    card_items = [
        (t["period"], esc(r.period), ""),
        (t["calls"], esc(r.n_calls), ""),
        (t["score"], esc(_fmt_value(r.mean_score, "num")), ""),
        (t["change"], esc(change), change_cls),
    ]
    if r.pass_rate is not None:
        card_items.append((t["pass_rate"], esc(f"{r.pass_rate:.0%}"), ""))
    overview = cards(card_items) + f"<p>{esc(r.trend_text)}</p>"
    if r.trend_bars:
        overview += bar_chart(r.trend_bars, max_value=100, label=r.trend_chart_label, width=420, fmt="{:.1f}")
    parts.append(f'<section id="overview"><h2>{esc(t["overview"])}</h2>{overview}</section>')

    items = []
    for it in r.strengths:
        q = _quote_html(it.quote, t) if it.quote else ""
        items.append(f'<li><div class="item-title">{esc(it.title)}</div>{q}</li>')
    parts.append(f'<section id="strengths"><h2>{esc(t["strengths"])}</h2><ul class="items">{"".join(items)}</ul></section>')

    if r.priorities:
        items = []
        for it in r.priorities:
            body = [f'<div class="item-title">{esc(it.title)} <span class="field">· {esc(it.seen)}</span></div>']
            if it.quote:
                body.append(f'<div class="field">{esc(t["example"])}</div>{_quote_html(it.quote, t)}')
            why = it.why + (f"（{t['basis']}：{it.basis}）" if it.basis else "")
            body.append(f'<p><b>{esc(t["why"])}{esc(t["colon"])}</b>{esc(why)}</p>')
            if it.instead:
                body.append(f'<div class="say"><b>{esc(t["instead"])}{esc(t["colon"])}</b>{esc(it.instead)}</div>')
            items.append("<li>" + "".join(body) + "</li>")
        prio = f'<ol class="items">{"".join(items)}</ol>'
    else:
        prio = f"<p>{esc(t['no_priorities'])}</p>"
    parts.append(f'<section id="priorities"><h2>{esc(t["priorities"])}</h2>{prio}</section>')

    rows = [(row.label, _fmt_value(row.you, row.kind), _fmt_value(row.team, row.kind)) for row in r.rows]
    comp = table([t["metric"], t["you"], t["team"]], rows, table_id="comparison-table", sortable=False,
                 numeric=(False, True, True))
    comp += f'<p class="muted" style="font-size:12px">{esc(t["comparison_note"].format(n=r.n_team_agents))}</p>'
    if r.opening_bars:
        comp += f'<h3>{esc(t["opening_chart"])}</h3>' + bar_chart(
            r.opening_bars, max_value=100, label=t["opening_chart"], width=420, fmt="{:.0f}%", color="#1a7f37")
    parts.append(f'<section id="comparison"><h2>{esc(t["comparison"])}</h2>{comp}</section>')

    title = t["title"].format(agent=r.agent_id)
    subtitle = esc(f"{r.period} · {t['calls']} {r.n_calls}")
    return page(title, "\n".join(parts), lang="en" if r.lang == "en" else "zh-CN", subtitle=subtitle,
                extra_css=_EXTRA_CSS, footer=esc(t["footer"]))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: Any) -> str:
    """Escape Markdown syntax (and table pipes) in plain text; newlines become spaces."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text if text is not None else "").split()))


def _quote_md(q: _Quote, t: Mapping[str, str]) -> str:
    who = t["customer_said"] if q.speaker == "customer" else t["you_said"]
    when = _when(q)
    return f"{_md(who)}{t['colon']}“{_md(q.text)}” — `{q.call_id.replace('`', '')}`{' ' + when if when else ''}"


def _render_md(r: _Report) -> str:
    t = _T[r.lang]
    c = t["colon"]
    out: list[str] = [f"# {_md(t['title'].format(agent=r.agent_id))}", ""]
    if r.unredacted:
        out += [f"> **{_md(t['unredacted'])}**", ""]
    out += [_md(t["intro"]), "", f"## {_md(t['overview'])}", ""]
    change = "—" if r.change is None else (("↑ +" if r.change > 0 else "↓ " if r.change < 0 else "→ ") + f"{r.change:.1f}")
    out += [
        f"- {_md(t['period'])}{c}{_md(r.period)}",
        f"- {_md(t['calls'])}{c}{r.n_calls}",
        f"- {_md(t['score'])}{c}{_fmt_value(r.mean_score, 'num')}{t['lp']}{_md(t['change'])} {_md(change)}{t['rp']}",
    ]
    if r.pass_rate is not None:
        out.append(f"- {_md(t['pass_rate'])}{c}{r.pass_rate:.0%}")
    out += ["", _md(r.trend_text), ""]
    if r.trend_bars:
        out += [f"| {_md(r.trend_chart_label)} | {_md(t['score'])} |", "|---|---:|"]
        out += [f"| {_md(label)} | {value:.1f} |" for label, value in r.trend_bars]
        out.append("")

    out += [f"## {_md(t['strengths'])}", ""]
    for it in r.strengths:
        out.append(f"- **{_md(it.title)}**")
        if it.quote:
            out.append(f"  - {_quote_md(it.quote, t)}")
    out += ["", f"## {_md(t['priorities'])}", ""]
    if not r.priorities:
        out.append(_md(t["no_priorities"]))
    for i, it in enumerate(r.priorities, 1):
        out.append(f"{i}. **{_md(it.title)}**{t['lp']}{_md(it.seen)}{t['rp']}")
        if it.quote:
            out.append(f"   - {_md(t['example'])}{c}{_quote_md(it.quote, t)}")
        why = it.why + (f"（{t['basis']}：{it.basis}）" if it.basis else "")
        out.append(f"   - {_md(t['why'])}{c}{_md(why)}")
        if it.instead:
            out.append(f"   - {_md(t['instead'])}{c}{_md(it.instead)}")
    out += ["", f"## {_md(t['comparison'])}", "",
            f"| {_md(t['metric'])} | {_md(t['you'])} | {_md(t['team'])} |", "|---|---:|---:|"]
    for row in r.rows:
        out.append(f"| {_md(row.label)} | {_fmt_value(row.you, row.kind)} | {_fmt_value(row.team, row.kind)} |")
    out += ["", _md(t["comparison_note"].format(n=r.n_team_agents)), ""]
    return "\n".join(out)

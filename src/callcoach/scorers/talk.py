"""Talk and listening: who talked how much, silences, overlaps, interruptions, monologues.

Talk time is the union of each speaker's intervals (word times when the recogniser gave
them, else turn times), so overlapping turns of one speaker are not counted twice. An
overlap counts as an interruption only when the second speaker goes on talking over the
first for ``interruption_min_overlap_s`` and says more than a backchannel (嗯, 对, 好的).
"""

from __future__ import annotations

import re
from typing import Iterable

from ..models import AnalyzedCall, AnalyzedTurn, Finding, ScorerOutput
from .base import ScorerSpec, ScoringContext, call_finding, turn_finding

SPEC = ScorerSpec(
    id="talk",
    version="1.1.0",
    requires=("turn times or text length",),
    produces="talk.*",
    description="Talk share, listening ratio, silences, overlaps, interruptions, monologues, speech rate, questions.",
)
TALK_CHECK_IDS = ("TLK001", "TLK002", "TLK003")

_BACKCHANNEL = re.compile(r"^(嗯+|啊+|哦+|噢+|唔+|对+|对对+|是+|是的|好+|好的|行|可以|明白|知道了|了解|没错|OK|ok|喂)[。，！？!?,.]*$")
_QUESTION = re.compile(r"[？?]|吗[。，]?$|(什么|怎么|为什么|哪|多少|几|是否|能不能|可不可以|是不是|有没有|方便吗|好吗|行吗|对吗)")
_CJK_OR_ALNUM = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")

Interval = tuple[float, float]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Return the sorted union of intervals."""
    out: list[Interval] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _total(intervals: list[Interval]) -> float:
    return sum(e - s for s, e in intervals)


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _intervals(turn: AnalyzedTurn, bridge_s: float) -> list[Interval]:
    """Return when a turn's speaker was talking: its word times, with pauses shorter than
    ``bridge_s`` inside the turn counted as talk (as people hear it), or the turn's span."""
    if not turn.words:
        return [(turn.start_s, turn.end_s)] if turn.end_s > turn.start_s else []
    out: list[Interval] = []
    for w in turn.words:
        if w.end_s <= w.start_s:
            continue
        if out and w.start_s - out[-1][1] <= bridge_s:
            out[-1] = (out[-1][0], max(out[-1][1], w.end_s))
        else:
            out.append((w.start_s, w.end_s))
    return out


def is_backchannel(text: str, max_chars: int) -> bool:
    """Say whether a turn is only a short acknowledgement (嗯, 对, 好的 …)."""
    stripped = text.strip()
    return len(_CJK_OR_ALNUM.findall(stripped)) <= max_chars and bool(_BACKCHANNEL.match(stripped))


def chars(text: str) -> int:
    """Count spoken characters (CJK, letters, digits)."""
    return len(_CJK_OR_ALNUM.findall(text))


class TalkScorer:
    """Compute talk metrics and flag a dominating agent, long monologues and interruptions."""

    spec = SPEC

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput:
        cfg = ctx.config.talk
        bridge = cfg.pause_bridge_s
        agent = union(iv for t in call.by_speaker("agent") for iv in _intervals(t, bridge))
        customer = union(iv for t in call.by_speaker("customer") for iv in _intervals(t, bridge))
        agent_s, customer_s = _total(agent), _total(customer)
        total_talk = agent_s + customer_s
        span_start = min((t.start_s for t in call.turns), default=0.0)
        span_end = max((t.end_s for t in call.turns), default=0.0)
        duration = max(0.0, span_end - span_start)
        speech = union(agent + customer)
        gaps = [b[0] - a[1] for a, b in zip(speech, speech[1:])]
        overlap = _intersect(agent, customer)
        interruptions = self._interruptions(call, cfg.interruption_min_overlap_s, cfg.backchannel_max_chars)
        monologue, mono_turn = self._longest_monologue(call)
        share = agent_s / total_talk if total_talk else None
        m: dict[str, float | int | bool | None] = {
            "talk.duration_s": round(duration, 2),
            "talk.agent_s": round(agent_s, 2),
            "talk.customer_s": round(customer_s, 2),
            "talk.agent_share": round(share, 4) if share is not None else None,
            "talk.listening_ratio": round(customer_s / agent_s, 3) if agent_s else None,
            "talk.agent_share_in_band": (cfg.agent_share_band[0] <= share <= cfg.agent_share_band[1]) if share is not None else None,
            "talk.non_talk_s": round(max(0.0, duration - _total(speech)), 2),
            "talk.longest_silence_s": round(max(gaps, default=0.0), 2),
            "talk.silences_over_threshold": sum(1 for g in gaps if g > cfg.long_silence_s),
            "talk.overlap_s": round(_total(overlap), 2),
            "talk.interruptions.agent": sum(1 for t, _ in interruptions if t.speaker == "agent"),
            "talk.interruptions.customer": sum(1 for t, _ in interruptions if t.speaker == "customer"),
            "talk.longest_agent_monologue_s": round(monologue, 2),
            "talk.agent_turns": len(call.by_speaker("agent")),
            "talk.customer_turns": len(call.by_speaker("customer")),
            "talk.agent_questions": sum(1 for t in call.by_speaker("agent") if _QUESTION.search(t.text)),
        }
        for who, secs in (("agent", agent_s), ("customer", customer_s)):
            n = sum(chars(t.text) for t in call.by_speaker(who))
            m[f"talk.{who}_chars_per_min"] = round(n / secs * 60, 1) if secs else None
        return ScorerOutput(metrics=m, findings=tuple(self._findings(call, ctx, share, monologue, mono_turn, interruptions)))

    @staticmethod
    def _interruptions(call: AnalyzedCall, min_overlap: float, max_bc: int) -> list[tuple[AnalyzedTurn, AnalyzedTurn]]:
        """Return (interrupter, interrupted) pairs."""
        out = []
        turns = call.turns
        for i, t in enumerate(turns):
            if is_backchannel(t.text, max_bc):
                continue
            for prev in reversed(turns[max(0, i - 6):i]):
                if prev.speaker == t.speaker:
                    continue
                if prev.start_s < t.start_s < prev.end_s and min(prev.end_s, t.end_s) - t.start_s >= min_overlap:
                    out.append((t, prev))
                    break
        return out

    @staticmethod
    def _longest_monologue(call: AnalyzedCall) -> tuple[float, AnalyzedTurn | None]:
        """Return the longest stretch of agent speech uninterrupted by customer words (not backchannels)."""
        best, best_turn = 0.0, None
        run_start, run_end, run_turn = None, None, None
        for t in call.turns:
            if t.speaker == "agent":
                if run_start is None:
                    run_start, run_turn = t.start_s, t
                run_end = max(run_end or t.end_s, t.end_s)
                if run_end - run_start > best:
                    best, best_turn = run_end - run_start, run_turn
            elif not is_backchannel(t.text, 4):
                run_start, run_end, run_turn = None, None, None
        return best, best_turn

    def _findings(self, call, ctx, share, monologue, mono_turn, interruptions) -> list[Finding]:  # type: ignore[no-untyped-def]
        cfg, rules = ctx.config.talk, ctx.config.rules
        out: list[Finding] = []
        lo, hi = cfg.agent_share_band
        if share is not None and share > hi and rules.enabled("TLK001") and call.by_speaker("customer"):
            out.append(call_finding(
                rule_id="TLK001", category="listening", severity=rules.severity_for("TLK001", "minor"), scorer=SPEC.id,
                message=f"The agent did {share:.0%} of the talking (target {lo:.0%}-{hi:.0%}): the customer was hardly heard.",
                suggestion="多问开放式问题，然后停下来听：“您这个月遇到的困难主要是哪方面？”",
                rationale="Borrowers who are heard explain why they are late and agree plans they keep; our guideline is that the agent listens at least as much as it talks.",
            ))
        if mono_turn is not None and monologue > cfg.long_monologue_s and rules.enabled("TLK002"):
            out.append(turn_finding(
                mono_turn, rule_id="TLK002", category="listening", severity=rules.severity_for("TLK002", "minor"), scorer=SPEC.id,
                message=f"The agent spoke for {monologue:.0f} s without letting the customer in.",
                suggestion="把长段说明拆开，每讲一点就确认：“这部分我说清楚了吗？”",
                rationale="Long monologues read as lecturing; customers disengage and objections stay hidden.",
            ))
        for who, victim in interruptions:
            if who.speaker == "agent" and rules.enabled("TLK003"):
                out.append(turn_finding(
                    who, rule_id="TLK003", category="listening", severity=rules.severity_for("TLK003", "info"), scorer=SPEC.id,
                    message=f"The agent talked over the customer (turn {victim.index}).",
                    suggestion="等客户说完再回应：“您先说，我听着。”",
                    rationale="Interrupting signals that the agent is not listening and escalates tension.",
                ))
        return out

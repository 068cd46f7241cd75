"""Conduct that feeds coaching: empathy, open questions, repayment plans, promises to pay.

Patterns are data (``lexicons/conduct.toml``). A promise to pay is a customer turn that
names a time and a payment (or answers an agent's "so we agree you pay X on Y" with a
yes) without backing off ("还不上", "看情况").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from ..lexicon import compile_all, first_match, load_table
from ..models import AnalyzedCall, AnalyzedTurn, Finding, ScorerOutput
from .base import ScorerSpec, ScoringContext, call_finding

SPEC = ScorerSpec(
    id="conduct",
    version="1.0.0",
    requires=("speaker labels",),
    produces="conduct.*",
    description="Empathy, open questions, repayment plan offered, promise to pay secured.",
)
CONDUCT_CHECK_IDS = ("CND001", "CND002")
_NEGATED_PLAN = re.compile(r"(不能|没法|没办法|无法|不可以|不给|不支持|不接受|不做|做不了|办不了)[^，。！？]{0,4}$")
_YES = re.compile(r"^(嗯+|好+|好的|行|可以|没问题|对|是的|一定|放心|OK|ok)")


@dataclass(frozen=True)
class ConductPatterns:
    empathy: tuple[re.Pattern[str], ...]
    open_question: tuple[re.Pattern[str], ...]
    plan: tuple[re.Pattern[str], ...]
    date: tuple[re.Pattern[str], ...]
    pay: tuple[re.Pattern[str], ...]
    refuse: tuple[re.Pattern[str], ...]
    difficulty: tuple[re.Pattern[str], ...]
    amount: re.Pattern[str]
    agent_confirm: re.Pattern[str]


@lru_cache(maxsize=1)
def load_conduct() -> ConductPatterns:
    """Load and compile ``lexicons/conduct.toml``."""
    data = load_table("conduct.toml")

    def comp(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
        return compile_all(patterns, "lexicons/conduct.toml", where)

    pr = data["promise"]
    return ConductPatterns(
        empathy=comp(data["empathy"]["patterns"], "empathy"),
        open_question=comp(data["open_question"]["patterns"], "open_question"),
        plan=comp(data["plan"]["patterns"], "plan"),
        date=comp(pr["date_patterns"], "promise.date_patterns"),
        pay=comp(pr["pay_patterns"], "promise.pay_patterns"),
        refuse=comp(pr["refuse_patterns"], "promise.refuse_patterns"),
        difficulty=comp(data["difficulty"]["patterns"], "difficulty"),
        amount=re.compile(pr["amount_pattern"]),
        agent_confirm=re.compile(pr["agent_confirm"]),
    )


def _plan_offered(text: str, pats: ConductPatterns) -> bool:
    for p in pats.plan:
        for m in p.finditer(text):
            if not _NEGATED_PLAN.search(text[max(0, m.start() - 10): m.start()]):
                return True
    return False


def find_promise(call: AnalyzedCall, pats: ConductPatterns) -> Optional[tuple[AnalyzedTurn, Optional[str], Optional[str]]]:
    """Return (turn, date, amount) of the last promise to pay in the call, if any."""
    found = None
    prev_agent: Optional[AnalyzedTurn] = None
    for t in call.turns:
        if t.speaker == "agent":
            prev_agent = t
            continue
        if first_match(pats.refuse, t.text):
            continue
        date = first_match(pats.date, t.text)
        if date and first_match(pats.pay, t.text[date.start():]):
            amount = pats.amount.search(t.text)
            found = (t, date.group(0), amount.group(0) if amount else None)
        elif prev_agent is not None and _YES.match(t.text) and pats.agent_confirm.search(prev_agent.text):
            d = first_match(pats.date, prev_agent.text)
            if d and first_match(pats.pay, prev_agent.text[d.start():]):
                a = pats.amount.search(prev_agent.text)
                found = (t, d.group(0), a.group(0) if a else None)
    return found


class ConductScorer:
    """Count empathy and open questions; detect a plan offer and a promise to pay."""

    spec = SPEC

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput:
        pats = load_conduct()
        agent = call.by_speaker("agent")
        customer = call.by_speaker("customer")
        plan = any(_plan_offered(t.text, pats) for t in agent)
        difficulty = any(first_match(pats.difficulty, t.text) for t in customer)
        promise = find_promise(call, pats)
        metrics: dict[str, Any] = {
            "conduct.empathy_turns": sum(1 for t in agent if first_match(pats.empathy, t.text)),
            "conduct.open_questions": sum(1 for t in agent if first_match(pats.open_question, t.text)),
            "conduct.plan_offered": plan,
            "conduct.customer_difficulty": difficulty,
            "conduct.promise_to_pay": promise is not None,
            "conduct.promise_date": promise[1] if promise else None,
            "conduct.promise_amount": promise[2] if promise else None,
            "conduct.promise_turn": promise[0].index if promise else None,
        }
        findings: list[Finding] = []
        rules = ctx.config.rules
        if difficulty and not plan and rules.enabled("CND001"):
            findings.append(call_finding(
                rule_id="CND001", category="conduct", severity=rules.severity_for("CND001", "minor"), scorer=SPEC.id,
                message="The customer said they were in difficulty but no repayment plan (分期/减免/延期) was offered.",
                suggestion="“理解您的情况。我们可以帮您申请分期或延期，每月压力会小一些，您看可以吗？”",
                rationale="Offering a plan to a customer in difficulty is what turns a refusal into a payment, and the regulator expects lenders to negotiate reasonable plans.",
            ))
        if customer and promise is None and rules.enabled("CND002"):
            findings.append(call_finding(
                rule_id="CND002", category="conduct", severity=rules.severity_for("CND002", "info"), scorer=SPEC.id,
                message="No promise to pay (amount and date) was secured.",
                suggestion="结束前确认具体的金额和日期：“那我们约定您本周五前先还1000元，可以吗？”",
                rationale="A concrete commitment (how much, by when) is the outcome a collection call is for.",
            ))
        return ScorerOutput(metrics=metrics, findings=tuple(findings))

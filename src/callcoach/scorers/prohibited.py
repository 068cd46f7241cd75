"""Prohibited language: run the rule pack in ``lexicons/rules`` over agent speech.

Only the speaker a rule names is judged (agent by default): a customer's anger is
sentiment, not a violation. Matching rules live in :mod:`callcoach.matching`.
"""

from __future__ import annotations

from ..lexicon import Rulebook
from ..matching import Hit, Negation, TermIndex, match_rule, negation_from_terms, sentence_span, term_index
from ..models import AnalyzedCall, AnalyzedTurn, Finding, ScorerOutput
from .base import ScorerSpec, ScoringContext, turn_finding

SPEC = ScorerSpec(
    id="prohibited",
    version="1.0.0",
    requires=("tokens", "metadata.days_overdue"),
    produces="compliance.*",
    description="Threats, exposure, impersonation, false legal claims, insults and harassment in agent speech.",
)

PROHIBITED_CATEGORIES = ("violence", "exposure", "impersonation", "false_legal", "insult", "harassment")


class ProhibitedLanguageScorer:
    """Find rule hits in each turn; one finding per rule per turn."""

    spec = SPEC

    def __init__(self) -> None:
        self._prepared: dict[int, tuple[TermIndex, Negation]] = {}

    def _prepare(self, rulebook: Rulebook) -> tuple[TermIndex, Negation]:
        key = id(rulebook)
        if key not in self._prepared:
            self._prepared[key] = (term_index(rulebook.terms), negation_from_terms(rulebook.terms))
        return self._prepared[key]

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput:
        index, negation = self._prepare(ctx.rulebook)
        days = call.metadata.days_overdue
        rules = [
            r for r in ctx.rulebook.rules if ctx.config.rules.enabled(r.id) and r.applies_to_days(days)
        ]
        findings: list[Finding] = []
        for turn in call.turns:
            applicable = [r for r in rules if r.speaker in (turn.speaker, "any")]
            if not applicable:
                continue
            present = index.present(turn.text)
            for rule in applicable:
                hit = match_rule(rule, turn.text, turn.tokens, present, negation)
                if hit is not None:
                    findings.append(_finding(turn, hit, ctx.config.rules.severity_for(rule.id, rule.severity)))
        return ScorerOutput(metrics=_metrics(findings), findings=tuple(findings))


def _finding(turn: AnalyzedTurn, hit: Hit, severity: str) -> Finding:
    s, e = sentence_span(turn.text, hit.start, hit.end)
    rule = hit.rule
    return turn_finding(
        turn,
        rule_id=rule.id,
        category=rule.category,
        severity=severity,
        message=rule.message,
        suggestion=rule.suggestion,
        rationale=rule.rationale,
        scorer=SPEC.id,
        span=(hit.start, hit.end),
        quote=turn.text[s:e].strip(),
    )


def _metrics(findings: list[Finding]) -> dict[str, int | bool]:
    metrics: dict[str, int | bool] = {}
    for cat in (*PROHIBITED_CATEGORIES, "pressure"):
        metrics[f"compliance.{cat}"] = sum(1 for f in findings if f.category == cat)
    metrics["compliance.violations"] = sum(1 for f in findings if f.category in PROHIBITED_CATEGORIES)
    metrics["compliance.critical"] = sum(1 for f in findings if f.severity == "critical")
    return metrics

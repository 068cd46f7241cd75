"""Prohibited language: the rule pack in ``lexicons/rules`` and the learned detector.

Only the speaker a rule names is judged (agent by default): a customer's anger is
sentiment, not a violation. Pattern rules are matched by :mod:`callcoach.matching`.
Rules of ``kind = "model"`` stand for the learned detector (:mod:`callcoach.prohibited_model`):
it reads each agent sentence and, when it finds a category that no pattern rule already
caught in that turn, reports it under that category's model rule.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ..lexicon import Rule, Rulebook
from ..matching import Hit, Negation, TermIndex, match_rule, negation_from_terms, sentence_span, term_index
from ..models import AnalyzedCall, AnalyzedTurn, Finding, ScorerOutput
from .base import ScorerSpec, ScoringContext, turn_finding

SPEC = ScorerSpec(
    id="prohibited",
    version="1.1.0",
    requires=("tokens", "metadata.days_overdue", "prohibited-language model"),
    produces="compliance.*",
    description="Threats, exposure, impersonation, false legal claims, insults and harassment in agent speech.",
)

PROHIBITED_CATEGORIES = ("violence", "exposure", "impersonation", "false_legal", "insult", "harassment")
_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")


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
        enabled = [
            r for r in ctx.rulebook.rules if ctx.config.rules.enabled(r.id) and r.applies_to_days(days)
        ]
        rules = [r for r in enabled if r.kind == "pattern"]
        model_rules = {r.category: r for r in enabled if r.kind == "model"}
        model = ctx.prohibited_model if model_rules else None
        findings: list[Finding] = []
        for turn in call.turns:
            applicable = [r for r in rules if r.speaker in (turn.speaker, "any")]
            present = index.present(turn.text) if applicable else frozenset()
            caught: set[str] = set()
            for rule in applicable:
                hit = match_rule(rule, turn.text, turn.tokens, present, negation)
                if hit is not None:
                    caught.add(rule.category)
                    findings.append(_finding(turn, hit, ctx.config.rules.severity_for(rule.id, rule.severity)))
            if model is not None:
                findings.extend(_model_findings(turn, model, model_rules, caught, ctx))
        return ScorerOutput(metrics=_metrics(findings), findings=tuple(findings))


def _model_findings(
    turn: AnalyzedTurn, model: Any, model_rules: dict[str, Rule], caught: set[str], ctx: ScoringContext
) -> list[Finding]:
    """Return findings of the learned detector for the sentences of one turn."""
    out: list[Finding] = []
    for m in _SENTENCE.finditer(turn.text):
        sentence = m.group(0).strip()
        if len(sentence) < 4:
            continue
        pred = model.predict(sentence)
        rule: Optional[Rule] = model_rules.get(pred.category)
        if not pred.flagged or rule is None or pred.category in caught or rule.speaker not in (turn.speaker, "any"):
            continue
        caught.add(pred.category)
        out.append(turn_finding(
            turn,
            rule_id=rule.id,
            category=rule.category,
            severity=ctx.config.rules.severity_for(rule.id, rule.severity),
            message=rule.message,
            suggestion=rule.suggestion,
            rationale=rule.rationale,
            scorer=SPEC.id,
            span=(m.start(), m.end()),
            quote=sentence,
        ))
    return out


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

"""Prohibited language: the rule pack in ``lexicons/rules`` and the learned detector.

Only the speaker a rule names is judged (agent by default): a customer's anger is
sentiment, not a violation. Pattern rules are matched by :mod:`callcoach.matching`.
Rules of ``kind = "model"`` stand for the learned detector (:mod:`callcoach.prohibited_model`):
it reads each agent turn and, when it finds a category that no pattern rule already caught
in that turn, reports it under that category's model rule, quoting the turn's most
suspicious sentence.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ..lexicon import CompiledPattern, Rule
from ..prohibited_model import LAWFUL
from ..matching import Hit, TermIndex, match_rule, prepared, sentence_span
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
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MIN_CJK = 4


class ProhibitedLanguageScorer:
    """Find rule hits in each turn; one finding per rule per turn."""

    spec = SPEC

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput:
        index, negation = prepared(ctx.rulebook)
        days = call.metadata.days_overdue
        enabled = [
            r for r in ctx.rulebook.rules if ctx.config.rules.enabled(r.id) and r.applies_to_days(days)
        ]
        rules = [r for r in enabled if r.kind == "pattern"]
        model_rules = {r.category: r for r in enabled if r.kind == "model"}
        model = ctx.prohibited_model if model_rules else None
        findings: list[Finding] = []
        # A pattern is tried only in turns that hold the term sets it needs (TermIndex.needs);
        # one without boundary term sets only if it also matches the judged text as a whole
        # (when a match in one turn is sure to be a match there: CompiledPattern.context_free).
        by_speaker = {who: [r for r in rules if r.speaker in (who, "any")] for who in ("agent", "customer")}
        judged = [t for t in call.turns if by_speaker[t.speaker]]
        hits = {t.index: index.scan(t.text) for t in judged}
        in_call = frozenset().union(*(h.present for h in hits.values()))
        joined = "\n".join(t.text for t in judged)
        live = {who: _live(applicable, index, in_call, joined) for who, applicable in by_speaker.items()}
        # The detector reads agent turns with enough text, all at once.
        read = [t for t in call.turns if t.speaker == "agent" and len(_CJK.findall(t.text)) >= _MIN_CJK]
        model_preds = dict(zip((t.index for t in read), model.predict_many([t.text for t in read]))) \
            if model is not None and read else {}
        for turn in call.turns:
            caught: set[str] = set()
            for rule, patterns in live[turn.speaker]:
                found = hits[turn.index]
                tried = [p for p, need in patterns if need <= found.present]
                hit = match_rule(rule, turn.text, turn.tokens, found, negation, tried) if tried else None
                if hit is not None:
                    caught.add(rule.category)
                    findings.append(_finding(turn, hit, ctx.config.rules.severity_for(rule.id, rule.severity)))
            if turn.index in model_preds:
                findings.extend(_model_findings(turn, model_preds[turn.index], model, model_rules, caught, ctx))
        return ScorerOutput(metrics=_metrics(findings), findings=tuple(findings))


_Live = list[tuple[Rule, list[tuple[CompiledPattern, frozenset[str]]]]]


def _live(rules: list[Rule], index: TermIndex, in_call: frozenset[str], joined: str) -> _Live:
    """Return the rules with patterns that can match in this call: those patterns, and the sets each needs."""
    live: _Live = []
    for rule in rules:
        patterns = [(p, index.needs(p)) for p in rule.patterns]
        patterns = [
            (p, need) for p, need in patterns
            if need <= in_call and (p.required_sets or not p.context_free or p.regex.search(joined))
        ]
        if patterns:
            live.append((rule, patterns))
    return live


def _model_findings(
    turn: AnalyzedTurn, pred: Any, model: Any, model_rules: dict[str, Rule], caught: set[str], ctx: ScoringContext
) -> list[Finding]:
    """Return the learned detector's finding for one turn, quoting its most suspicious sentence.

    The detector reads the whole turn: single short sentences ("那就这样。") carry too little
    to judge alone, and the training utterances are whole turns.
    """
    rule: Optional[Rule] = model_rules.get(pred.category)
    if not pred.flagged or rule is None or pred.category in caught or rule.speaker not in (turn.speaker, "any"):
        return []
    sentences = [m for m in _SENTENCE.finditer(turn.text) if m.group(0).strip()]
    worst = None
    if len(sentences) > 1:
        # The turn's verdict must be carried by one sentence: the most suspicious one must
        # itself lean away from lawful, or the turn is only "hostile overall".
        p_lawful, worst = min((model.probabilities(m.group(0))[LAWFUL], m) for m in sentences)
        if p_lawful >= 0.5:
            return []
    caught.add(pred.category)
    start, end = (worst.start(), worst.end()) if worst else (0, len(turn.text))
    return [turn_finding(
        turn,
        rule_id=rule.id,
        category=rule.category,
        severity=ctx.config.rules.severity_for(rule.id, rule.severity),
        message=rule.message,
        suggestion=rule.suggestion,
        rationale=rule.rationale,
        scorer=SPEC.id,
        span=(start, end),
        quote=turn.text[start:end].strip(),
    )]


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

"""Opening script: which recommended elements the agent used, and disclosure before verification.

The elements and their patterns are data (``lexicons/opening.toml``). An element counts
when it appears within the first ``[opening].first_agent_turns`` agent turns. Mentioning
the debt before the callee confirmed being the borrower is a critical finding: it is how
debts leak to relatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from ..lexicon import compile_all, first_match, load_table
from ..models import AnalyzedCall, AnalyzedTurn, Finding, ScorerOutput
from .base import ScorerSpec, ScoringContext, turn_finding

SPEC = ScorerSpec(
    id="opening",
    version="1.1.0",
    requires=("turn order", "speaker labels"),
    produces="opening.*",
    description="Opening-script elements in the first agent turns; disclosure before identity verification.",
)
OPENING_CHECK_IDS = ("OPN001", "OPN002", "OPN003", "OPN004", "OPN005", "OPN006", "OPN007")


@dataclass(frozen=True)
class Element:
    name: str
    id: str
    severity: str
    description: str
    suggestion: str
    patterns: tuple[re.Pattern[str], ...]

    def found_in(self, text: str) -> Optional[re.Match[str]]:
        return first_match(self.patterns, text)


@dataclass(frozen=True)
class OpeningScript:
    elements: dict[str, Element]
    debt: tuple[re.Pattern[str], ...]
    confirm: tuple[re.Pattern[str], ...]
    deny: tuple[re.Pattern[str], ...]
    disclosure: dict[str, Any]


def _compile_all(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
    return compile_all(patterns, "lexicons/opening.toml", where)


@lru_cache(maxsize=1)
def load_opening() -> OpeningScript:
    """Load and compile ``lexicons/opening.toml``."""
    data = load_table("opening.toml")
    elements = {
        name: Element(name, e["id"], e["severity"], e["description"], e["suggestion"],
                      _compile_all(e["patterns"], f"elements.{name}"))
        for name, e in data["elements"].items()
    }
    d = data["disclosure"]
    return OpeningScript(
        elements=elements,
        debt=_compile_all(d["debt_patterns"], "disclosure.debt_patterns"),
        confirm=_compile_all(d["confirm_patterns"], "disclosure.confirm_patterns"),
        deny=_compile_all(d["deny_patterns"], "disclosure.deny_patterns"),
        disclosure=d,
    )


class OpeningScorer:
    """Tick off opening elements; find the first disclosure of the debt before verification."""

    spec = SPEC

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput:
        script = load_opening()
        cfg, rules = ctx.config.opening, ctx.config.rules
        window = call.by_speaker("agent")[: cfg.first_agent_turns]
        judged = bool(window) and bool(call.by_speaker("customer"))
        metrics: dict[str, Any] = {"opening.judged": judged}
        findings: list[Finding] = []
        present = 0
        for name in cfg.elements:
            el = script.elements[name]
            # verify_identity is the agent's check (请问是张伟先生本人吗), whoever answers: a
            # wrong number or a relative is no coaching point. Whether the callee confirmed
            # is opening.verified.
            found = any(el.found_in(t.text) for t in window)
            metrics[f"opening.elements.{name}"] = found
            present += found
            if judged and not found and rules.enabled(el.id):
                findings.append(turn_finding(
                    window[0], rule_id=el.id, category="opening", severity=rules.severity_for(el.id, el.severity),
                    message=f"Opening element missing: {name} ({el.description})", suggestion=el.suggestion,
                    rationale="The industry guideline requires collectors to state who they are and for whom they call; "
                              "a complete opening builds trust and protects the bank.",
                    scorer=SPEC.id, quote=window[0].text,
                ))
        metrics["opening.adherence"] = round(present / len(cfg.elements), 4) if cfg.elements else None
        verified_at, leak = self._disclosure(call, script)
        metrics["opening.verified"] = verified_at is not None
        metrics["opening.disclosure_before_verification"] = leak is not None and judged
        d = script.disclosure
        if leak is not None and judged and rules.enabled(d["id"]):
            turn, m = leak
            findings.append(turn_finding(
                turn, rule_id=d["id"], category="privacy", severity=rules.severity_for(d["id"], d["severity"]),
                message="The debt was mentioned before the callee confirmed being the borrower (disclosure_before_verification).",
                suggestion=d["suggestion"], rationale=d["rationale"].strip(), scorer=SPEC.id,
                span=(m.start(), m.end()), quote=turn.text,
            ))
        return ScorerOutput(metrics=metrics, findings=tuple(findings))

    @staticmethod
    def _disclosure(
        call: AnalyzedCall, script: OpeningScript
    ) -> tuple[Optional[int], Optional[tuple[AnalyzedTurn, re.Match[str]]]]:
        """Return (index of the confirming customer turn, first agent debt mention before it)."""
        verify = script.elements["verify_identity"]
        asked = False
        for t in call.turns:
            if t.speaker == "agent":
                m = first_match(script.debt, t.text)
                if m is not None:
                    return None, (t, m)
                asked = asked or verify.found_in(t.text) is not None
                continue
            if first_match(script.deny, t.text):
                continue
            if first_match(script.confirm, t.text) and (asked or _self_identifies(t.text)):
                return t.index, None
        return None, None


def _self_identifies(text: str) -> bool:
    return bool(re.search(r"(我就是|我是)[^，。！？]{0,2}本人|是我本人", text))

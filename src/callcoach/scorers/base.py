"""The scorer protocol: a spec and a pure ``score(call, context) -> ScorerOutput``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol

from ..config import Config
from ..lexicon import Rulebook
from ..models import AnalyzedCall, AnalyzedTurn, Finding, ScorerOutput


@dataclass(frozen=True)
class ScorerSpec:
    """What a scorer is: a stable id, a version bumped whenever its output changes meaning,
    what it needs from the call and which metric prefix it writes."""

    id: str
    version: str
    requires: tuple[str, ...]
    produces: str
    description: str


@dataclass(frozen=True)
class ScoringContext:
    """Everything a scorer may read besides the call: settings, rules, models."""

    config: Config
    rulebook: Rulebook
    sentiment_model: Any = None
    prohibited_model: Any = None


class Scorer(Protocol):
    """A scorer: no I/O, no global state, never mutates the call."""

    spec: ScorerSpec

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput: ...


def turn_finding(
    turn: AnalyzedTurn,
    *,
    rule_id: str,
    category: str,
    severity: str,
    message: str,
    scorer: str,
    suggestion: Optional[str] = None,
    rationale: Optional[str] = None,
    span: Optional[tuple[int, int]] = None,
    quote: Optional[str] = None,
) -> Finding:
    """Return a finding located on ``turn`` (quote defaults to the whole turn)."""
    return Finding(
        rule_id=rule_id,
        category=category,
        severity=severity,  # type: ignore[arg-type]
        speaker=turn.speaker,
        turn_index=turn.index,
        start_s=turn.start_s,
        end_s=turn.end_s,
        quote=quote if quote is not None else turn.text,
        message=message,
        suggestion=suggestion,
        rationale=rationale,
        scorer=scorer,
        char_start=span[0] if span else None,
        char_end=span[1] if span else None,
    )


def call_finding(
    *, rule_id: str, category: str, severity: str, message: str, scorer: str,
    suggestion: Optional[str] = None, rationale: Optional[str] = None,
) -> Finding:
    """Return a finding about the call as a whole (no turn)."""
    return Finding(
        rule_id=rule_id, category=category, severity=severity,  # type: ignore[arg-type]
        speaker="agent", turn_index=None, start_s=None, end_s=None, quote="",
        message=message, suggestion=suggestion, rationale=rationale, scorer=scorer,
    )

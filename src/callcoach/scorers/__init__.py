"""Built-in scorers, registered in one explicit table (order = order of findings' scorers)."""

from __future__ import annotations

from ..config import Config
from ..errors import ConfigError
from ..lexicon import Rulebook
from .base import Scorer, ScorerSpec, ScoringContext
from .conduct import CONDUCT_CHECK_IDS, ConductScorer
from .opening import OPENING_CHECK_IDS, OpeningScorer
from .prohibited import ProhibitedLanguageScorer
from .sentiment import SentimentScorer
from .talk import TALK_CHECK_IDS, TalkScorer

SCORERS: tuple[Scorer, ...] = (
    TalkScorer(),
    SentimentScorer(),
    ProhibitedLanguageScorer(),
    OpeningScorer(),
    ConductScorer(),
)

CHECK_IDS: tuple[str, ...] = (*TALK_CHECK_IDS, *OPENING_CHECK_IDS, *CONDUCT_CHECK_IDS)
"""Ids of the findings that scorers emit besides rule-pack rules (configurable like rules)."""


def validate_rule_selection(config: Config, rulebook: Rulebook) -> None:
    """Raise ConfigError if [rules] names an id or prefix that matches nothing."""
    known = [r.id for r in rulebook.rules] + [a for r in rulebook.rules for a in r.aliases] + list(CHECK_IDS)
    for key in (*config.rules.select, *config.rules.ignore, *config.rules.severity):
        if not any(k.startswith(key) for k in known):
            raise ConfigError(f"[rules]: no rule or check id starts with {key!r}; see `callcoach rules list`",
                              path=config.source)


__all__ = ["SCORERS", "CHECK_IDS", "Scorer", "ScorerSpec", "ScoringContext", "validate_rule_selection"]

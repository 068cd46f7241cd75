"""The one place that wires the stages together: read -> analyse -> score -> result."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from . import __version__
from .config import Config
from .lexicon import Rulebook, load_rulebook
from .models import (
    AnalyzedCall, AnalyzedTurn, CallMetadata, CallResult, Finding, ScorerOutput, Sentiment, Stage,
    Transcript, Turn, severity_rank,
)
from .normalize import normalize_text
from .scorers import SCORERS, validate_rule_selection
from .scorers.base import ScoringContext
from .scoring import qa_score
from .segment import Segmenter, default_segmenter


def _config_hash(config: Config) -> str:
    """Return a hash of the effective settings (not of the file they came from)."""
    import dataclasses
    import hashlib
    import json

    settings = {k: v for k, v in dataclasses.asdict(config).items() if k != "source"}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_for(days_overdue: Optional[int], config: Config) -> Optional[Stage]:
    """Return the escalation stage for ``days_overdue`` using the configured bands."""
    if days_overdue is None:
        return None
    index = sum(1 for b in config.stages.bands if days_overdue >= b)
    return Stage(index=index, name=config.stages.names[index], days_overdue=days_overdue)


def analyze(transcript: Transcript, config: Config, segmenter: Optional[Segmenter] = None) -> AnalyzedCall:
    """Normalise and segment every turn; estimate times when the transcript has none."""
    seg = segmenter or default_segmenter()
    timed = transcript.timed
    clock = 0.0
    turns: list[AnalyzedTurn] = []
    for i, turn in enumerate(transcript.turns):
        text = normalize_text(turn.text)
        if timed:
            start, end = float(turn.start_s), float(turn.end_s)  # type: ignore[arg-type]
        else:
            start = clock
            end = start + max(0.4, len(text) / config.talk.chars_per_second_estimate)
            clock = end + config.talk.gap_estimate_s
        turns.append(AnalyzedTurn(i, turn.speaker, text, start, end, seg.tokens(text), turn.words))
    return AnalyzedCall(
        metadata=transcript.metadata,
        turns=tuple(turns),
        times_estimated=not timed,
        stage=stage_for(transcript.metadata.days_overdue, config),
    )


def analyze_text(
    text: str, config: Config, *, speaker: str = "agent", days_overdue: Optional[int] = None
) -> AnalyzedCall:
    """Return a one-turn call holding ``text`` (used to check rules on single utterances)."""
    meta = CallMetadata(call_id="utterance", agent_id="unknown", days_overdue=days_overdue)
    return analyze(Transcript(meta, (Turn(speaker=speaker, text=text),)), config)  # type: ignore[arg-type]


class Pipeline:
    """Score transcripts with one configuration, rulebook and set of models."""

    def __init__(self, config: Optional[Config] = None, rulebook: Optional[Rulebook] = None) -> None:
        self.config = config or Config()
        self.rulebook = rulebook or load_rulebook()
        validate_rule_selection(self.config, self.rulebook)
        self._ctx: Optional[ScoringContext] = None
        self._provenance: Optional[Mapping[str, Any]] = None

    @property
    def context(self) -> ScoringContext:
        if self._ctx is None:
            from . import prohibited_model, sentiment_model

            self._ctx = ScoringContext(
                self.config, self.rulebook, sentiment_model.load_default(), prohibited_model.load_default()
            )
        return self._ctx

    def score(self, transcript: Transcript) -> CallResult:
        """Score one transcript."""
        call = analyze(transcript, self.config)
        return self.score_analyzed(call, source=transcript.source)

    def score_analyzed(self, call: AnalyzedCall, source: Optional[str] = None) -> CallResult:
        """Run every scorer over an analysed call and assemble the result."""
        ctx = self.context
        metrics: dict[str, Any] = {}
        findings: list[Finding] = []
        sentiments: Sequence[Optional[Sentiment]] = [None] * len(call.turns)
        highlights: dict[str, Any] = {}
        outputs: dict[str, ScorerOutput] = {}
        for scorer in SCORERS:
            out = scorer.score(call, ctx)
            outputs[scorer.spec.id] = out
            metrics.update(out.metrics)
            findings.extend(out.findings)
            highlights.update(out.highlights)
            if out.turn_sentiments is not None:
                sentiments = out.turn_sentiments
        findings.sort(key=lambda f: (f.turn_index if f.turn_index is not None else -1, -severity_rank(f.severity)))
        if call.stage is not None:
            metrics["stage.name"] = call.stage.name
            metrics["stage.index"] = call.stage.index
        metrics["talk.estimated"] = call.times_estimated
        score, components = qa_score(metrics, findings, self.config)
        metrics.update({f"score.{k}": round(v, 1) for k, v in components.items()})
        passed = not any(f.severity == "critical" for f in findings)
        return CallResult(
            metadata=call.metadata,
            turns=call.turns,
            sentiments=tuple(sentiments),
            metrics=metrics,
            findings=tuple(findings),
            score=score,
            passed=passed,
            provenance=self.provenance(),
            highlights=highlights,
            source=source,
            times_estimated=call.times_estimated,
        )

    def provenance(self) -> Mapping[str, Any]:
        """Return versions of callcoach, each scorer, the rules and the models (computed once)."""
        if self._provenance is None:
            self._provenance = self._make_provenance()
        return self._provenance

    def _make_provenance(self) -> Mapping[str, Any]:
        import jieba

        model = self.context.sentiment_model
        detector = self.context.prohibited_model
        return {
            "callcoach": __version__,
            "scorers": {s.spec.id: s.spec.version for s in SCORERS},
            "rules": {
                "sha256": self.rulebook.sha256,
                "ids": [r.id for r in self.rulebook.rules if self.config.rules.enabled(r.id)],
            },
            "models": {
                "sentiment": model.provenance if model is not None else None,
                "prohibited": detector.provenance if detector is not None else None,
            },
            "segmenter": {"jieba": jieba.__version__},
            "config": {"source": self.config.source or "default", "sha256": _config_hash(self.config)},
        }

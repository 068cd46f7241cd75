"""Typed, immutable records passed between callcoach's stages.

A transcript is read into a :class:`Transcript` (metadata plus :class:`Turn` records),
normalised and segmented into an :class:`AnalyzedCall`, scored by scorers that each
return a :class:`ScorerOutput`, and assembled into a :class:`CallResult`, whose
:meth:`CallResult.to_dict` is the public JSON result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Mapping, Optional, Sequence, Union

SCHEMA_VERSION = "1.0"
"""Version of the JSON transcript format this release reads and writes."""

RESULT_SCHEMA_VERSION = "1.0"
"""Version of the JSON result format."""

Speaker = Literal["agent", "customer"]
SPEAKERS: tuple[str, ...] = ("agent", "customer")

Severity = Literal["info", "minor", "major", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "minor", "major", "critical")

SentimentLabel = Literal["negative", "neutral", "positive"]

MetricValue = Union[bool, int, float, str, None]


def severity_rank(severity: str) -> int:
    """Return the rank of a severity name (info=0 … critical=3)."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its times and recogniser confidence."""

    text: str
    start_s: float
    end_s: float
    probability: Optional[float] = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker turn. Times are seconds from the start of the recording.

    ``start_s``/``end_s`` are None when the source had no timestamps; ``line`` is
    the line (or cue/row number) in the source file, kept for error messages.
    """

    speaker: Speaker
    text: str
    start_s: Optional[float] = None
    end_s: Optional[float] = None
    words: tuple[Word, ...] = ()
    channel: Optional[int] = None
    line: Optional[int] = None

    @property
    def timed(self) -> bool:
        return self.start_s is not None and self.end_s is not None


@dataclass(frozen=True, slots=True)
class CallMetadata:
    """What is known about a call besides what was said."""

    call_id: str
    agent_id: str
    team: Optional[str] = None
    started_at: Optional[datetime] = None
    customer_ref: Optional[str] = None
    days_overdue: Optional[int] = None
    product: Optional[str] = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "team": self.team,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "customer_ref": self.customer_ref,
            "days_overdue": self.days_overdue,
            "product": self.product,
        }
        if self.extra:
            out["extra"] = dict(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class Transcript:
    """A call as read from a file: metadata and turns in time order."""

    metadata: CallMetadata
    turns: tuple[Turn, ...]
    source: Optional[str] = None
    source_format: Optional[str] = None
    schema_version: str = SCHEMA_VERSION
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def timed(self) -> bool:
        """True when every turn carries start and end times."""
        return bool(self.turns) and all(t.timed for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        """Return the transcript in the documented JSON transcript format."""
        turns = []
        for t in self.turns:
            d: dict[str, Any] = {
                "speaker": t.speaker,
                "start_s": t.start_s,
                "end_s": t.end_s,
                "text": t.text,
            }
            if t.channel is not None:
                d["channel"] = t.channel
            if t.words:
                d["words"] = _word_dicts(t.words)
            turns.append(d)
        out: dict[str, Any] = {"schema_version": self.schema_version, **self.metadata.to_dict(), "turns": turns}
        if self.provenance:
            out["provenance"] = dict(self.provenance)
        return out


@dataclass(frozen=True, slots=True)
class Token:
    """A jieba token with its character offsets in the normalised turn text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AnalyzedTurn:
    """A turn after normalisation and segmentation, as the scorers see it.

    ``start_s``/``end_s`` are always set: estimated from text length when the
    source had no times (see :attr:`AnalyzedCall.times_estimated`).
    """

    index: int
    speaker: Speaker
    text: str
    start_s: float
    end_s: float
    tokens: tuple[Token, ...]
    words: tuple[Word, ...] = ()

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


@dataclass(frozen=True, slots=True)
class Stage:
    """Escalation stage of a call, from ``days_overdue`` and configured bands."""

    index: int
    name: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class AnalyzedCall:
    """The call as the scorers see it: normalised, segmented, timed turns."""

    metadata: CallMetadata
    turns: tuple[AnalyzedTurn, ...]
    times_estimated: bool
    stage: Optional[Stage] = None

    def by_speaker(self, speaker: str) -> tuple[AnalyzedTurn, ...]:
        return tuple(t for t in self.turns if t.speaker == speaker)


@dataclass(frozen=True, slots=True)
class Sentiment:
    """Sentiment of one turn: a label and a polarity score in [0, 1].

    ``score`` is 0.5 + (P(positive) - P(negative)) / 2: 1 = surely positive, 0 = surely
    negative, about 0.5 = neutral. A positive label always scores above 0.5, a negative one below.
    """

    label: SentimentLabel
    score: float
    cue: Optional[str] = None
    """The id of the sentiment cue (``lexicons/sentiment.toml``) that set the label, if one did."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "score": round(self.score, 4)}
        if self.cue is not None:
            out["cue"] = self.cue
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a scorer found: a violation, a coaching point or a note.

    ``char_start``/``char_end`` locate ``quote`` in the (normalised) turn text.
    """

    rule_id: str
    category: str
    severity: Severity
    speaker: Optional[str]
    turn_index: Optional[int]
    start_s: Optional[float]
    end_s: Optional[float]
    quote: str
    message: str
    suggestion: Optional[str] = None
    rationale: Optional[str] = None
    scorer: Optional[str] = None
    char_start: Optional[int] = None
    char_end: Optional[int] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "category": self.category,
            "severity": self.severity,
            "speaker": self.speaker,
            "turn_index": self.turn_index,
            "start_s": _round(self.start_s),
            "end_s": _round(self.end_s),
            "quote": self.quote,
            "message": self.message,
            "suggestion": self.suggestion,
            "rationale": self.rationale,
            "scorer": self.scorer,
            "char_start": self.char_start,
            "char_end": self.char_end,
        }


@dataclass(frozen=True, slots=True)
class ScorerOutput:
    """What one scorer returns: flat metrics, findings and optional per-turn annotations."""

    metrics: Mapping[str, MetricValue] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    turn_sentiments: Optional[tuple[Sentiment, ...]] = None
    highlights: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallResult:
    """The scored call: the public result of ``callcoach score``."""

    metadata: CallMetadata
    turns: tuple[AnalyzedTurn, ...]
    sentiments: tuple[Optional[Sentiment], ...]
    metrics: Mapping[str, MetricValue]
    findings: tuple[Finding, ...]
    score: float
    passed: bool
    provenance: Mapping[str, Any]
    highlights: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    source: Optional[str] = None
    times_estimated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON result (see README, "The result")."""
        turns = []
        for t, s in zip(self.turns, self.sentiments):
            d: dict[str, Any] = {
                "index": t.index,
                "speaker": t.speaker,
                "start_s": _round(t.start_s),
                "end_s": _round(t.end_s),
                "text": t.text,
                "sentiment": s.to_dict() if s else None,
            }
            if t.words:
                d["words"] = _word_dicts(t.words)
            turns.append(d)
        return {
            "result_schema_version": RESULT_SCHEMA_VERSION,
            **self.metadata.to_dict(),
            "source": self.source,
            "times_estimated": self.times_estimated,
            "score": round(self.score, 1),
            "passed": self.passed,
            "metrics": dict(self.metrics),
            "findings": [f.to_dict() for f in self.findings],
            "highlights": {k: [dict(x) for x in v] for k, v in self.highlights.items()},
            "turns": turns,
            "provenance": dict(self.provenance),
        }


def _word_dicts(words: Sequence[Word]) -> list[dict[str, Any]]:
    return [{"text": w.text, "start_s": w.start_s, "end_s": w.end_s, "probability": w.probability} for w in words]


def _round(value: Optional[float], ndigits: int = 3) -> Optional[float]:
    return None if value is None else round(value, ndigits)

"""Sentiment of every turn, per speaker, and the customer's trend over the call.

The model is callcoach's conversational Naive Bayes + character LR (see
resources/sentiment/MODEL_CARD.md), not snownlp's stock shopping-review model. Collection-call
cues the training data lacks (defiance such as 爱怎么样就怎么样, telling the collector to stop
calling) are data in ``lexicons/sentiment.toml``; a cue sets its turn's label first. Then a
turn is judged in context: its class probabilities are combined with those of the same
speaker's previous and next turns (weight ``[sentiment].context_weight``; 0 judges every turn
alone), because a speaker's mood persists across turns and a short turn alone says little. On
held-out CPED dialogues this raises three-class macro-F1 from 0.447 to 0.470
(benchmarks/bench_datasets.py). Backchannels (嗯, 好的) stay neutral. The trend compares the
customer's mean polarity in the first and the last quarter of the call's customer turns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from statistics import mean
from typing import Any, Mapping, Optional, Sequence

from ..errors import RuleError
from ..lexicon import compile_all, first_match, load_table
from ..models import AnalyzedCall, ScorerOutput, Sentiment
from ..sentiment_model import LABELS as _LABELS
from ..sentiment_model import polarity
from .base import ScorerSpec, ScoringContext

CUES_FILE = "lexicons/sentiment.toml"

SPEC = ScorerSpec(
    id="sentiment",
    version="1.1.0",
    requires=("tokens", "sentiment model"),
    produces="sentiment.*",
    description="Per-turn sentiment, per-speaker means, customer trend and most negative moments.",
)


class SentimentScorer:
    """Label every turn and summarise the customer's mood."""

    spec = SPEC

    def score(self, call: AnalyzedCall, ctx: ScoringContext) -> ScorerOutput:
        model = ctx.sentiment_model
        words = [[tok.text for tok in t.tokens] for t in call.turns]
        preds = model.predict_many(words)
        cues = load_cues()
        hit = [cue_for(t.text, cues) for t in call.turns]
        probabilities = [
            p.probabilities if cue is None else with_cue(p.probabilities, cue.label, ctx.config.sentiment.cue_confidence)
            for p, cue in zip(preds, hit)
        ]
        sentiments = in_context(
            [t.speaker for t in call.turns],
            probabilities,
            [p.fixed and cue is None for p, cue in zip(preds, hit)],
            ctx.config.sentiment.context_weight,
            cues=[cue.id if cue is not None else None for cue in hit],
        )
        metrics: dict[str, Any] = {}
        for who in ("agent", "customer"):
            scores = [s.score for t, s in zip(call.turns, sentiments) if t.speaker == who]
            labels = [s.label for t, s in zip(call.turns, sentiments) if t.speaker == who]
            metrics[f"sentiment.{who}.mean"] = round(mean(scores), 4) if scores else None
            metrics[f"sentiment.{who}.negative_share"] = round(labels.count("negative") / len(labels), 4) if labels else None
        cust = [(t, s) for t, s in zip(call.turns, sentiments) if t.speaker == "customer"]
        trend, first, last = _trend([s.score for _, s in cust], ctx.config.sentiment.trend_threshold)
        metrics["sentiment.customer.first_quarter"] = first
        metrics["sentiment.customer.last_quarter"] = last
        metrics["sentiment.customer.trend"] = trend
        metrics["sentiment.customer.end_label"] = cust[-1][1].label if cust else None
        worst = sorted((p for p in cust if p[1].label == "negative"), key=lambda p: p[1].score)
        highlights = {
            "customer_most_negative": [
                {"turn_index": t.index, "start_s": round(t.start_s, 3), "end_s": round(t.end_s, 3),
                 "score": round(s.score, 4), "quote": t.text}
                for t, s in worst[: ctx.config.sentiment.most_negative]
            ]
        }
        return ScorerOutput(metrics=metrics, turn_sentiments=tuple(sentiments), highlights=highlights)


@dataclass(frozen=True)
class SentimentCue:
    """A phrase pattern that sets a turn's sentiment label (``lexicons/sentiment.toml``)."""

    id: str
    name: str
    label: str
    rationale: str
    patterns: tuple[re.Pattern[str], ...]
    fire: tuple[str, ...]
    quiet: tuple[str, ...]


@lru_cache(maxsize=1)
def load_cues() -> tuple[SentimentCue, ...]:
    """Load and compile the sentiment cues; RuleError names the file and the bad entry."""
    cues = []
    for i, table in enumerate(load_table("sentiment.toml").get("cue", [])):
        where = f"cue {table.get('id', i + 1)}"
        missing = {"id", "name", "label", "rationale", "patterns"} - set(table)
        if missing:
            raise RuleError(f"{where}: missing {', '.join(sorted(missing))}", path=CUES_FILE)
        if table["label"] not in _LABELS:
            raise RuleError(f"{where}: label must be one of {', '.join(_LABELS)}", path=CUES_FILE)
        cues.append(SentimentCue(
            id=str(table["id"]), name=str(table["name"]), label=str(table["label"]),
            rationale=str(table["rationale"]).strip(),
            patterns=compile_all(table["patterns"], CUES_FILE, where),
            fire=tuple(table.get("fire", ())), quiet=tuple(table.get("quiet", ())),
        ))
    return tuple(cues)


def cue_for(text: str, cues: Sequence[SentimentCue]) -> Optional[SentimentCue]:
    """Return the first cue whose patterns match ``text`` (normalised), or None."""
    for cue in cues:
        if first_match(cue.patterns, text) is not None:
            return cue
    return None


def with_cue(probabilities: Mapping[str, float], label: str, confidence: float) -> dict[str, float]:
    """Give ``label`` at least the probability ``confidence``; the others share the rest in proportion."""
    confidence = max(confidence, probabilities.get(label, 0.0))
    rest = sum(p for k, p in probabilities.items() if k != label)
    others = [k for k in _LABELS if k != label]
    out = {k: (1.0 - confidence) * (probabilities.get(k, 0.0) / rest if rest > 0 else 1.0 / len(others))
           for k in others}
    out[label] = confidence
    return {k: out[k] for k in _LABELS}


def in_context(
    speakers: Sequence[str],
    probabilities: Sequence[Mapping[str, float]],
    fixed: Sequence[bool],
    weight: float,
    cues: Optional[Sequence[Optional[str]]] = None,
) -> list[Sentiment]:
    """Combine each turn's class probabilities with its speaker's previous and next turns.

    ``fixed`` turns (backchannels) keep their own prediction and are not used as context.
    Turns with a cue id in ``cues`` keep their own (cue-set) prediction, carry the id, and
    are used as context for their neighbours.
    """
    import numpy as np

    n = len(probabilities)
    if n == 0:
        return []
    probs = np.array([[p[c] for c in _LABELS] for p in probabilities], dtype=np.float64)
    logp = np.log(np.maximum(probs, 1e-9))
    free = ~np.asarray(fixed, dtype=bool)
    if weight:
        prev, nxt = np.full(n, -1), np.full(n, -1)
        last: dict[str, int] = {}
        for i, who in enumerate(speakers):
            if fixed[i]:
                continue
            j = last.get(who)
            if j is not None:
                prev[i], nxt[j] = j, i
            last[who] = i
        has_prev, has_next = prev >= 0, nxt >= 0
        count = has_prev.astype(int) + has_next
        total = probs[prev] * has_prev[:, None] + probs[nxt] * has_next[:, None]
        cued = np.array([c is not None for c in cues], dtype=bool) if cues is not None else np.zeros(n, dtype=bool)
        use = free & ~cued & (count > 0)
        avg = total[use] / count[use][:, None]
        logp[use] += weight * np.log(np.maximum(avg, 1e-9))
    z = np.exp(logp - logp.max(axis=1, keepdims=True))
    z /= z.sum(axis=1, keepdims=True)
    labels = z.argmax(axis=1)  # first of equal maxima, like max() over the labels in order
    out: list[Sentiment] = []
    for i, (neg, _, pos) in enumerate(z.tolist()):
        label = _LABELS[int(labels[i])]
        score = polarity(neg, pos, label) if free[i] else 0.5
        out.append(Sentiment(label, score, cues[i] if cues is not None else None))  # type: ignore[arg-type]
    return out


def _trend(scores: list[float], threshold: float) -> tuple[str | None, float | None, float | None]:
    """Return (improving|worsening|stable, first-quarter mean, last-quarter mean)."""
    if len(scores) < 2:
        return None, None, None
    q = max(1, len(scores) // 4)
    first, last = mean(scores[:q]), mean(scores[-q:])
    delta = last - first
    trend = "improving" if delta > threshold else "worsening" if delta < -threshold else "stable"
    return trend, round(first, 4), round(last, 4)

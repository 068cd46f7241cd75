"""Sentiment of every turn, per speaker, and the customer's trend over the call.

The model is callcoach's conversational Naive Bayes (see resources/sentiment/MODEL_CARD.md),
not snownlp's stock shopping-review model. A turn is judged in context: its class
probabilities are combined with those of the same speaker's previous and next turns
(weight ``[sentiment].context_weight``; 0 judges every turn alone), because a speaker's mood
persists across turns and a short turn alone says little. On held-out CPED dialogues this
raises three-class macro-F1 from 0.43 to 0.45 (benchmarks/bench_datasets.py). Backchannels
(嗯, 好的) stay neutral. The trend compares the customer's mean polarity in the first and the
last quarter of the call's customer turns.
"""

from __future__ import annotations

import math
from statistics import mean
from typing import Any, Mapping, Optional, Sequence

from ..models import AnalyzedCall, ScorerOutput, Sentiment
from ..sentiment_model import polarity
from .base import ScorerSpec, ScoringContext

SPEC = ScorerSpec(
    id="sentiment",
    version="1.0.0",
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
        sentiments = in_context(
            [t.speaker for t in call.turns],
            [p.probabilities for p in preds],
            [p.fixed for p in preds],
            ctx.config.sentiment.context_weight,
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


_LABELS = ("negative", "neutral", "positive")


def in_context(
    speakers: Sequence[str],
    probabilities: Sequence[Mapping[str, float]],
    fixed: Sequence[bool],
    weight: float,
) -> list[Sentiment]:
    """Combine each turn's class probabilities with its speaker's previous and next turns.

    ``fixed`` turns (backchannels) keep their own prediction and are not used as context.
    """
    out: list[Sentiment] = []
    for i, probs in enumerate(probabilities):
        logp = {c: math.log(max(probs[c], 1e-9)) for c in _LABELS}
        if weight and not fixed[i]:
            prev = _neighbour(speakers, fixed, i, range(i - 1, -1, -1))
            nxt = _neighbour(speakers, fixed, i, range(i + 1, len(speakers)))
            ctx = [probabilities[j] for j in (prev, nxt) if j is not None]
            if ctx:
                for c in _LABELS:
                    logp[c] += weight * math.log(max(sum(p[c] for p in ctx) / len(ctx), 1e-9))
        top = max(logp.values())
        z = {c: math.exp(v - top) for c, v in logp.items()}
        total = sum(z.values())
        label = max(z, key=lambda c: z[c])
        score = 0.5 if fixed[i] else polarity(z["negative"] / total, z["positive"] / total, label)
        out.append(Sentiment(label, score))  # type: ignore[arg-type]
    return out


def _neighbour(speakers: Sequence[str], fixed: Sequence[bool], i: int, order: range) -> Optional[int]:
    for j in order:
        if speakers[j] == speakers[i] and not fixed[j]:
            return j
    return None


def _trend(scores: list[float], threshold: float) -> tuple[str | None, float | None, float | None]:
    """Return (improving|worsening|stable, first-quarter mean, last-quarter mean)."""
    if len(scores) < 2:
        return None, None, None
    q = max(1, len(scores) // 4)
    first, last = mean(scores[:q]), mean(scores[-q:])
    delta = last - first
    trend = "improving" if delta > threshold else "worsening" if delta < -threshold else "stable"
    return trend, round(first, 4), round(last, 4)

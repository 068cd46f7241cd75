"""Sentiment of every turn, per speaker, and the customer's trend over the call.

The model is callcoach's conversational Naive Bayes (see resources/sentiment/MODEL_CARD.md),
not snownlp's stock shopping-review model. The trend compares the customer's mean
polarity in the first and the last quarter of the call's customer turns.
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from ..models import AnalyzedCall, ScorerOutput, Sentiment
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
        sentiments = []
        for t in call.turns:
            p = model.predict([tok.text for tok in t.tokens])
            sentiments.append(Sentiment(p.label, float(p.score)))
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


def _trend(scores: list[float], threshold: float) -> tuple[str | None, float | None, float | None]:
    """Return (improving|worsening|stable, first-quarter mean, last-quarter mean)."""
    if len(scores) < 2:
        return None, None, None
    q = max(1, len(scores) // 4)
    first, last = mean(scores[:q]), mean(scores[-q:])
    delta = last - first
    trend = "improving" if delta > threshold else "worsening" if delta < -threshold else "stable"
    return trend, round(first, 4), round(last, 4)

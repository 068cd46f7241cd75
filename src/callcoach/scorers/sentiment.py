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

from statistics import mean
from typing import Any, Mapping, Sequence

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
        use = free & (count > 0)
        avg = total[use] / count[use][:, None]
        logp[use] += weight * np.log(np.maximum(avg, 1e-9))
    z = np.exp(logp - logp.max(axis=1, keepdims=True))
    z /= z.sum(axis=1, keepdims=True)
    labels = z.argmax(axis=1)  # first of equal maxima, like max() over the labels in order
    out: list[Sentiment] = []
    for i, (neg, _, pos) in enumerate(z.tolist()):
        label = _LABELS[int(labels[i])]
        score = polarity(neg, pos, label) if free[i] else 0.5
        out.append(Sentiment(label, score))  # type: ignore[arg-type]
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

"""The 0-100 QA score: weighted components, each 0-100, configurable in [scoring]."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .config import Config
from .models import Finding

COMPLIANCE_CATEGORIES = ("violence", "exposure", "impersonation", "false_legal", "insult", "harassment", "pressure", "privacy")


def qa_score(metrics: Mapping[str, Any], findings: Sequence[Finding], config: Config) -> tuple[float, dict[str, float]]:
    """Return (score, components) for a call.

    compliance: 100 minus the configured deduction per compliance finding (critical: all).
    opening: share of opening elements present. listening: 100 inside the agent-share band,
    falling linearly to 0 at 30 points outside it. conduct: empathy, plan offered, promise
    secured. sentiment: the customer's mean polarity at the end of the call.
    """
    ded = config.scoring.deductions
    compliance = 100.0 - sum(ded.get(f.severity, 0.0) for f in findings if f.category in COMPLIANCE_CATEGORIES)
    components = {
        "compliance": max(0.0, compliance),
        "opening": 100.0 * float(metrics.get("opening.adherence") or 0.0),
        "listening": _listening(metrics.get("talk.agent_share"), config.talk.agent_share_band),
        "conduct": _conduct(metrics),
        "sentiment": 100.0 * float(_first(metrics, "sentiment.customer.last_quarter", "sentiment.customer.mean", default=0.5)),
    }
    weights = config.scoring.weights
    total_w = sum(weights.values()) or 1.0
    score = sum(components[k] * w for k, w in weights.items()) / total_w
    return round(score, 1), components


def _first(metrics: Mapping[str, Any], *keys: str, default: float) -> float:
    for k in keys:
        if metrics.get(k) is not None:
            return float(metrics[k])
    return default


def _listening(share: Any, band: tuple[float, float]) -> float:
    if share is None:
        return 100.0
    lo, hi = band
    off = max(0.0, lo - share, share - hi)
    return max(0.0, 100.0 * (1 - off / 0.30))


def _conduct(metrics: Mapping[str, Any]) -> float:
    empathy = min(1.0, float(metrics.get("conduct.empathy_turns") or 0) / 2)
    plan_needed = bool(metrics.get("conduct.customer_difficulty"))
    plan = 1.0 if metrics.get("conduct.plan_offered") or not plan_needed else 0.0
    promise = 1.0 if metrics.get("conduct.promise_to_pay") else 0.0
    return 100.0 * (0.3 * empathy + 0.3 * plan + 0.4 * promise)

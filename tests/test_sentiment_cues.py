"""The collection-call sentiment cues (lexicons/sentiment.toml): every example, and the scorer."""

from __future__ import annotations

import pytest

from callcoach.config import Config, ConfigError, config_from_dict
from callcoach.models import CallMetadata, Transcript, Turn
from callcoach.normalize import normalize_text
from callcoach.pipeline import Pipeline
from callcoach.scorers.sentiment import cue_for, load_cues, with_cue

CUES = load_cues()
FIRE = [(c.id, text) for c in CUES for text in c.fire]
QUIET = [(c.id, text) for c in CUES for text in c.quiet]


def test_every_cue_has_examples_both_ways() -> None:
    assert CUES
    for cue in CUES:
        assert cue.fire and cue.quiet, cue.id
        assert cue.rationale


@pytest.mark.parametrize("cue_id,text", FIRE)
def test_cue_fires(cue_id: str, text: str) -> None:
    hit = cue_for(normalize_text(text), CUES)
    assert hit is not None and hit.id == cue_id


@pytest.mark.parametrize("cue_id,text", QUIET)
def test_cue_stays_quiet(cue_id: str, text: str) -> None:
    assert cue_for(normalize_text(text), CUES) is None


def test_with_cue_keeps_a_distribution() -> None:
    out = with_cue({"negative": 0.1, "neutral": 0.3, "positive": 0.6}, "negative", 0.8)
    assert out["negative"] == 0.8
    assert out["neutral"] == pytest.approx(0.2 * 1 / 3)
    assert sum(out.values()) == pytest.approx(1.0)
    assert max(out, key=out.__getitem__) == "negative"
    # A cue never makes the model less sure of the label it already gave.
    sure = with_cue({"negative": 0.95, "neutral": 0.03, "positive": 0.02}, "negative", 0.8)
    assert sure["negative"] == 0.95 and sum(sure.values()) == pytest.approx(1.0)


def _call(*lines: tuple[str, str]) -> Transcript:
    meta = CallMetadata(call_id="cue", agent_id="a1")
    return Transcript(meta, tuple(Turn(speaker=s, text=t) for s, t in lines))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["我没钱，你爱怎么样就怎么样", "你们爱起诉就起诉吧", "随便你们，反正没钱", "别再给我打电话了"])
def test_defiant_customer_turns_score_negative(text: str) -> None:
    result = Pipeline().score(_call(("agent", "您好，我是招商银行的客服。"), ("customer", text)))
    sent = result.sentiments[1]
    assert sent is not None and sent.label == "negative" and sent.score < 0.5


def test_cue_confidence_is_validated() -> None:
    with pytest.raises(ConfigError, match="cue_confidence"):
        config_from_dict({"sentiment": {"cue_confidence": 1.5}})
    assert Config().sentiment.cue_confidence == 0.8


def test_a_cue_turn_keeps_its_label_among_friendly_turns_and_says_which_cue() -> None:
    result = Pipeline().score(_call(
        ("agent", "您好，我是招商银行的客服。"),
        ("customer", "太好了，谢谢你们，真的非常感谢！"),
        ("customer", "你们爱告就告吧"),
        ("customer", "谢谢你们帮我申请减免，太感谢了"),
    ))
    sent = result.sentiments[2]
    assert sent is not None and sent.label == "negative" and sent.cue == "SEN001"
    assert result.to_dict()["turns"][2]["sentiment"]["cue"] == "SEN001"
    assert "cue" not in result.to_dict()["turns"][1]["sentiment"]

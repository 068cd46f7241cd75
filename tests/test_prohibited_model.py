"""The learned prohibited-language detector: loading, provenance, behaviour, errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from callcoach.errors import ModelError
from callcoach.normalize import normalize_text
from callcoach.prohibited_model import LAWFUL, load, load_default, ngrams

MODEL = load_default()


def test_ngrams() -> None:
    assert ngrams("你好吗", 1, 2) == {"你", "好", "吗", "你好", "好吗"}


def test_provenance_and_classes() -> None:
    prov = MODEL.provenance
    assert prov["sha256"] and 0 < prov["threshold"] < 1
    assert "holdout.jsonl" in prov["heldout"]["file"]
    assert set(MODEL.classes) == {LAWFUL, "violence", "exposure", "impersonation", "false_legal", "insult", "harassment"}


def test_probabilities_sum_to_one() -> None:
    probs = MODEL.probabilities(normalize_text("您好，我是华信银行的客服，请问是张先生吗？"))
    assert sum(probs.values()) == pytest.approx(1.0)
    assert max(probs, key=probs.get) == LAWFUL


@pytest.mark.parametrize("text,category", [
    ("你家孩子每天几点放学我们都清楚，路上可得看好了。", "violence"),
    ("你不还，我就把你欠钱的事发到你们小区业主群里。", "exposure"),
    ("我这边是市公安局经侦支队的，请你配合调查。", "impersonation"),
    ("再拖下去你就等着进看守所吧。", "false_legal"),
    ("你这种人就是社会的渣滓。", "insult"),
    ("我们会二十四小时轮流打你电话，看你接不接。", "harassment"),
])
def test_flags_violations(text: str, category: str) -> None:
    pred = MODEL.predict(normalize_text(text))
    assert pred.flagged and pred.category == category


@pytest.mark.parametrize("text", [
    "逾期会按合同收取罚息，也会报送个人征信。",
    "如果长期不还，银行可能依法向法院起诉。",
    "我们不会联系您的家人和单位，请放心。",
    "您看这个月十五号之前先还两千可以吗？",
    "那就这样，我们下周再跟您确认。",
])
def test_leaves_lawful_speech_alone(text: str) -> None:
    assert not MODEL.predict(normalize_text(text)).flagged


def test_corrupt_or_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load(tmp_path / "missing.json.gz")
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(ModelError, match="corrupt"):
        load(bad)
    wrong = tmp_path / "wrong.json.gz"
    wrong.write_bytes(gzip.compress(json.dumps({"header": {"format": "x"}, "weights": {}}).encode()))
    with pytest.raises(ModelError, match="unknown model format"):
        load(wrong)

"""Text normalisation and jieba segmentation with the domain dictionary and its fast cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.lexicon import domain_words
from callcoach.normalize import normalize_text
from callcoach.segment import Segmenter, default_segmenter


@pytest.mark.parametrize("raw,expected", [
    ("您的個人徵信會受影響", "您的个人征信会受影响"),              # traditional -> simplified
    ("還款ＡＢＣ１２３", "还款ABC123"),                            # full-width -> half-width
    ("您好,  请问是张先生吗?", "您好，请问是张先生吗？"),          # Chinese punctuation next to Chinese
    ("本期应还 3,500.50 元", "本期应还 3,500.50 元"),              # numbers stay readable
    ("我 们 会 联 系 您", "我们会联系您"),                          # ASR spaces between characters
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("word", ["停息挂账", "最低还款额", "个人征信", "紧急联系人", "律师函"])
def test_domain_words_stay_whole(word: str) -> None:
    tokens = [t.text for t in default_segmenter().tokens(f"关于您的{word}问题")]
    assert word in tokens


def test_tokens_carry_offsets() -> None:
    text = "我们可以帮您办理停息挂账"
    for t in default_segmenter().tokens(text):
        assert text[t.start:t.end] == t.text


def test_cache_round_trip_matches_fresh_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCOACH_CACHE_DIR", str(tmp_path))
    fresh = Segmenter(domain_words())          # builds and writes the cache
    assert list(tmp_path.glob("jieba-*.bin"))
    cached = Segmenter(domain_words())         # reads it back
    text = "您的最低还款额已经逾期，可以申请个性化分期或者停息挂账。"
    assert fresh.tokens(text) == cached.tokens(text)


def test_unwritable_cache_is_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CALLCOACH_CACHE_DIR", str(blocker / "sub"))
    assert Segmenter(domain_words()).cut("个人征信") == ["个人征信"]

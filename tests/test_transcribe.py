"""Transcription: hallucination guards, turns, channel merge, diarization, the CLI, and the real model.

The model tests use ../shared/models/faster-whisper-base (or $CALLCOACH_MODEL when it is a
directory) on ../shared/data/asr_zh_samples and skip with the reason when either is absent.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import pytest
from typer.testing import CliRunner

from callcoach.audio import SAMPLE_RATE, audio_from_samples
from callcoach.models import CallMetadata, Word
from callcoach.speakers import (
    agent_cluster,
    channel_speakers,
    chunk_words,
    cluster_voices,
    diarize,
    join_words,
    merge_turns,
    transcribe_call,
    voice_features,
    words_to_turns,
)
from callcoach.transcribe import AsrSegment, filter_segments, is_credit_line, resolve_model
from callcoach.transcribe.metrics import edit_distance



def shared_dir() -> Path:
    return Path(os.environ.get("CALLCOACH_SHARED", Path(__file__).resolve().parent.parent.parent / "shared"))


def _words(text: str, start_s: float, step_s: float = 0.2) -> list[Word]:
    return [Word(ch, round(start_s + i * step_s, 3), round(start_s + (i + 1) * step_s, 3), 0.9) for i, ch in enumerate(text)]


# --- hallucination guards -------------------------------------------------------------------


def _seg(text: str, start: float = 0.0, **kw: Any) -> AsrSegment:
    return AsrSegment(text=text, start_s=start, end_s=start + 1.0, words=tuple(_words(text, start, 1.0 / max(len(text), 1))), **kw)


def test_filters_drop_hallucinations() -> None:
    segments = [
        _seg("您好，这里是信用卡中心。", 0.0),
        _seg("嗯。", 1.0, no_speech_prob=0.9, avg_logprob=-1.5),       # noise decoded with low confidence
        _seg("好的好的好的好的好的好的好的好的", 2.0, compression_ratio=3.1),  # a loop
        _seg("请问是张先生吗？", 3.0),
        _seg("请问是张先生吗？", 4.0),                                 # repeated segment
        _seg("字幕由Amara.org社区提供", 5.0),
        _seg("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", 6.0),
        _seg("内容涉及还款、逾期、分期", 7.0),                         # the prompt echoed back
        _seg("谢谢。", 20.0),                                          # said in pure silence
        _seg("喂。", 8.0),
        _seg("喂。", 9.0),                                             # a repeated "喂" is real
    ]
    kept = filter_segments(segments, silent_spans=[(15.0, 25.0)],
                           prompt="以下是银行信用卡中心与客户的普通话电话录音，内容涉及还款、逾期、分期。")
    assert [s.text for s in kept] == ["您好，这里是信用卡中心。", "请问是张先生吗？", "喂。", "喂。"]


def test_low_no_speech_or_confident_segments_are_kept() -> None:
    kept = filter_segments([_seg("我下周还。", no_speech_prob=0.9, avg_logprob=-0.3),
                            _seg("我没钱。", 1.0, no_speech_prob=0.2, avg_logprob=-1.4)])
    assert len(kept) == 2


def test_words_in_silence_are_dropped_from_a_segment() -> None:
    seg = AsrSegment(text="好的谢谢", start_s=0.0, end_s=6.0,
                     words=(Word("好的", 0.0, 0.5), Word("谢谢", 3.0, 3.5)))
    kept = filter_segments([seg], silent_spans=[(2.0, 5.0)])
    assert [w.text for w in kept[0].words] == ["好的"] and kept[0].end_s == 0.5


@pytest.mark.parametrize("text", ["字幕由Amara.org社区提供", "中文字幕提供", "请不吝点赞订阅转发打赏支持明镜与点点栏目", "谢谢观看"])
def test_credit_lines(text: str) -> None:
    assert is_credit_line(text)


@pytest.mark.parametrize("text", ["您好，这里是信用卡中心", "我这个月的字还没签", "订单已经提交了"])
def test_not_credit_lines(text: str) -> None:
    assert not is_credit_line(text)


def test_model_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCOACH_MODEL", "/models/x")
    assert resolve_model() == "/models/x" and resolve_model("small") == "small"
    monkeypatch.delenv("CALLCOACH_MODEL")
    assert resolve_model() == "base"


# --- turns and channels ---------------------------------------------------------------------


def test_turns_split_at_pauses() -> None:
    words = _words("您好", 0.0) + _words("请问是张先生吗", 0.9) + _words("我们是信用卡中心", 4.0)
    turns = words_to_turns(words, "agent", channel=0)
    assert [t.text for t in turns] == ["您好请问是张先生吗", "我们是信用卡中心"]
    assert turns[0].start_s == 0.0 and turns[0].end_s == pytest.approx(2.3) and turns[1].channel == 0
    assert len(words_to_turns(words, "agent", pause_s=0.3)) == 3
    assert all(len(t.words) for t in turns)


def test_join_words_spaces_only_between_latin_words() -> None:
    words = [Word("he", 0, 1), Word("must", 1, 2), Word("他", 2, 3), Word("一定", 3, 4), Word("OK", 4, 5)]
    assert join_words(words) == "he must他一定OK"


def test_channel_merge_orders_by_time() -> None:
    agent = words_to_turns(_words("您好请问是张先生吗", 0.0) + _words("您的账单已经逾期", 5.0), "agent", channel=0)
    customer = words_to_turns(_words("是我", 2.5) + _words("我下周还", 8.0), "customer", channel=1)
    merged = merge_turns(agent, customer)
    assert [(t.speaker, t.text) for t in merged] == [
        ("agent", "您好请问是张先生吗"), ("customer", "是我"), ("agent", "您的账单已经逾期"), ("customer", "我下周还")]


def test_channel_layouts() -> None:
    assert channel_speakers("agent-left") == ("agent", "customer")
    assert channel_speakers("agent-right") == ("customer", "agent")
    from callcoach.errors import ConfigError

    with pytest.raises(ConfigError):
        channel_speakers("agent-middle")


class FakeTranscriber:
    """Return fixed words for each channel, told apart by the channel's loudness pattern."""

    provenance: Mapping[str, Any] = {"engine": "fake", "model": "none", "model_sha256": None, "options": {}}

    def __init__(self, by_channel: list[list[Word]]) -> None:
        self.by_channel = by_channel
        self.calls = 0

    def transcribe_channel(self, samples_16k: np.ndarray, *, language: str = "zh", initial_prompt: Optional[str] = None) -> list[Word]:
        self.calls += 1
        return self.by_channel[self.calls - 1]


def _tone(seconds: float, f0: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    sig = sum(np.sin(2 * np.pi * f0 * k * t) * (0.7**k) for k in range(1, 10))
    return (0.2 * sig / np.max(np.abs(sig)) + np.random.default_rng(seed).normal(0, 0.003, len(t))).astype(np.float32)


def test_two_channel_call_uses_layout_and_metadata_override() -> None:
    left, right = _tone(4.0, 120), _tone(4.0, 220, seed=1)
    audio = audio_from_samples(np.stack([left, right]), source="call.wav")
    fake = FakeTranscriber([_words("您好这里是信用卡中心", 0.0), _words("喂你好", 2.5)])
    transcript = transcribe_call(audio, fake)
    assert [(t.speaker, t.channel) for t in transcript.turns] == [("agent", 0), ("customer", 1)]
    assert transcript.provenance["speakers"] == {"method": "channels", "confidence": 1.0, "channel_layout": "agent-left"}
    assert transcript.metadata.call_id == "call" and transcript.provenance["asr"]["engine"] == "fake"

    meta = CallMetadata(call_id="c1", agent_id="A1", extra={"channel_layout": "agent-right"})
    fake = FakeTranscriber([_words("您好这里是信用卡中心", 0.0), _words("喂你好", 2.5)])
    swapped = transcribe_call(audio, fake, metadata=meta)
    assert [t.speaker for t in swapped.turns] == ["customer", "agent"]


def test_silence_gives_an_empty_marked_transcript() -> None:
    audio = audio_from_samples(np.zeros(3 * SAMPLE_RATE, np.float32), source="quiet.wav")
    fake = FakeTranscriber([_words("字幕由某某提供", 0.0)])
    transcript = transcribe_call(audio, fake)
    assert transcript.turns == () and transcript.provenance["no_speech"] is True and fake.calls == 0


# --- diarization ----------------------------------------------------------------------------


def test_voice_clusters_separate_two_synthetic_voices() -> None:
    low, high = _tone(1.5, 110), _tone(1.5, 240, seed=1)
    gap = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    samples = np.concatenate([low, gap, high, gap, low, gap, high])
    spans = [(0.0, 1.5), (2.0, 3.5), (4.0, 5.5), (6.0, 7.5)]
    labels, separation = cluster_voices(voice_features(samples, spans), spans)
    assert labels[0] == labels[2] != labels[1] == labels[3]
    assert separation > 1.0


def test_chunks_cut_at_pauses_and_sentence_ends() -> None:
    words = [Word("您好。", 0.0, 0.5), Word("喂", 0.6, 0.8), Word("你", 1.5, 1.7), Word("好", 1.7, 1.9)]
    assert [len(c) for c in chunk_words(words)] == [1, 1, 2]


def test_agent_is_who_identifies_and_verifies() -> None:
    texts = [("喂？", 1), ("您好，我是招商银行信用卡中心的工作人员，工号1234。", 0), ("嗯，什么事？", 1),
             ("请问您是张先生本人吗？", 0), ("是我。", 1)]
    agent, margin = agent_cluster(texts)
    assert agent == 0 and margin > 3


def test_direction_breaks_ties() -> None:
    assert agent_cluster([("你好", 0), ("你好", 1)], direction="inbound")[0] == 0
    assert agent_cluster([("喂", 0), ("你好", 1)], direction="outbound")[0] == 1


def test_diarize_mono_records_method_and_confidence() -> None:
    agent_voice, customer_voice = _tone(2.0, 110), _tone(1.0, 240, seed=1)
    gap = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    samples = np.concatenate([customer_voice, gap, agent_voice, gap, customer_voice, gap, agent_voice])
    words = (_words("喂", 0.0, 1.0) + _words("您好我是信用卡中心", 1.5, 2.0 / 9) + _words("嗯是我", 4.0, 1.0 / 3)
             + _words("请问您是张先生本人吗", 5.5, 0.2))
    turns, attribution = diarize(samples, words)
    assert [t.speaker for t in turns] == ["customer", "agent", "customer", "agent"]
    assert attribution.method == "diarization:spectral" and 0 < attribution.confidence <= 1


# --- CLI ------------------------------------------------------------------------------------


def _cli_app() -> Any:
    import typer

    from callcoach.cli.transcribe import transcribe_command

    app = typer.Typer()
    app.command("transcribe")(transcribe_command)
    app.command("noop")(lambda: None)
    return app


def test_cli_batch_continues_after_a_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sf = pytest.importorskip("soundfile")
    good = tmp_path / "call1.wav"
    sf.write(good, np.stack([_tone(3.0, 120), _tone(3.0, 230, seed=1)], axis=1), SAMPLE_RATE)
    (tmp_path / "call1.meta.json").write_text(json.dumps({"agent_id": "A7", "days_overdue": 12}), encoding="utf-8")
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage" * 10)
    fake = FakeTranscriber([_words("您好这里是信用卡中心", 0.0), _words("喂", 2.0)])
    monkeypatch.setattr("callcoach.cli.transcribe.load_transcriber", lambda *a, **k: fake)
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli_app(), ["transcribe", str(bad), str(good), "--out", str(out)])
    assert result.exit_code == 2
    assert "broken.wav" in result.output and "[2/2] call1.wav" in result.output
    doc = json.loads((out / "call1.json").read_text(encoding="utf-8"))
    assert doc["agent_id"] == "A7" and doc["days_overdue"] == 12
    assert [t["speaker"] for t in doc["turns"]] == ["agent", "customer"] and doc["turns"][0]["words"]
    assert doc["provenance"]["asr"]["engine"] == "fake"
    from callcoach.io import read_transcript

    assert read_transcript(out / "call1.json").turns[0].speaker == "agent"


def test_cli_rejects_unknown_layout(tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli_app(), ["transcribe", "x.wav", "--out", str(tmp_path), "--channel-layout", "left"])
    assert result.exit_code != 0


# --- the real model -------------------------------------------------------------------------


def _model_dir() -> Path:
    env = os.environ.get("CALLCOACH_MODEL")
    if env and Path(env).is_dir():
        return Path(env)
    return shared_dir() / "models" / "faster-whisper-base"


@pytest.fixture(scope="module")
def transcriber() -> Any:
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed (pip install faster-whisper)")
    path = _model_dir()
    if not (path / "model.bin").is_file():
        pytest.skip(f"Whisper model not found at {path} (set CALLCOACH_MODEL or CALLCOACH_SHARED)")
    from callcoach.transcribe import load_transcriber

    return load_transcriber(model=str(path), device="cpu")


@pytest.fixture(scope="module")
def asr_samples() -> list[tuple[Path, str]]:
    folder = shared_dir() / "data" / "asr_zh_samples" / "labeled"
    manifest = folder / "manifest.tsv"
    if not manifest.is_file():
        pytest.skip(f"ASR samples not found at {folder} (set CALLCOACH_SHARED)")
    with manifest.open(encoding="utf-8") as fh:
        return [(folder / row["file"], row["transcript"]) for row in csv.DictReader(fh, delimiter="\t")]


def _chars(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()



def test_real_model_cer_and_simplified_script(transcriber: Any, asr_samples: list[tuple[Path, str]]) -> None:
    from callcoach.audio import load_audio
    from callcoach.normalize import _t2s

    edits = total = 0
    for path, reference in asr_samples:
        words = transcriber.transcribe_channel(load_audio(path).channels[0])
        hypothesis = join_words(words)
        assert _t2s()(hypothesis) == hypothesis, f"{path.name}: traditional characters in the output"
        assert all(w.start_s <= w.end_s and w.probability is not None for w in words)
        edits += edit_distance(_chars(hypothesis), _chars(reference))
        total += len(_chars(reference))
    cer = edits / total
    assert cer < 0.30, f"character error rate {cer:.1%} on {len(asr_samples)} clips"
    provenance = transcriber.provenance
    assert provenance["engine"] == "faster-whisper" and len(provenance["model_sha256"]) == 64
    assert provenance["options"]["word_timestamps"] is True and provenance["callcoach"]


def test_real_model_two_channel_call(transcriber: Any, asr_samples: list[tuple[Path, str]]) -> None:
    from callcoach.audio import load_audio

    by_name = {path.name: text for path, text in asr_samples}
    left_name, right_name = "paddlespeech_zh.wav", "wenet_aishell_BAC009S0724W0121.wav"
    folder = asr_samples[0][0].parent
    left = load_audio(folder / left_name).channels[0]
    right = load_audio(folder / right_name).channels[0]
    offset = int(6.0 * SAMPLE_RATE)
    stereo = np.zeros((2, offset + len(right) + SAMPLE_RATE), np.float32)
    stereo[0, : len(left)] = left
    stereo[1, offset : offset + len(right)] = right
    transcript = transcribe_call(audio_from_samples(stereo, source="two.wav"), transcriber, channel_layout="agent-right")
    customer = "".join(t.text for t in transcript.turns if t.speaker == "customer")
    agent = "".join(t.text for t in transcript.turns if t.speaker == "agent")
    assert _overlap(customer, by_name[left_name]) > 0.6 and _overlap(agent, by_name[right_name]) > 0.6
    agent_turns = [t for t in transcript.turns if t.speaker == "agent"]
    assert agent_turns and all(t.channel == 1 and (t.start_s or 0) >= 5.5 for t in agent_turns)
    assert transcript.turns[0].speaker == "customer"


def _overlap(hypothesis: str, reference: str) -> float:
    ref = _chars(reference)
    return 1 - edit_distance(_chars(hypothesis), ref) / len(ref)

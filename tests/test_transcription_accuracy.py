"""End-to-end accuracy on the sample recordings: recognition, speaker attribution, talk share.

One two-channel call (sample_05, the shortest whose talk share lands well within the target)
and the mono mix (sample_01_compliant_plan_mono) are transcribed with callcoach's defaults and
the real model (../shared/models/faster-whisper-base, or $CALLCOACH_MODEL when it is a
directory), then compared with their ``.truth.json`` by the measures of
``benchmarks/bench_sample_audio.py``. Skips with the reason when the model, faster-whisper or
the samples are absent. About 45 s on 2 CPU cores.

Measured (CPU, int8): sample_05 CER 0.15, words attributed 99.7 %, agent share 58.0 % vs
57.5 %; mono CER 0.12, words attributed 99.6 %, agent share 64.4 % vs 63.6 %.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_audio"
TWO_CHANNEL = "sample_05_relative_disclosure"
MONO = "sample_01_compliant_plan_mono"

MIN_ATTR_TWO_CHANNEL = 0.98
MIN_ATTR_MONO = 0.90  # the target is 0.85; measured 0.996 with the resegmenting diarization
MAX_SHARE_POINTS = 0.03
MAX_CER = 0.30  # measured 0.12-0.15 with Whisper base; loose, recognition is not what is tested here


def _model_dir() -> Path:
    env = os.environ.get("CALLCOACH_MODEL")
    if env and Path(env).is_dir():
        return Path(env)
    shared = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared"))
    return shared / "models" / "faster-whisper-base"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_sample_audio", ROOT / "benchmarks" / "bench_sample_audio.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> Any:
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
    pytest.importorskip("opencc", reason="OpenCC is needed to normalise the script")
    model = _model_dir()
    if not (model / "model.bin").is_file():
        pytest.skip(f"no faster-whisper model at {model} (set CALLCOACH_MODEL or CALLCOACH_SHARED)")
    for stem in (TWO_CHANNEL, MONO):
        for suffix in (".flac", ".truth.json"):
            if not (SAMPLES / f"{stem}{suffix}").is_file():
                pytest.skip(f"sample recording {stem}{suffix} is missing")
    return _bench()


@pytest.fixture(scope="module")
def transcriber(bench: Any) -> Any:
    return bench.CachingTranscriber(str(_model_dir()), None)  # no cache: recognise for real


@pytest.fixture(scope="module")
def results(bench: Any, transcriber: Any) -> dict[str, dict[str, Any]]:
    return {stem: bench.evaluate(stem, transcriber) for stem in (TWO_CHANNEL, MONO)}


def _cer(row: dict[str, Any]) -> float:
    return float(row["edits"]) / max(int(row["ref_chars"]), 1)


def test_two_channel_call_attribution_share_and_cer(results: dict[str, dict[str, Any]]) -> None:
    row = results[TWO_CHANNEL]
    assert row["channels"] == 2
    assert row["attr"] >= MIN_ATTR_TWO_CHANNEL, row
    assert row["share"] is not None and abs(row["share"] - row["truth_share"]) <= MAX_SHARE_POINTS, row
    assert _cer(row) < MAX_CER, row
    assert row["trad"] == 0


def test_mono_call_diarization(results: dict[str, dict[str, Any]]) -> None:
    row = results[MONO]
    assert row["channels"] == 1
    assert row["speakers"]["method"].startswith("diarization")
    assert row["speakers"]["speakers_found"] == 2
    assert row["attr"] >= MIN_ATTR_MONO, row
    assert row["share"] is not None and abs(row["share"] - row["truth_share"]) <= MAX_SHARE_POINTS, row
    assert _cer(row) < MAX_CER, row
    assert row["trad"] == 0


def test_number_canonicalisation() -> None:
    """The benchmark's number form: spelt amounts and Whisper's digits compare equal (no model needed)."""
    bench = _bench()
    assert bench.canonical_numbers("六千八百八十元") == "6880元"
    assert bench.canonical_numbers("一万二千四百五") == "12450"
    assert bench.canonical_numbers("一千一") == "1100"
    assert bench.canonical_numbers("工号二一零八") == "工号2108"
    assert bench.canonical_numbers("十一月二十日") == "11月20日"

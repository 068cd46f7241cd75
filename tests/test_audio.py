"""Decoding, fake-stereo detection, level normalisation, errors and silence (audio.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="PyAV is not installed (pip install av)")
sf = pytest.importorskip("soundfile", reason="soundfile is not installed (pip install soundfile)")

from callcoach.audio import (  # noqa: E402
    SAMPLE_RATE,
    AudioError,
    audio_from_samples,
    channels_identical,
    load_audio,
    silent_spans,
)
from callcoach.errors import CallcoachError  # noqa: E402


def _voice(seconds: float, rate: int, f0: float = 150.0, level: float = 0.3, seed: int = 0) -> np.ndarray:
    """A speech-like signal: harmonics of f0 with a syllable-rate envelope, plus a little noise."""
    t = np.arange(int(seconds * rate)) / rate
    sig = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    noise = np.random.default_rng(seed).normal(0, 0.01, len(t))
    out = sig * envelope
    return (level * out / np.max(np.abs(out)) + noise).astype(np.float32)


def _write_av(path: Path, samples: np.ndarray, rate: int, codec: str, container: str = "wav") -> None:
    """Write (channels, n) float samples with PyAV using ``codec`` (pcm_mulaw, pcm_alaw, flac …)."""
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.astype(np.float32)), format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_stereo_8k_pcm_is_resampled_per_channel(tmp_path: Path) -> None:
    left, right = _voice(2.0, 8000, f0=120), _voice(2.0, 8000, f0=220, level=0.05, seed=1)
    path = tmp_path / "call.wav"
    sf.write(path, np.stack([left, right], axis=1), 8000, subtype="PCM_16")
    audio = load_audio(path)
    assert audio.sample_rate == SAMPLE_RATE and audio.source_sample_rate == 8000
    assert audio.n_channels == 2 and not audio.channels_identical
    assert all(len(c) == pytest.approx(2 * SAMPLE_RATE, abs=200) for c in audio.channels)
    assert all(c.dtype == np.float32 for c in audio.channels)
    assert audio.duration_s == pytest.approx(2.0, abs=0.02)
    assert audio.source == str(path)
    with pytest.raises(ValueError):
        audio.channels[0][0] = 1.0  # read-only: the record is immutable


@pytest.mark.parametrize("codec", ["pcm_mulaw", "pcm_alaw"])
def test_g711_wav(tmp_path: Path, codec: str) -> None:
    path = tmp_path / f"{codec}.wav"
    _write_av(path, _voice(1.5, 8000)[None, :], 8000, codec)
    audio = load_audio(path)
    assert audio.codec == codec and audio.n_channels == 1
    assert audio.duration_s == pytest.approx(1.5, abs=0.05)
    assert not audio.is_silent


def test_flac_and_mp3(tmp_path: Path) -> None:
    flac = tmp_path / "a.flac"
    sf.write(flac, _voice(1.0, 16000), 16000, format="FLAC")
    assert load_audio(flac).duration_s == pytest.approx(1.0, abs=0.02)
    if "libmp3lame" in av.codecs_available or "mp3" in av.codecs_available:
        mp3 = tmp_path / "a.mp3"
        try:
            _write_av(mp3, _voice(1.0, 16000)[None, :], 16000, "libmp3lame" if "libmp3lame" in av.codecs_available else "mp3", container="mp3")
        except Exception:  # this FFmpeg build cannot encode MP3; decoding is what matters
            return
        assert load_audio(mp3).duration_s == pytest.approx(1.0, abs=0.1)


def test_fake_stereo_collapses_to_mono(tmp_path: Path) -> None:
    mono = _voice(2.0, 8000)
    path = tmp_path / "fake.wav"
    sf.write(path, np.stack([mono, mono * 0.95], axis=1), 8000, subtype="PCM_16")
    audio = load_audio(path)
    assert audio.channels_identical and audio.n_channels == 1 and audio.source_channels == 2


def test_channels_identical_needs_correlation_and_level() -> None:
    a = _voice(1.0, 16000)
    assert channels_identical(a, a.copy())
    assert not channels_identical(a, _voice(1.0, 16000, f0=230, seed=3))
    assert not channels_identical(a, a * 0.1)  # same shape, 20 dB apart: a different leg


def test_quiet_customer_is_levelled() -> None:
    loud, quiet = _voice(2.0, 16000, level=0.5), _voice(2.0, 16000, f0=230, level=0.01, seed=2)
    audio = audio_from_samples(np.stack([loud, quiet]))
    rms = [float(np.sqrt(np.mean(c**2))) for c in audio.channels]
    assert audio.gains_db[1] > 15
    assert abs(20 * np.log10(rms[0] / rms[1])) < 3
    assert max(float(np.max(np.abs(c))) for c in audio.channels) <= 1.0


def test_silence_is_marked_and_not_amplified() -> None:
    audio = audio_from_samples(np.random.default_rng(0).normal(0, 1e-4, 3 * SAMPLE_RATE).astype(np.float32))
    assert audio.is_silent and audio.gains_db == (0.0,)


def test_silent_spans() -> None:
    speech = _voice(1.0, SAMPLE_RATE)
    samples = np.concatenate([speech, np.zeros(2 * SAMPLE_RATE, np.float32), speech])
    spans = silent_spans(samples)
    assert len(spans) == 1 and spans[0][0] == pytest.approx(1.0, abs=0.05) and spans[0][1] == pytest.approx(3.0, abs=0.05)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match="empty") as info:
        load_audio(path)
    assert str(path) in str(info.value) and isinstance(info.value, CallcoachError)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError) as info:
        load_audio(path)
    assert str(path) in str(info.value)


def test_truncated_wav(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    sf.write(path, _voice(4.0, 8000), 8000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(AudioError, match="truncated"):
        load_audio(path)


def test_header_only_wav(tmp_path: Path) -> None:
    path = tmp_path / "header.wav"
    sf.write(path, _voice(1.0, 8000), 8000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:44])
    with pytest.raises(AudioError):
        load_audio(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such"):
        load_audio(tmp_path / "nope.wav")


def test_duration_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, _voice(3.0, 8000), 8000, subtype="PCM_16")
    with pytest.raises(AudioError, match="limit"):
        load_audio(path, max_duration_s=2.0)


def test_amr_when_available(tmp_path: Path) -> None:
    if "libopencore_amrnb" not in av.codecs_available:
        pytest.skip("this FFmpeg build has no AMR-NB encoder to make a fixture")
    path = tmp_path / "a.amr"
    try:
        _write_av(path, _voice(1.0, 8000)[None, :], 8000, "libopencore_amrnb", container="amr")
    except Exception as exc:
        pytest.skip(f"cannot encode an AMR fixture here ({type(exc).__name__})")
    assert load_audio(path).duration_s == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("codec,container,suffix", [("aac", "mp4", ".m4a"), ("libopus", "ogg", ".opus")])
def test_m4a_and_opus_two_channel(tmp_path: Path, codec: str, container: str, suffix: str) -> None:
    # Call-centre exports are often AAC in M4A or Opus; both sides must survive as two channels.
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg build has no {codec} encoder to make a fixture")
    rate = 48000 if codec == "libopus" else 16000
    left, right = _voice(2.0, rate, f0=120), _voice(2.0, rate, f0=230, level=0.1, seed=2)
    path = tmp_path / f"call{suffix}"
    try:
        _write_av(path, np.stack([left, right]), rate, codec, container=container)
    except Exception as exc:
        pytest.skip(f"cannot encode a {suffix} fixture here ({type(exc).__name__})")
    audio = load_audio(path)
    assert audio.n_channels == 2 and not audio.channels_identical
    assert audio.sample_rate == SAMPLE_RATE and audio.source_sample_rate == rate
    # AAC and Opus pad the stream with encoder priming and whole frames (up to ~0.12 s here).
    assert 1.95 <= audio.duration_s <= 2.15
    assert audio.codec

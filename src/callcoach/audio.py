"""Decode call recordings into 16 kHz float32 channels, ready for speech recognition.

Decoding is in-process with PyAV (FFmpeg): WAV (PCM, A-law, µ-law, any rate), FLAC, MP3,
M4A/AAC, OGG (Vorbis, Opus) and AMR when the FFmpeg build has the decoder. Each channel is
resampled to 16 kHz and levelled on its own, so a quiet customer on a loud agent's line is
not lost. "Fake stereo" (the same signal on both channels) is collapsed to mono, because
treating it as two speakers would attribute every word twice.

Every problem raises :class:`AudioError` naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from callcoach.errors import CallcoachError, MissingDependencyError

SAMPLE_RATE = 16_000
"""The sample rate of decoded audio (what Whisper and the VAD expect)."""

DEFAULT_MAX_DURATION_S = 3 * 3600.0
"""Recordings longer than this are refused (a call is never three hours; a stuck recorder is)."""

TARGET_LEVEL_DBFS = -20.0
"""Per-channel speech level after normalisation."""

MAX_GAIN_DB = 30.0
"""Never amplify a channel more than this: beyond it we only amplify line noise."""

SILENCE_DBFS = -50.0
"""Frames quieter than this carry no speech (phone lines' noise floor is about -60 dBFS)."""

MIN_SPEECH_S = 0.2
"""A channel with less active audio than this is treated as silent."""

FAKE_STEREO_CORRELATION = 0.98
FAKE_STEREO_MAX_LEVEL_DIFF_DB = 3.0

_FRAME_S = 0.03
_TRUNCATION_TOLERANCE = 0.9


class AudioError(CallcoachError):
    """A recording cannot be decoded: missing, empty, corrupt, truncated, unsupported or too long."""


@dataclass(frozen=True, slots=True)
class Audio:
    """A decoded recording: one read-only 16 kHz float32 array per channel.

    ``channels_identical`` is True when the file was stereo with the same signal on both
    sides; ``channels`` then holds that one signal. ``silent`` marks channels without speech
    energy; ``gains_db`` the level normalisation applied to each channel.
    """

    channels: tuple[np.ndarray, ...]
    sample_rate: int
    duration_s: float
    source: str
    channels_identical: bool = False
    source_channels: int = 1
    source_sample_rate: int = SAMPLE_RATE
    codec: str = ""
    gains_db: tuple[float, ...] = ()
    silent: tuple[bool, ...] = ()

    @property
    def is_silent(self) -> bool:
        """True when no channel carries speech energy: there is nothing to transcribe."""
        return all(self.silent) if self.silent else True

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def describe(self) -> dict[str, Any]:
        """Return what was decoded, for a transcript's provenance (no audio content)."""
        return {
            "source": self.source,
            "codec": self.codec,
            "duration_s": round(self.duration_s, 3),
            "source_sample_rate": self.source_sample_rate,
            "source_channels": self.source_channels,
            "channels": self.n_channels,
            "channels_identical": self.channels_identical,
            "gains_db": [round(g, 1) for g in self.gains_db],
            "silent_channels": [i for i, s in enumerate(self.silent) if s],
        }


PathLike = Union[str, Path]


def load_audio(
    path: PathLike,
    *,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    normalize: bool = True,
) -> Audio:
    """Decode a recording into 16 kHz float32 channels.

    Args:
        path: The audio file.
        max_duration_s: Refuse recordings longer than this.
        normalize: Level each channel to TARGET_LEVEL_DBFS (capped at MAX_GAIN_DB).

    Returns:
        The decoded audio; stereo with identical channels comes back as one channel.

    Raises:
        AudioError: The file is missing, empty, not audio, corrupt, truncated or too long.
    """
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise AudioError("no such audio file", path=source)
    if file.stat().st_size == 0:
        raise AudioError("the file is empty (0 bytes)", path=source)
    _check_wav_complete(file, source)
    raw, rate, codec, declared_s = _decode(file, source, max_duration_s)
    return audio_from_samples(raw, source=source, source_sample_rate=rate, codec=codec,
                              normalize=normalize, declared_duration_s=declared_s)


def audio_from_samples(
    samples: np.ndarray,
    *,
    source: str = "<samples>",
    source_sample_rate: int = SAMPLE_RATE,
    codec: str = "",
    normalize: bool = True,
    declared_duration_s: Optional[float] = None,
) -> Audio:
    """Build an Audio record from 16 kHz samples shaped (channels, n) or (n,).

    Collapses fake stereo, marks silent channels and levels each channel.

    Raises:
        AudioError: There are no samples, or fewer than the file header declared (truncated).
    """
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    if data.shape[1] == 0:
        raise AudioError("the file contains no audio samples", path=source)
    duration_s = data.shape[1] / SAMPLE_RATE
    if declared_duration_s and duration_s < declared_duration_s * _TRUNCATION_TOLERANCE - 0.5:
        raise AudioError(
            f"the recording is truncated or corrupt: its header declares {declared_duration_s:.1f} s "
            f"but only {duration_s:.1f} s could be decoded", path=source)
    source_channels = data.shape[0]
    identical = False
    if source_channels == 2 and channels_identical(data[0], data[1]):
        identical = True
        data = data.mean(axis=0, keepdims=True)
    elif source_channels > 2:
        # Call recorders write mono or stereo; more channels are a mixdown we cannot attribute.
        data = data.mean(axis=0, keepdims=True)
    channels: list[np.ndarray] = []
    gains: list[float] = []
    silent: list[bool] = []
    for channel in data:
        is_silent = speech_seconds(channel) < MIN_SPEECH_S
        gain_db = 0.0 if (is_silent or not normalize) else normalization_gain_db(channel)
        out = channel * np.float32(10 ** (gain_db / 20)) if gain_db else channel.copy()
        np.clip(out, -1.0, 1.0, out=out)
        out.setflags(write=False)
        channels.append(out)
        gains.append(gain_db)
        silent.append(is_silent)
    return Audio(
        channels=tuple(channels),
        sample_rate=SAMPLE_RATE,
        duration_s=duration_s,
        source=source,
        channels_identical=identical,
        source_channels=source_channels,
        source_sample_rate=source_sample_rate,
        codec=codec,
        gains_db=tuple(gains),
        silent=tuple(silent),
    )


def channels_identical(
    left: np.ndarray,
    right: np.ndarray,
    *,
    min_correlation: float = FAKE_STEREO_CORRELATION,
    max_level_diff_db: float = FAKE_STEREO_MAX_LEVEL_DIFF_DB,
) -> bool:
    """Return True when two channels carry the same signal (correlated and at about one level)."""
    a = left.astype(np.float64) - float(np.mean(left))
    b = right.astype(np.float64) - float(np.mean(right))
    ea, eb = float(np.dot(a, a)), float(np.dot(b, b))
    if ea == 0.0 and eb == 0.0:
        return True
    if ea == 0.0 or eb == 0.0:
        return False
    correlation = float(np.dot(a, b)) / math.sqrt(ea * eb)
    level_diff_db = abs(10 * math.log10(ea / eb))
    return correlation > min_correlation and level_diff_db <= max_level_diff_db


def frame_levels_db(samples: np.ndarray, sample_rate: int = SAMPLE_RATE, frame_s: float = _FRAME_S) -> np.ndarray:
    """Return the RMS level (dBFS) of consecutive frames of ``frame_s`` seconds."""
    size = max(1, int(sample_rate * frame_s))
    n = len(samples) // size
    if n == 0:
        frames = np.asarray(samples, dtype=np.float64)[None, :]
    else:
        frames = np.asarray(samples[: n * size], dtype=np.float64).reshape(n, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-10)))


def speech_seconds(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Return how many seconds of the channel are louder than SILENCE_DBFS."""
    if len(samples) == 0:
        return 0.0
    levels = frame_levels_db(samples, sample_rate)
    return float(np.count_nonzero(levels > SILENCE_DBFS)) * _FRAME_S


def silent_spans(samples: np.ndarray, sample_rate: int = SAMPLE_RATE, *, min_span_s: float = 1.0) -> list[tuple[float, float]]:
    """Return (start_s, end_s) stretches of at least ``min_span_s`` quieter than SILENCE_DBFS.

    Nothing can be said in these stretches: words recognised there are hallucinations.
    """
    levels = frame_levels_db(samples, sample_rate)
    quiet = levels <= SILENCE_DBFS
    spans: list[tuple[float, float]] = []
    start: Optional[int] = None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * _FRAME_S >= min_span_s:
                spans.append((start * _FRAME_S, i * _FRAME_S))
            start = None
    return spans


def normalization_gain_db(samples: np.ndarray, *, target_dbfs: float = TARGET_LEVEL_DBFS) -> float:
    """Return the gain (dB) that brings the channel's speech to ``target_dbfs``.

    The speech level is the power mean of the active frames (above SILENCE_DBFS); the gain
    is capped at MAX_GAIN_DB and limited so that at most 0.1 % of the samples would clip.
    """
    levels = frame_levels_db(samples)
    active = levels[levels > SILENCE_DBFS]
    if active.size == 0:
        return 0.0
    level = 10 * math.log10(float(np.mean(10 ** (active / 10))))
    gain = min(target_dbfs - level, MAX_GAIN_DB)
    peak = float(np.percentile(np.abs(samples), 99.9))
    if peak > 0:
        gain = min(gain, 20 * math.log10(0.99 / peak))
    return round(gain, 2)


def _decode(file: Path, source: str, max_duration_s: float) -> tuple[np.ndarray, int, str, Optional[float]]:
    """Decode every audio frame, resampled to 16 kHz planar float; return (channels, n) samples."""
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a declared dependency
        raise MissingDependencyError("av", "asr", "Decoding audio") from exc
    try:
        container = av.open(str(file), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(f"cannot open the recording: not a supported audio file or corrupt ({_reason(exc)})",
                         path=source) from exc
    with container:
        if not container.streams.audio:
            raise AudioError("the file has no audio stream", path=source)
        stream = container.streams.audio[0]
        declared_s = _declared_duration(container, stream)
        if declared_s is not None and declared_s > max_duration_s:
            raise AudioError(_too_long(declared_s, max_duration_s), path=source)
        codec = stream.codec_context.name if stream.codec_context else ""
        rate = int(stream.rate or stream.sample_rate or 0)
        n_channels = int(stream.channels or 1)
        layout = "mono" if n_channels == 1 else ("stereo" if n_channels == 2 else None)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray()
                    chunks.append(chunk)
                    total += chunk.shape[1]
                if total / SAMPLE_RATE > max_duration_s:
                    raise AudioError(_too_long(total / SAMPLE_RATE, max_duration_s), path=source)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            raise AudioError(f"the recording is corrupt: decoding failed after {total / SAMPLE_RATE:.1f} s "
                             f"({_reason(exc)})", path=source) from exc
    if not chunks:
        raise AudioError("the file contains no audio samples (truncated or empty stream)", path=source)
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    return samples, rate, codec, declared_s


def _check_wav_complete(file: Path, source: str) -> None:
    """Raise when a RIFF/WAVE file holds fewer data bytes than its header declares.

    FFmpeg decodes a cut WAV without complaint; a cut call recording loses its end silently.
    Streaming placeholders (0 or 0xFFFFFFFF) are accepted.
    """
    with file.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        size = file.stat().st_size
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return
            declared = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                present = size - fh.tell()
                if declared not in (0, 0xFFFFFFFF) and present < declared:
                    raise AudioError(
                        f"the recording is truncated: its header declares {declared} bytes of audio "
                        f"but the file holds {present}", path=source)
                return
            fh.seek(declared + (declared & 1), 1)


def _declared_duration(container: Any, stream: Any) -> Optional[float]:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


def _too_long(duration_s: float, max_duration_s: float) -> str:
    return (f"the recording is {duration_s / 60:.0f} min long, over the limit of {max_duration_s / 60:.0f} min "
            "(raise it with --max-duration)")


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__

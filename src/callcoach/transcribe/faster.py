"""The faster-whisper engine (CTranslate2): int8 on CPU, float16 on CUDA.

Decoding settings favour phone calls over subtitles: Mandarin forced, no prompt by default
(see :data:`callcoach.transcribe.DOMAIN_PROMPT`), Silero VAD on, word timestamps on (turns are cut from word times: segment
times are unreliable once VAD has cut the audio). Results then pass the hallucination guards
of :func:`callcoach.transcribe.filter_segments` and OpenCC t2s. (``condition_on_previous_text``
stays on: turning it off made faster-whisper 1.2 about ten times slower on short clips.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import numpy as np

from callcoach import __version__
from callcoach.audio import SAMPLE_RATE, silent_spans
from callcoach.errors import MissingDependencyError, ModelError
from callcoach.models import Word
from callcoach.transcribe import DEFAULT_INITIAL_PROMPT, AsrSegment, asr_segment, filter_segments, model_sha256

class FasterWhisperTranscriber:
    """Transcribe one channel at a time with faster-whisper."""

    engine = "faster-whisper"

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        compute_type: Optional[str] = None,
        beam_size: int = 5,
        vad: bool = True,
        cpu_threads: int = 0,
    ) -> None:
        try:
            import ctranslate2
            import faster_whisper
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise MissingDependencyError("faster-whisper", "asr", "Transcribing audio") from exc
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        if device not in ("cpu", "cuda"):
            raise ModelError(f"unknown device {device!r}; expected auto, cpu or cuda")
        self.device = device
        self.compute_type = compute_type or ("float16" if device == "cuda" else "int8")
        self.beam_size = beam_size
        self.vad = vad
        model_dir = _model_dir(model)
        try:
            self._model = WhisperModel(str(model_dir), device=device, compute_type=self.compute_type,
                                       cpu_threads=cpu_threads)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load the Whisper model at {model_dir}: {exc}") from exc
        self._provenance: dict[str, Any] = {
            "engine": self.engine,
            "engine_version": faster_whisper.__version__,
            "ctranslate2": ctranslate2.__version__,
            "model": model,
            "model_sha256": model_sha256(model_dir),
            "device": device,
            "compute_type": self.compute_type,
            "options": self.options(),
            "callcoach": __version__,
        }

    @property
    def provenance(self) -> Mapping[str, Any]:
        return self._provenance

    def options(self, language: str = "zh", initial_prompt: Optional[str] = DEFAULT_INITIAL_PROMPT) -> dict[str, Any]:
        """Return the decoding options passed to faster-whisper (recorded in provenance)."""
        return {
            "language": language,
            "beam_size": self.beam_size,
            "vad_filter": self.vad,
            "word_timestamps": True,
            "initial_prompt": initial_prompt,
        }

    def transcribe_channel(
        self,
        samples_16k: np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: Optional[str] = DEFAULT_INITIAL_PROMPT,
    ) -> list[Word]:
        """Return the words said in one 16 kHz float32 channel, simplified, in time order."""
        samples = np.ascontiguousarray(samples_16k, dtype=np.float32)
        if samples.size < SAMPLE_RATE // 10:
            return []
        segments, _info = self._model.transcribe(samples, **self.options(language, initial_prompt))
        kept = filter_segments(_segments(segments), silent_spans=silent_spans(samples), prompt=initial_prompt)
        return [w for seg in kept for w in seg.words]


def _segments(segments: Iterable[Any]) -> Iterable[AsrSegment]:
    """Convert faster-whisper segments into AsrSegment records with simplified, timed words."""
    for seg in segments:
        yield asr_segment(
            seg.text, seg.start, seg.end, ((w.word, w.start, w.end, w.probability) for w in (seg.words or ())),
            no_speech_prob=seg.no_speech_prob, avg_logprob=seg.avg_logprob, compression_ratio=seg.compression_ratio)


def _model_dir(model: str) -> Path:
    """Return the local directory of a model given by path or name (names must be cached locally)."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path} is not a CTranslate2 Whisper model directory (no model.bin)")
        return path
    if path.exists() or model.startswith((".", "/", "~")):
        raise ModelError(f"Whisper model not found at {model}; set CALLCOACH_MODEL to a model directory")
    from faster_whisper.utils import download_model

    try:
        return Path(download_model(model, local_files_only=True))
    except Exception:
        pass
    try:
        return Path(download_model(model))
    except Exception as exc:
        raise ModelError(
            f"Whisper model {model!r} is not cached locally and cannot be downloaded ({type(exc).__name__}); "
            "set CALLCOACH_MODEL (or --model) to a local faster-whisper model directory") from exc

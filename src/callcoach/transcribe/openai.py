"""The openai-whisper engine (PyTorch): the reference implementation, float32 on CPU, float16 on CUDA.

It is slower than faster-whisper and here for comparison: the same decoding settings (Mandarin
forced, beam 5, best-of 5 on temperature fallback, word timestamps, no prompt by default) and
the same guards (:func:`callcoach.transcribe.filter_segments`, OpenCC t2s through
:func:`callcoach.normalize.normalize_text`). openai-whisper has no voice-activity detector:
``vad`` is accepted for the common interface and recorded as off.

The model is an openai-whisper checkpoint file, an official model name already in
openai-whisper's download cache, or a faster-whisper (CTranslate2) model directory, which is
converted once (:func:`callcoach.transcribe.convert.convert_ct2_to_openai`) into
``openai-whisper/`` in callcoach's cache directory (``$CALLCOACH_CACHE_DIR``, else
``$XDG_CACHE_HOME/callcoach``), or ``cache_dir``.

Install: ``pip install torch`` (a CPU build will do) then ``pip install --no-deps openai-whisper
tiktoken numba more-itertools tqdm`` (``--no-deps`` keeps triton out), or ``callcoach[openai]``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from callcoach import __version__
from callcoach.audio import SAMPLE_RATE, silent_spans
from callcoach.errors import MissingDependencyError, ModelError
from callcoach.models import Word
from callcoach.transcribe import (
    DEFAULT_INITIAL_PROMPT,
    AsrSegment,
    asr_segment,
    file_sha256,
    filter_segments,
    model_sha256,
)
from callcoach.transcribe.convert import alignment_heads_dump

__all__ = ["OpenAIWhisperTranscriber"]

COMPUTE_TYPES = ("float32", "float16")


class OpenAIWhisperTranscriber:
    """Transcribe one channel at a time with openai-whisper."""

    engine = "openai-whisper"

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        compute_type: Optional[str] = None,
        beam_size: int = 5,
        vad: bool = False,
        cpu_threads: int = 0,
        cache_dir: Optional[Path] = None,
    ) -> None:
        try:
            import torch
            import whisper
        except ImportError as exc:
            raise MissingDependencyError("openai-whisper", "openai", "Transcribing with openai-whisper") from exc
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device not in ("cpu", "cuda"):
            raise ModelError(f"unknown device {device!r}; expected auto, cpu or cuda")
        compute_type = compute_type or ("float16" if device == "cuda" else "float32")
        if compute_type not in COMPUTE_TYPES:
            raise ModelError(f"openai-whisper computes in {' or '.join(COMPUTE_TYPES)}, not {compute_type!r}")
        if compute_type == "float16" and device == "cpu":
            raise ModelError("openai-whisper cannot compute in float16 on the CPU; use float32")
        if cpu_threads > 0:
            torch.set_num_threads(cpu_threads)
        self.device = device
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.vad = False  # openai-whisper has no VAD; the silence guard of filter_segments still applies
        self._whisper = whisper
        name, checkpoint, source = _checkpoint(model, Path(cache_dir) if cache_dir else _cache_dir())
        try:
            self._model = whisper.load_model(name, device=device)
        except (RuntimeError, ValueError, OSError, KeyError) as exc:
            raise ModelError(f"cannot load the openai-whisper model {model!r}: {type(exc).__name__}: {exc}") from exc
        heads = _saved_alignment_heads(checkpoint) if name == str(checkpoint) else None
        if heads:
            dims = self._model.dims
            self._model.set_alignment_heads(alignment_heads_dump(heads, dims.n_text_layer, dims.n_text_head))
        self._provenance: dict[str, Any] = {
            "engine": self.engine,
            "engine_version": whisper.__version__,
            "torch": torch.__version__,
            "model": model,
            "model_file": str(checkpoint),
            "model_sha256": file_sha256(checkpoint),
            "device": device,
            "compute_type": compute_type,
            "options": self.options(),
            "callcoach": __version__,
        }
        if source is not None:
            self._provenance["converted_from"] = {"model": str(source), "model_sha256": model_sha256(source)}

    @property
    def provenance(self) -> Mapping[str, Any]:
        return self._provenance

    def options(self, language: str = "zh", initial_prompt: Optional[str] = DEFAULT_INITIAL_PROMPT) -> dict[str, Any]:
        """Return the decoding options passed to ``whisper.transcribe`` (recorded in provenance)."""
        return {
            "language": language,
            "task": "transcribe",
            "beam_size": self.beam_size,
            "best_of": 5,
            "vad_filter": False,
            "word_timestamps": True,
            "condition_on_previous_text": True,
            "initial_prompt": initial_prompt,
            "fp16": self.compute_type == "float16",
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
        options = self.options(language, initial_prompt)
        options.pop("vad_filter")
        # whisper wraps the array with torch.from_numpy, which warns on a read-only buffer.
        audio = samples if samples.flags.writeable else samples.copy()
        result = self._whisper.transcribe(self._model, audio, verbose=None, **options)
        kept = filter_segments(_segments(result.get("segments", ())), silent_spans=silent_spans(samples),
                               prompt=initial_prompt)
        return [w for seg in kept for w in seg.words]


def _segments(segments: Iterable[Mapping[str, Any]]) -> Iterable[AsrSegment]:
    """Convert openai-whisper's segment dicts into AsrSegment records with simplified, timed words."""
    for seg in segments:
        yield asr_segment(
            seg["text"], seg["start"], seg["end"],
            ((w["word"], w["start"], w["end"], w["probability"]) for w in (seg.get("words") or ())),
            no_speech_prob=seg["no_speech_prob"], avg_logprob=seg["avg_logprob"],
            compression_ratio=seg["compression_ratio"])


def _cache_dir() -> Path:
    """Where converted checkpoints go: callcoach's cache directory (``$CALLCOACH_CACHE_DIR`` honoured)."""
    from callcoach.segment import cache_dir

    return cache_dir() / "openai-whisper"


def _checkpoint(model: str, cache_dir: Path) -> tuple[str, Path, Optional[Path]]:
    """Return (what to pass whisper.load_model, the checkpoint file, the CTranslate2 directory or None)."""
    path = Path(model).expanduser()
    if path.is_file():
        return str(path), path, None
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path} is neither an openai-whisper checkpoint nor a CTranslate2 Whisper "
                             "model directory (no model.bin)")
        from callcoach.transcribe.convert import convert_ct2_to_openai

        digest = model_sha256(path) or "unknown"
        target = cache_dir / f"{path.resolve().name}-{digest[:16]}.pt"
        if not target.is_file():
            convert_ct2_to_openai(path, target)
        return str(target), target, path
    if path.exists() or model.startswith((".", "/", "~")):
        raise ModelError(f"Whisper model not found at {model}; set CALLCOACH_MODEL to a model file or directory")
    import whisper

    if model not in whisper.available_models():
        raise ModelError(f"unknown openai-whisper model {model!r}; expected a checkpoint file, a faster-whisper "
                         f"model directory or one of {', '.join(whisper.available_models())}")
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"
    url = whisper._MODELS[model]
    cached = root / os.path.basename(url)
    if not cached.is_file():
        raise ModelError(f"openai-whisper model {model!r} is not in {root} and model hubs may be unreachable; "
                         "set CALLCOACH_MODEL (or --model) to a local faster-whisper model directory, which is "
                         "converted once")
    return model, cached, None  # by name: whisper.load_model checks its hash and sets the alignment heads


def _saved_alignment_heads(checkpoint: Path) -> Optional[Sequence[Sequence[int]]]:
    """Return the (layer, head) pairs convert.py stores in a checkpoint, None when absent."""
    import torch

    try:
        saved = torch.load(str(checkpoint), map_location="cpu", mmap=True, weights_only=True)
    except Exception:  # an older checkpoint format: whisper.load_model has read it, the default heads stay
        return None
    heads = saved.get("alignment_heads") if isinstance(saved, dict) else None
    return heads or None

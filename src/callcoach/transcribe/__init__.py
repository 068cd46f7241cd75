"""Speech recognition: one module per engine behind the :class:`Transcriber` protocol.

An engine turns one channel of 16 kHz float32 samples into timed :class:`~callcoach.models.Word`
records (simplified Chinese, with recogniser probabilities). The engine-independent guards
against Whisper's hallucinations live here, over plain :class:`AsrSegment` records, so they are
tested without a model.

The model comes from ``load_transcriber(model=...)``, else the ``CALLCOACH_MODEL`` environment
variable (a model name or a local model directory), else ``"base"``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Protocol, Sequence

import numpy as np

from callcoach.models import Word

__all__ = [
    "DEFAULT_INITIAL_PROMPT",
    "DEFAULT_MODEL",
    "DOMAIN_PROMPT",
    "ENGINES",
    "AsrSegment",
    "Transcriber",
    "filter_segments",
    "is_credit_line",
    "load_transcriber",
    "model_sha256",
    "resolve_model",
]

DEFAULT_MODEL = "base"
MODEL_ENV = "CALLCOACH_MODEL"
ENGINES: tuple[str, ...] = ("faster-whisper", "openai-whisper")

DOMAIN_PROMPT = "以下是银行信用卡中心与客户的普通话电话录音，内容涉及还款、逾期、分期。"
"""A simplified-Chinese domain prompt (``--prompt``). Not the default: with Whisper base on the
shared clips any prompt tripled the character error rate (the decoder repeats the sentence or
echoes the prompt) and doubled decoding time; OpenCC t2s gives simplified script without it."""

DEFAULT_INITIAL_PROMPT: Optional[str] = None

NO_SPEECH_PROB = 0.6
LOW_AVG_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4

# Whisper learnt these from subtitled video; on phone lines they appear in silence and noise.
_CREDIT_PATTERNS = [
    r"字幕.{0,12}(提供|制作|校对|翻译)",
    r"(提供|制作)字幕",
    r"请?不吝点赞",
    r"点赞.{0,4}订阅",
    r"订阅.{0,4}(转发|打赏|频道)",
    r"明镜.{0,3}点点",
    r"栏目.{0,3}(制作|出品)",
    r"(谢谢|感谢)(大家)?(收看|观看)",
    r"优优独播剧场",
    r"YoYo Television",
    r"中文字幕",
    r"字幕志愿者",
    r"本(视频|节目).{0,6}(提供|出品)",
    r"Amara\.org",
]
_CREDITS = re.compile("|".join(_CREDIT_PATTERNS), re.IGNORECASE)
_TEXT_KEY = re.compile(r"[\W_]+", re.UNICODE)


class Transcriber(Protocol):
    """A speech recogniser for one channel of a call."""

    @property
    def provenance(self) -> Mapping[str, Any]:
        """engine, engine version, model, model_sha256, device, compute_type, options, callcoach."""
        ...

    def transcribe_channel(
        self,
        samples_16k: np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: Optional[str] = DEFAULT_INITIAL_PROMPT,
    ) -> list[Word]:
        """Return the words said in one 16 kHz float32 channel, in time order."""
        ...


@dataclass(frozen=True, slots=True)
class AsrSegment:
    """One decoded segment as an engine reports it, before the hallucination guards."""

    text: str
    start_s: float
    end_s: float
    words: tuple[Word, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0


def asr_segment(
    text: str,
    start_s: float,
    end_s: float,
    words: Iterable[tuple[str, float, float, float]],
    *,
    no_speech_prob: float,
    avg_logprob: float,
    compression_ratio: float,
) -> AsrSegment:
    """Build an AsrSegment from an engine's raw values: text simplified (OpenCC), words as
    (text, start, end, probability) rounded, and words that normalise to nothing dropped."""
    from callcoach.normalize import normalize_text

    kept = tuple(
        Word(text=t, start_s=round(float(a), 3), end_s=round(float(b), 3), probability=round(float(p), 4))
        for raw, a, b, p in words
        if (t := normalize_text(raw))
    )
    return AsrSegment(
        text=normalize_text(text), start_s=float(start_s), end_s=float(end_s), words=kept,
        no_speech_prob=float(no_speech_prob), avg_logprob=float(avg_logprob),
        compression_ratio=float(compression_ratio))


def is_credit_line(text: str) -> bool:
    """Return True for subtitle credits Whisper invents on silence ("字幕由…提供", "请不吝点赞订阅")."""
    return bool(_CREDITS.search(text))


def filter_segments(
    segments: Iterable[AsrSegment],
    *,
    silent_spans: Sequence[tuple[float, float]] = (),
    prompt: Optional[str] = None,
    no_speech_prob: float = NO_SPEECH_PROB,
    low_avg_logprob: float = LOW_AVG_LOGPROB,
    max_compression_ratio: float = MAX_COMPRESSION_RATIO,
) -> list[AsrSegment]:
    """Drop the segments (and words) that are Whisper hallucinations, not speech.

    Dropped: a probable non-speech segment decoded with low confidence; a segment whose text
    compresses too well (a loop: "好的好的好的…"); a repeat of the previous segment's text (three
    characters or more); a
    subtitle credit; an echo of the initial prompt; and any word lying wholly inside a
    stretch of pure silence (a segment left without words goes too).
    """
    kept: list[AsrSegment] = []
    prompt_key = _key(prompt or "")
    last_key: Optional[str] = None
    for seg in segments:
        key = _key(seg.text)
        if not key:
            continue
        if seg.no_speech_prob > no_speech_prob and seg.avg_logprob < low_avg_logprob:
            continue
        if seg.compression_ratio > max_compression_ratio:
            continue
        if key == last_key and len(key) >= 3:  # a loop; a repeated "喂" is real
            continue
        if is_credit_line(seg.text):
            continue
        if prompt_key and len(key) >= 4 and key in prompt_key:
            continue
        if seg.words and silent_spans:
            words = tuple(w for w in seg.words if not _inside_any(w, silent_spans))
            if not words:
                continue
            if len(words) != len(seg.words):
                seg = AsrSegment(
                    text="".join(w.text for w in words), start_s=words[0].start_s, end_s=words[-1].end_s,
                    words=words, no_speech_prob=seg.no_speech_prob, avg_logprob=seg.avg_logprob,
                    compression_ratio=seg.compression_ratio)
        kept.append(seg)
        last_key = key
    return kept


def _key(text: str) -> str:
    return _TEXT_KEY.sub("", text).lower()


def _inside_any(word: Word, spans: Sequence[tuple[float, float]]) -> bool:
    return any(start <= word.start_s and word.end_s <= end for start, end in spans)


def resolve_model(model: Optional[str] = None) -> str:
    """Return the model to load: the argument, else $CALLCOACH_MODEL, else DEFAULT_MODEL."""
    return model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


_HASHES: dict[tuple[str, int, float], str] = {}


def model_sha256(model_dir: Path) -> Optional[str]:
    """Return the SHA-256 of a model directory's weights (``model.bin``), None when absent."""
    weights = Path(model_dir) / "model.bin"
    return file_sha256(weights) if weights.is_file() else None


def file_sha256(path: Path) -> str:
    """Return a file's SHA-256, cached per (path, size, mtime): model files are large."""
    stat = path.stat()
    cache_key = (str(path.resolve()), stat.st_size, stat.st_mtime)
    if cache_key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _HASHES[cache_key] = digest.hexdigest()
    return _HASHES[cache_key]


def load_transcriber(
    engine: str = "faster-whisper",
    model: Optional[str] = None,
    device: str = "auto",
    compute_type: Optional[str] = None,
    beam_size: int = 5,
    vad: bool = True,
) -> Transcriber:
    """Load a speech recogniser.

    Args:
        engine: One of ENGINES.
        model: A model name ("base", "small" …) or a local model directory; None reads
            $CALLCOACH_MODEL, else "base".
        device: "auto" (CUDA when available), "cpu" or "cuda".
        compute_type: None picks int8 on CPU and float16 on CUDA.
        beam_size: Beam width of the decoder.
        vad: Skip non-speech with the engine's voice-activity detector.

    Raises:
        ConfigError: Unknown engine.
        ModelError: The model cannot be found or loaded.
        MissingDependencyError: The engine's package is not installed.
    """
    from callcoach.errors import ConfigError

    if engine == "faster-whisper":
        from callcoach.transcribe.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(resolve_model(model), device=device, compute_type=compute_type,
                                        beam_size=beam_size, vad=vad)
    if engine == "openai-whisper":
        from callcoach.transcribe.openai import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(resolve_model(model), device=device, compute_type=compute_type,
                                        beam_size=beam_size, vad=vad)
    raise ConfigError(f"unknown ASR engine {engine!r}; expected one of {', '.join(ENGINES)}")

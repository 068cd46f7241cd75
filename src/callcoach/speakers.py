"""Who spoke when: from the channels of a two-channel recording, or by diarization of mono.

Two channels: call recorders put the agent on one side and the customer on the other
(``channel_layout`` "agent-left", the default, or "agent-right"; a call's metadata
``extra["channel_layout"]`` overrides it). Each channel is transcribed alone, split into
turns at pauses, and the turns are merged by time.

Mono: the words are cut into chunks at short pauses and sentence ends, each chunk gets a
voice print (mean MFCCs and median pitch, computed with numpy, no model weights), and the
chunks fall into two clusters. The clusters then seed a resegmentation word by word: each
voice gets a Gaussian model of its frames (MFCCs and pitch), every word is scored by the
likelihood ratio of its frames, and a two-state Viterbi pass over the words assigns them,
with a cost for changing speaker that is high inside a phrase and low at pauses and
punctuation (so a chunk that ran across a speaker change is split, and a single odd word is
not). Which cluster is the agent is decided by what is said (self identification, the
organisation, identity verification in the first turns) and by who spoke first when the
call's direction is known. ``Transcript.provenance["speakers"]`` records the method and a
confidence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence

import numpy as np

from callcoach.audio import SAMPLE_RATE, Audio
from callcoach.errors import ConfigError
from callcoach.models import CallMetadata, Speaker, Transcript, Turn, Word
from callcoach.transcribe import DEFAULT_INITIAL_PROMPT, Transcriber

ChannelLayout = Literal["agent-left", "agent-right"]
CHANNEL_LAYOUTS: tuple[str, ...] = ("agent-left", "agent-right")
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound")

DEFAULT_PAUSE_S = 0.8
"""A pause longer than this within one speaker's speech starts a new turn."""

CHUNK_PAUSE_S = 0.3
"""Diarization cuts mono speech at pauses at least this long (speaker changes need a breath)."""

_FIRST_TURNS = 3
_AGENT_CUES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(p), w) for p, w in (
        (r"(我是|这里是|我这边是|我们是).{0,12}(银行|中心|公司|客服|专员|金融|贷款|催收|法务|部门)", 3.0),
        (r"(银行|信用卡中心|客服中心|客服|金融|消费金融|委托)", 1.5),
        (r"工号|编号", 2.0),
        (r"请问(您|你)是.{0,8}(吗|本人|先生|女士|嘛)|(您|你)是.{0,6}(本人|先生|女士)吗", 2.5),
        (r"核实|确认一下(您|你)的|身份证(后|号)", 2.0),
        (r"(本次)?通话.{0,4}(录音|录制)", 2.0),
        (r"(您|你)(的|在我行的).{0,8}(账单|欠款|还款|逾期|分期|额度)", 1.5),
        (r"还款|逾期|最低还款|分期|减免", 0.5),
        (r"请问|您好|麻烦(您|你)", 0.5),
    )
)
_SENTENCE_END = re.compile(r"[。？！?!]$")


@dataclass(frozen=True, slots=True)
class Attribution:
    """How speakers were attributed: method ("channels", "diarization:spectral"), confidence, details."""

    method: str
    confidence: float
    details: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "confidence": round(self.confidence, 2), **dict(self.details)}


def channel_speakers(layout: str = "agent-left") -> tuple[Speaker, Speaker]:
    """Return the speakers of the (left, right) channels for a channel layout.

    Raises:
        ConfigError: Unknown layout.
    """
    if layout == "agent-left":
        return ("agent", "customer")
    if layout == "agent-right":
        return ("customer", "agent")
    raise ConfigError(f"unknown channel layout {layout!r}; expected one of {', '.join(CHANNEL_LAYOUTS)}")


def join_words(words: Sequence[Word]) -> str:
    """Join recognised words into text: no spaces in Chinese, one between Latin words."""
    out = ""
    for w in words:
        if out and out[-1].isascii() and out[-1].isalnum() and w.text[:1].isascii() and w.text[:1].isalnum():
            out += " "
        out += w.text
    return out


def words_to_turns(
    words: Sequence[Word],
    speaker: Speaker,
    *,
    channel: Optional[int] = None,
    pause_s: float = DEFAULT_PAUSE_S,
) -> list[Turn]:
    """Split one speaker's words into turns wherever the pause between words exceeds ``pause_s``."""
    return _turns([(w, speaker) for w in sorted(words, key=lambda w: w.start_s)], channel=channel, pause_s=pause_s)


def merge_turns(*turn_lists: Sequence[Turn]) -> tuple[Turn, ...]:
    """Merge turn lists into one, ordered by start time (ties: by channel, then end time)."""
    turns = [t for turns in turn_lists for t in turns]
    return tuple(sorted(turns, key=lambda t: (t.start_s or 0.0, t.channel or 0, t.end_s or 0.0)))


def transcribe_call(
    audio: Audio,
    transcriber: Transcriber,
    *,
    metadata: Optional[CallMetadata] = None,
    channel_layout: str = "agent-left",
    pause_s: float = DEFAULT_PAUSE_S,
    language: str = "zh",
    initial_prompt: Optional[str] = DEFAULT_INITIAL_PROMPT,
    direction: Optional[str] = None,
) -> Transcript:
    """Transcribe a decoded call into a Transcript with agent and customer turns.

    Args:
        audio: The decoded recording.
        transcriber: The speech recogniser.
        metadata: The call's metadata (default: call_id from the file name). Its
            ``extra["channel_layout"]`` and ``extra["direction"]`` override the arguments.
        channel_layout: Which side the agent is on in two-channel recordings.
        pause_s: Pause that starts a new turn.
        language: Recognition language.
        initial_prompt: Decoder prompt (domain vocabulary; simplified script).
        direction: "inbound" or "outbound" (helps tell agent from customer in mono calls).

    Returns:
        The transcript; without turns (and ``provenance["no_speech"]`` true) when nothing was said.

    Raises:
        ConfigError: Unknown channel layout or direction.
    """
    meta = metadata or CallMetadata(call_id=Path(audio.source).stem or "call", agent_id="unknown")
    layout = str(meta.extra.get("channel_layout") or channel_layout)
    direction = meta.extra.get("direction") or direction
    if direction is not None and direction not in DIRECTIONS:
        raise ConfigError(f"unknown call direction {direction!r}; expected one of {', '.join(DIRECTIONS)}")
    if audio.n_channels == 2:
        speakers = channel_speakers(layout)
        per_channel: list[list[Turn]] = []
        for index, (samples, silent) in enumerate(zip(audio.channels, audio.silent)):
            words = [] if silent else transcriber.transcribe_channel(samples, language=language, initial_prompt=initial_prompt)
            per_channel.append(words_to_turns(words, speakers[index], channel=index, pause_s=pause_s))
        turns = merge_turns(*per_channel)
        attribution = Attribution("channels", 1.0, {"channel_layout": layout})
    else:
        words = [] if audio.is_silent else transcriber.transcribe_channel(
            audio.channels[0], language=language, initial_prompt=initial_prompt)
        turns, attribution = diarize(audio.channels[0], words, pause_s=pause_s, direction=direction)
    provenance = {
        "asr": dict(transcriber.provenance),
        "audio": audio.describe(),
        "speakers": attribution.to_dict(),
        "pause_s": pause_s,
        "no_speech": not turns,
    }
    return Transcript(metadata=meta, turns=tuple(turns), source=audio.source, source_format="audio",
                      provenance=provenance)


def diarize(
    samples: np.ndarray,
    words: Sequence[Word],
    *,
    pause_s: float = DEFAULT_PAUSE_S,
    direction: Optional[str] = None,
    sample_rate: int = SAMPLE_RATE,
) -> tuple[tuple[Turn, ...], Attribution]:
    """Attribute the words of a mono call to agent and customer by voice, then by content."""
    words = sorted(words, key=lambda w: w.start_s)
    if not words:
        return (), Attribution("diarization:spectral", 0.0, {"speakers_found": 0})
    chunks = chunk_words(words)
    spans = [(c[0].start_s, c[-1].end_s) for c in chunks]
    labels, separation = cluster_voices(voice_features(samples, spans, sample_rate), spans)
    word_labels = np.array([int(label) for c, label in zip(chunks, labels) for _ in c], dtype=int)
    n_speakers = len(set(word_labels.tolist()))
    changed = 0
    if n_speakers == 2:
        refined = resegment_words(samples, words, word_labels, sample_rate=sample_rate)
        changed = int(np.sum(refined != word_labels))
        word_labels = refined
    segments = _label_runs(words, word_labels)
    texts = [(join_words(seg), label) for seg, label in segments]
    agent_label, margin = agent_cluster(texts, direction=direction)
    speaker_of = {agent_label: "agent", 1 - agent_label: "customer"}
    labelled: list[tuple[Word, Speaker]] = [(w, speaker_of[int(label)]) for w, label in zip(words, word_labels)]  # type: ignore[misc]
    n_speakers = len(set(word_labels.tolist()))
    cluster_conf = min(1.0, separation / 2.0) if n_speakers == 2 else 0.3
    role_conf = 0.5 + 0.5 * math.tanh(abs(margin) / 3.0)
    details = {"speakers_found": n_speakers, "voice_separation": round(separation, 2), "role_margin": round(margin, 2),
               "words_resegmented": changed, "direction": direction}
    return tuple(_turns(labelled, channel=None, pause_s=pause_s)), Attribution(
        "diarization:spectral", cluster_conf * role_conf, details)


def resegment_words(
    samples: np.ndarray,
    words: Sequence[Word],
    labels: "Sequence[int] | np.ndarray",
    *,
    sample_rate: int = SAMPLE_RATE,
    iterations: int = 3,
) -> np.ndarray:
    """Reassign time-ordered words to two voices, starting from ``labels`` (0/1 per word).

    Each voice is modelled from the frames of its words: a full-covariance Gaussian over
    MFCCs 1-12 (normalised over the call) and a Gaussian over log pitch on voiced frames.
    A word's evidence is the (clipped, decorrelated) sum of its frames' log-likelihood ratios;
    a Viterbi pass over the words then picks the labels, charging for each change of speaker:
    a lot inside a phrase, little at a pause or after punctuation. The voice models are refit
    from the new labels a few times. Returns the input labels unchanged when a voice has too
    little speech to model.
    """
    start_labels = np.array(labels, dtype=int)
    current = start_labels.copy()
    n = len(words)
    if n < 3 or len(set(current.tolist())) < 2:
        return current
    mfcc, pitch, loud = _frame_features(np.asarray(samples, dtype=np.float64), sample_rate)
    n_frames = len(mfcc)
    if n_frames == 0:
        return current
    frames_of = []
    for w in words:
        a = min(max(round(w.start_s * 100), 0), n_frames)
        b = min(max(round(w.end_s * 100), a + 1), n_frames)
        idx = np.arange(a, b)
        frames_of.append(idx[loud[idx]] if idx.size else idx)
    speech = np.unique(np.concatenate([f for f in frames_of if f.size] or [np.zeros(0, dtype=int)]))
    if speech.size < 50:
        return current
    mu, sd = mfcc[speech].mean(axis=0), mfcc[speech].std(axis=0)
    feats = (mfcc - mu) / np.where(sd > 1e-9, sd, 1.0)
    switch_cost = np.array([_switch_cost(prev, cur) for prev, cur in zip(words, words[1:])])
    for _ in range(iterations):
        word_frames = [np.concatenate([f for f, k in zip(frames_of, current) if k == c] or [np.zeros(0, dtype=int)])
                       for c in (0, 1)]
        if min(len(f) for f in word_frames) < 30:
            return start_labels
        llr = _frame_llr(feats, pitch, word_frames)
        evidence = np.array([_FRAME_WEIGHT * float(np.sum(llr[f])) if f.size else 0.0 for f in frames_of])
        new = _viterbi_two(evidence, switch_cost)
        if np.array_equal(new, current):
            break
        current = new
    if len(set(current.tolist())) < 2:
        return start_labels
    return current


_FRAME_WEIGHT = 0.2
"""Frames 10 ms apart are far from independent: a word's evidence counts ~1 in 5 frames."""
_FRAME_LLR_CLIP = 4.0
_SWITCH_COST_PHRASE = 20.0
"""Cost (log-likelihood) of changing speaker between two words with no pause or punctuation:
in practice only overwhelming evidence splits a phrase (phrase-final syllables, with their
falling pitch and energy, otherwise tend to flip to the lower voice)."""
_SWITCH_COST_BREAK = 1.0
"""Cost of changing speaker at a pause of CHUNK_PAUSE_S or after punctuation."""
_PUNCTUATION_END = re.compile(r"[，,。？！?!；;：:、…]$")


def _switch_cost(prev: Word, cur: Word) -> float:
    gap = cur.start_s - prev.end_s
    cost = _SWITCH_COST_PHRASE
    if _PUNCTUATION_END.search(prev.text):
        cost = _SWITCH_COST_BREAK
    if gap >= CHUNK_PAUSE_S:
        cost = min(cost, _SWITCH_COST_BREAK * (0.5 if gap >= 1.0 else 1.0))
    elif gap >= 0.1:
        cost = min(cost, (_SWITCH_COST_PHRASE + _SWITCH_COST_BREAK) / 2)
    return cost


def _viterbi_two(evidence: np.ndarray, switch_cost: np.ndarray) -> np.ndarray:
    """Best 0/1 path: +evidence/2 for label 0, -evidence/2 for label 1, minus switch costs."""
    n = len(evidence)
    score = np.array([evidence[0] / 2, -evidence[0] / 2])
    back = np.zeros((n, 2), dtype=int)
    for i in range(1, n):
        emit = np.array([evidence[i] / 2, -evidence[i] / 2])
        stay, move = score, score[::-1] - switch_cost[i - 1]
        back[i] = np.where(stay >= move, [0, 1], [1, 0])
        score = np.maximum(stay, move) + emit
    path = np.zeros(n, dtype=int)
    path[-1] = int(np.argmax(score))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def _frame_llr(feats: np.ndarray, pitch: np.ndarray, frames: Sequence[np.ndarray]) -> np.ndarray:
    """Per-frame log-likelihood ratio voice 0 over voice 1 (MFCC Gaussian plus pitch on voiced frames)."""
    logp = []
    for idx in frames:
        x = feats[idx]
        mean = x.mean(axis=0)
        cov = np.cov(x, rowvar=False) + 0.05 * np.eye(x.shape[1])
        inv = np.linalg.inv(cov)
        _, logdet = np.linalg.slogdet(cov)
        d = feats - mean
        lp = -0.5 * (np.einsum("ij,jk,ik->i", d, inv, d) + logdet)
        p = pitch[idx]
        p = p[np.isfinite(p)]
        if p.size >= 10:
            pm, ps = float(np.median(p)), max(float(np.std(p)), 0.05)
            pl = np.where(np.isfinite(pitch), -0.5 * ((np.nan_to_num(pitch) - pm) / ps) ** 2 - math.log(ps), 0.0)
            lp = lp + pl
        logp.append(lp)
    return np.clip(logp[0] - logp[1], -_FRAME_LLR_CLIP, _FRAME_LLR_CLIP)


def _frame_features(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per 10 ms frame: MFCCs 1-12, log F0 (NaN when unvoiced) and a mask of non-quiet frames."""
    hop = sample_rate // 100
    n = max(0, 1 + (len(samples) - _WIN) // hop) if len(samples) >= _WIN else 0
    if n == 0:
        return np.zeros((0, 12)), np.zeros(0), np.zeros(0, dtype=bool)
    mfcc = np.empty((n, 12))
    energy = np.empty(n)
    pitch = np.full(n, np.nan)
    size = int(0.04 * sample_rate)
    padded = np.pad(samples, (0, size))
    lo, hi = int(sample_rate / 400), int(sample_rate / 60)
    window = np.hamming(_WIN)
    bank = _mel_filters(sample_rate)
    dct = _dct_matrix(bank.shape[0]).T
    for start in range(0, n, 2000):
        f = np.arange(start, min(n, start + 2000))
        idx = f[:, None] * hop + np.arange(_WIN)[None, :]
        power = np.abs(np.fft.rfft(padded[idx] * window, _N_FFT)) ** 2
        mel = np.log(power @ bank.T + 1e-10)
        energy[f] = mel.mean(axis=1)
        mfcc[f] = (mel @ dct)[:, 1:13]
        centre = f * hop + _WIN // 2 - size // 2
        idx = np.clip(centre[:, None] + np.arange(size)[None, :], 0, len(padded) - 1)
        frames = padded[idx] - padded[idx].mean(axis=1, keepdims=True)
        ac = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * size)) ** 2)[:, :size]
        peak = lo + np.argmax(ac[:, lo:hi], axis=1)
        strength = ac[np.arange(len(f)), peak] / np.maximum(ac[:, 0], 1e-12)
        voiced = (strength > 0.45) & (ac[:, 0] > 1e-6)
        pitch[f[voiced]] = np.log(sample_rate / peak[voiced])
    loud = energy >= np.percentile(energy, 30)
    return mfcc, pitch, loud


def _label_runs(words: Sequence[Word], labels: "Sequence[int] | np.ndarray") -> list[tuple[list[Word], int]]:
    """Group time-ordered words into runs of one label, cut also at pauses and sentence ends."""
    runs: list[tuple[list[Word], int]] = []
    for w, label in zip(words, labels):
        if runs and runs[-1][1] == int(label) and w.start_s - runs[-1][0][-1].end_s < CHUNK_PAUSE_S \
                and not _SENTENCE_END.search(runs[-1][0][-1].text):
            runs[-1][0].append(w)
        else:
            runs.append(([w], int(label)))
    return runs


def chunk_words(words: Sequence[Word], *, pause_s: float = CHUNK_PAUSE_S) -> list[list[Word]]:
    """Cut time-ordered words into chunks at pauses of ``pause_s`` or more and after sentence ends."""
    chunks: list[list[Word]] = []
    for w in words:
        if chunks and w.start_s - chunks[-1][-1].end_s < pause_s and not _SENTENCE_END.search(chunks[-1][-1].text):
            chunks[-1].append(w)
        else:
            chunks.append([w])
    return chunks


def voice_features(samples: np.ndarray, spans: Sequence[tuple[float, float]], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Return one voice print per time span: 12 mean MFCCs and the log median pitch."""
    rows = []
    for start_s, end_s in spans:
        a, b = int(start_s * sample_rate), max(int(end_s * sample_rate), int(start_s * sample_rate) + 1)
        segment = np.asarray(samples[a:b], dtype=np.float64)
        rows.append(np.concatenate([_mean_mfcc(segment, sample_rate), [_log_pitch(segment, sample_rate)]]))
    return np.asarray(rows, dtype=np.float64).reshape(len(spans), 13)


def cluster_voices(features: np.ndarray, spans: Sequence[tuple[float, float]]) -> tuple[np.ndarray, float]:
    """Split voice prints into two clusters (2-means, duration-weighted); return labels and separation.

    Separation is the distance between the centroids over the mean spread within clusters;
    below 1 the voices are hard to tell apart. Fewer than two spans give one cluster.
    """
    n = len(features)
    if n < 2:
        return np.zeros(n, dtype=int), 0.0
    weights = np.array([max(e - s, 0.05) for s, e in spans])
    std = features.std(axis=0)
    z = (features - features.mean(axis=0)) / np.where(std > 1e-9, std, 1.0)
    z[:, -1] *= 2.0  # pitch tells voices apart best; MFCCs add timbre and the line
    dist = np.linalg.norm(z[:, None, :] - z[None, :, :], axis=2)
    i, j = np.unravel_index(int(np.argmax(dist)), dist.shape)
    centroids = np.stack([z[i], z[j]])
    labels = np.zeros(n, dtype=int)
    for _ in range(50):
        new = np.argmin(np.linalg.norm(z[:, None, :] - centroids[None, :, :], axis=2), axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                centroids[k] = np.average(z[labels == k], axis=0, weights=weights[labels == k])
    if len(set(labels.tolist())) < 2:
        return labels, 0.0
    spread = np.mean([np.average(np.linalg.norm(z[labels == k] - centroids[k], axis=1), weights=weights[labels == k])
                      for k in (0, 1)])
    # With a handful of chunks the spread within a cluster is underestimated: floor it at one
    # standard deviation (a voice's own variation across chunks is about that large).
    separation = float(np.linalg.norm(centroids[0] - centroids[1]) / max(spread, 1.0))
    return labels, separation


def agent_cluster(texts: Sequence[tuple[str, int]], *, direction: Optional[str] = None) -> tuple[int, float]:
    """Decide which cluster (0 or 1) is the agent from what each says; return it and the margin.

    Agent cues (self identification, organisation, identity verification, recording notice)
    count fully in each cluster's first turns and a fifth elsewhere. On inbound calls the
    agent answers first; on outbound calls a short first chunk ("喂？") is the callee. With
    no other evidence the cluster that says more is the agent.
    """
    score = [0.0, 0.0]
    seen = [0, 0]
    for text, label in texts:
        weight = 1.0 if seen[label] < _FIRST_TURNS else 0.2
        seen[label] += 1
        score[label] += weight * sum(w for pattern, w in _AGENT_CUES if pattern.search(text))
    chars = [sum(len(t) for t, k in texts if k == label) for label in (0, 1)]
    if chars[0] != chars[1]:
        score[0 if chars[0] > chars[1] else 1] += 0.5  # agents usually do most of the talking
    if texts and direction is not None:
        first_text, first = texts[0]
        if direction == "inbound":
            score[first] += 1.5
        elif direction == "outbound" and len(first_text) <= 6:
            score[1 - first] += 1.5
    margin = score[0] - score[1]
    return (0 if margin >= 0 else 1), abs(margin)


def _turns(labelled: Sequence[tuple[Word, Speaker]], *, channel: Optional[int], pause_s: float) -> list[Turn]:
    turns: list[Turn] = []
    group: list[Word] = []
    current: Optional[Speaker] = None
    for word, speaker in labelled:
        if group and (speaker != current or word.start_s - group[-1].end_s > pause_s):
            turns.append(_turn(group, current, channel))  # type: ignore[arg-type]
            group = []
        group.append(word)
        current = speaker
    if group:
        turns.append(_turn(group, current, channel))  # type: ignore[arg-type]
    return turns


def _turn(words: Sequence[Word], speaker: Speaker, channel: Optional[int]) -> Turn:
    return Turn(speaker=speaker, text=join_words(words), start_s=words[0].start_s,
                end_s=max(w.end_s for w in words), words=tuple(words), channel=channel)


_N_FFT = 512
_HOP = 160
_WIN = 400


def _mean_mfcc(segment: np.ndarray, sample_rate: int) -> np.ndarray:
    """Return MFCCs 1-12 averaged over the segment's louder frames (a simple voice timbre)."""
    if len(segment) < _WIN:
        segment = np.pad(segment, (0, _WIN - len(segment)))
    n = 1 + (len(segment) - _WIN) // _HOP
    idx = np.arange(_WIN)[None, :] + _HOP * np.arange(n)[:, None]
    frames = segment[idx] * np.hamming(_WIN)
    power = np.abs(np.fft.rfft(frames, _N_FFT)) ** 2
    mel = np.log(power @ _mel_filters(sample_rate).T + 1e-10)
    energy = mel.mean(axis=1)
    loud = energy >= energy.max() - 3.0  # log units: the top ~13 dB
    cepstra = mel[loud] @ _dct_matrix(mel.shape[1]).T
    return np.asarray(cepstra[:, 1:13].mean(axis=0))


def _log_pitch(segment: np.ndarray, sample_rate: int) -> float:
    """Return log of the median F0 (60-400 Hz) over voiced 40 ms frames; 0 when unvoiced."""
    size, hop = int(0.04 * sample_rate), int(0.02 * sample_rate)
    if len(segment) < size:
        return 0.0
    n = 1 + (len(segment) - size) // hop
    idx = np.arange(size)[None, :] + hop * np.arange(n)[:, None]
    frames = segment[idx] - segment[idx].mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, 2 * size)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, :size]
    lo, hi = int(sample_rate / 400), int(sample_rate / 60)
    peak = lo + np.argmax(ac[:, lo:hi], axis=1)
    strength = ac[np.arange(n), peak] / np.maximum(ac[:, 0], 1e-12)
    voiced = (strength > 0.45) & (ac[:, 0] > 1e-6)
    if not np.any(voiced):
        return 0.0
    return float(np.log(sample_rate / np.median(peak[voiced])))


_MEL_CACHE: dict[int, np.ndarray] = {}


def _mel_filters(sample_rate: int, n_mels: int = 26, fmin: float = 60.0, fmax: float = 3800.0) -> np.ndarray:
    """Triangular mel filters over the telephone band (what every recording shares)."""
    if sample_rate not in _MEL_CACHE:
        def to_mel(f: np.ndarray) -> np.ndarray:
            return 2595.0 * np.log10(1.0 + f / 700.0)

        def from_mel(m: np.ndarray) -> np.ndarray:
            return 700.0 * (10 ** (m / 2595.0) - 1.0)

        edges = from_mel(np.linspace(to_mel(np.array(fmin)), to_mel(np.array(fmax)), n_mels + 2))
        freqs = np.fft.rfftfreq(_N_FFT, 1.0 / sample_rate)
        bank = np.zeros((n_mels, len(freqs)))
        for m in range(n_mels):
            left, centre, right = edges[m], edges[m + 1], edges[m + 2]
            bank[m] = np.clip(np.minimum((freqs - left) / (centre - left), (right - freqs) / (right - centre)), 0, None)
        _MEL_CACHE[sample_rate] = bank
    return _MEL_CACHE[sample_rate]


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)
    return np.cos(np.pi / n * (k[None, :] + 0.5) * k[:, None])

"""Benchmark the sample recordings end to end: recognition, speaker attribution and talk share.

Every ``sample_audio/*.flac`` (five two-channel calls, agent left, and one mono mix) is
transcribed with callcoach's defaults (``load_audio`` + ``transcribe_call``, no prompt) and
compared with ``sample_audio/<stem>.truth.json`` (turns with their real times):

- **CER**: character error rate after normalisation (OpenCC t2s, punctuation and spaces
  dropped). Whisper writes amounts and numbers as digits ("6880元") where the scripts spell them
  ("六千八百八十元"), so ``CER#`` is the same rate after numbers in both texts are brought to one
  form (Chinese numerals parsed to Arabic digits: by value when they carry 十/百/千/万/亿,
  digit by digit otherwise).
- **attr**: the share of recognised words attributed to the right speaker. Each word is
  judged by the truth turn covering its mid-time (any covering turn counts during overlaps),
  else the nearest turn. Targets: ≥ 98 % two-channel, ≥ 85 % mono.
- **share**: ``talk.agent_share`` as callcoach computes it (``Pipeline().score(t).metrics``) on
  the transcript and on the truth transcript. Target: within 3 points.
- **RTF**: recognition time over audio duration (from the run that filled the cache).
- **trad**: traditional characters left in the transcript (should be 0).

Recognised words are cached per channel in a temp folder, keyed by the hash of the decoded
samples, the model and the decoding options, so reruns (e.g. after changing the mono
diarization in ``callcoach/speakers.py``, which is always rerun) take seconds.

    python benchmarks/bench_sample_audio.py [--model DIR] [--only STEM …] [--mix-mono] [--no-cache] [--cache-dir DIR]

``--mix-mono`` also mixes each two-channel call down to mono and diarizes it (rows
``<stem>+mix``), five more mono calls with known speakers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from callcoach.audio import audio_from_samples, load_audio
from callcoach.io import read_transcript
from callcoach.models import CallMetadata, Transcript, Word
from callcoach.pipeline import Pipeline
from callcoach.speakers import transcribe_call
from callcoach.transcribe import DEFAULT_INITIAL_PROMPT, load_transcriber
from callcoach.transcribe.metrics import edit_distance

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_audio"
SHARED = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared"))
DEFAULT_MODEL = SHARED / "models" / "faster-whisper-base"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "callcoach-bench-sample-audio"

TARGET_ATTR_TWO_CHANNEL = 0.98
TARGET_ATTR_MONO = 0.85
TARGET_SHARE_POINTS = 0.03

# --- text normalisation and CER --------------------------------------------------------------

_NON_TEXT = re.compile(r"[\W_]+", re.UNICODE)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_NUMBER = re.compile("[零〇一幺二两三四五六七八九十百千万亿]+")
_CONVERTER: Any = None


def _t2s(text: str) -> str:
    global _CONVERTER
    if _CONVERTER is None:
        import opencc

        _CONVERTER = opencc.OpenCC("t2s")
    return str(_CONVERTER.convert(text))


def normalize_for_cer(text: str) -> str:
    """Simplified script, no punctuation or spaces, lower case."""
    return _NON_TEXT.sub("", _t2s(text)).lower()


def _cn_value(run: str) -> Optional[int]:
    """Parse one Chinese numeral with units (三十三, 六千八百八十, 一万二千四百五); None when it is not one.

    Units must fall within a section (千 > 百 > 十) and digits alternate with units (零 aside);
    a trailing digit right after 百/千/万 is the next unit down ("一千一" is 1100).
    """
    total, section, digit = 0, 0, None
    last_unit, last_big, zero = 10_000, 10**12, False
    for ch in run:
        if ch in _CN_DIGITS:
            if _CN_DIGITS[ch] == 0:
                if digit is not None:
                    return None
                zero = True
                continue
            if digit is not None:
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit >= last_unit or (digit is None and (section or total) and unit != 10):
                return None
            section += (1 if digit is None else digit) * unit
            digit, last_unit, zero = None, unit, False
        else:
            big = _CN_BIG[ch]
            if big >= last_big or (digit is None and not section):
                return None
            total += (section + (digit or 0)) * big
            section, digit, last_unit, last_big, zero = 0, None, 10_000, big, False
    if digit is not None:
        scale = last_unit // 10 if last_unit < 10_000 and last_unit >= 100 and not zero else 1
        if last_unit == 10_000 and total and not zero:
            scale = last_big // 10
        section += digit * scale
    return total + section


def _numeral_pieces(run: str) -> list[str]:
    """Split a run of numeral characters into numbers: digit strings digit by digit, else the
    longest parsable prefix first (a misrecognised "一七二十七" gives "1", "7", "27")."""
    out: list[str] = []
    i = 0
    while i < len(run):
        for j in range(len(run), i, -1):
            piece = run[i:j]
            if not any(ch in _CN_UNITS or ch in _CN_BIG for ch in piece):
                if j < len(run) and j - i > 1:  # leave the last digit to the unit that follows it
                    j -= 1
                    piece = run[i:j]
                out.append("".join(str(_CN_DIGITS[ch]) for ch in piece))
                break
            value = _cn_value(piece)
            if value is not None:
                out.append(str(value))
                break
        else:  # a lone unit character (万, 亿) that is not a number
            out.append(run[i])
            j = i + 1
        i = j
    return out


def canonical_numbers(text: str) -> str:
    """Write Chinese numerals as Arabic digits (so "六千八百八十" and "6880" compare equal)."""
    return _CN_NUMBER.sub(lambda m: "".join(_numeral_pieces(m.group(0))), text)



def traditional_chars(text: str) -> int:
    """Count characters OpenCC t2s would change."""
    return sum(1 for ch in text if _t2s(ch) != ch)


# --- speaker attribution and talk share ------------------------------------------------------


def transcript_words(transcript: Transcript) -> list[tuple[Word, str]]:
    return [(w, t.speaker) for t in transcript.turns for w in t.words]


def attribution_share(words: Sequence[tuple[Word, str]], truth: Transcript) -> tuple[float, int]:
    """Share of words whose speaker matches the truth turn at the word's mid-time (or nearest)."""
    turns = [(t.start_s or 0.0, t.end_s or 0.0, t.speaker) for t in truth.turns]
    if not words or not turns:
        return 0.0, 0
    correct = 0
    for word, speaker in words:
        mid = (word.start_s + word.end_s) / 2
        covering = {s for a, b, s in turns if a <= mid <= b}
        if not covering:
            covering = {min(turns, key=lambda t: min(abs(mid - t[0]), abs(mid - t[1])))[2]}
        correct += speaker in covering
    return correct / len(words), len(words)


def agent_share(transcript: Transcript) -> Optional[float]:
    value = Pipeline().score(transcript).metrics.get("talk.agent_share")
    return None if value is None else float(value)


# --- cached recognition ----------------------------------------------------------------------


class CachingTranscriber:
    """Wrap a transcriber: words per channel are cached by the samples' hash and the options."""

    def __init__(self, model: str, cache_dir: Optional[Path]) -> None:
        self.model = model
        self.cache_dir = cache_dir
        self._inner: Any = None
        self.seconds = 0.0  # recognition time: measured now (cache misses) or when cached (hits)
        self.fresh_seconds = 0.0  # recognition time spent in this run

    def _load(self) -> Any:
        if self._inner is None:
            self._inner = load_transcriber("faster-whisper", model=self.model)
        return self._inner

    @property
    def provenance(self) -> Mapping[str, Any]:
        return self._load().provenance

    def transcribe_channel(self, samples_16k: np.ndarray, *, language: str = "zh",
                           initial_prompt: Optional[str] = DEFAULT_INITIAL_PROMPT) -> list[Word]:
        samples = np.ascontiguousarray(samples_16k, dtype=np.float32)
        digest = hashlib.sha256(samples.tobytes())
        digest.update(json.dumps([str(Path(self.model).resolve()), language, initial_prompt]).encode())
        path = self.cache_dir / f"{digest.hexdigest()[:32]}.json" if self.cache_dir else None
        if path is not None and path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            self.seconds += data["seconds"]
            return [Word(w[0], w[1], w[2], w[3]) for w in data["words"]]
        t0 = time.perf_counter()
        words = self._load().transcribe_channel(samples, language=language, initial_prompt=initial_prompt)
        seconds = time.perf_counter() - t0
        self.seconds += seconds
        self.fresh_seconds += seconds
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            data = {"seconds": seconds, "words": [[w.text, w.start_s, w.end_s, w.probability] for w in words]}
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return words


# --- the benchmark ---------------------------------------------------------------------------


def evaluate(stem: str, transcriber: CachingTranscriber, *, mix: bool = False) -> dict[str, Any]:
    """Transcribe one sample recording and compare it with its truth.

    ``mix``: mix a two-channel recording down to mono first (more material for the mono
    diarization than the one mono sample; the mix is of the levelled channels).
    """
    audio = load_audio(SAMPLES / f"{stem}.flac")
    truth = read_transcript(SAMPLES / f"{stem}.truth.json")
    if mix:
        mixed = np.mean(np.stack(audio.channels), axis=0) if audio.n_channels == 2 else audio.channels[0]
        audio = audio_from_samples(mixed, source=f"{stem}+mix.flac")
        stem = f"{stem}+mix"
    meta = CallMetadata(call_id=stem, agent_id=truth.metadata.agent_id)
    transcriber.seconds = transcriber.fresh_seconds = 0.0
    t0 = time.perf_counter()
    transcript = transcribe_call(audio, transcriber, metadata=meta)
    diarize_s = time.perf_counter() - t0
    asr_s = transcriber.seconds
    hyp = "".join(t.text for t in transcript.turns)
    ref = "".join(t.text for t in truth.turns)
    h, r = normalize_for_cer(hyp), normalize_for_cer(ref)
    hn, rn = canonical_numbers(h), canonical_numbers(r)
    attr, n_words = attribution_share(transcript_words(transcript), truth)
    share, truth_share = agent_share(transcript), agent_share(truth)
    return {
        "stem": stem,
        "channels": audio.n_channels,
        "duration_s": audio.duration_s,
        "ref_chars": len(r),
        "edits": edit_distance(h, r),
        "ref_chars_num": len(rn),
        "edits_num": edit_distance(hn, rn),
        "words": n_words,
        "correct": round(attr * n_words),
        "attr": attr,
        "share": share,
        "truth_share": truth_share,
        "asr_s": asr_s,
        "speaker_s": diarize_s - transcriber.fresh_seconds,
        "trad": traditional_chars(hyp),
        "speakers": dict(transcript.provenance.get("speakers", {})),
    }


def _fmt_share(x: Optional[float]) -> str:
    return "  -  " if x is None else f"{x:5.1%}"


def report(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Print per-call and overall results; return True when every target is met."""
    print(f"{'recording':38} {'ch':>2} {'dur s':>6} {'CER':>6} {'CER#':>6} {'attr':>7} {'share':>6} {'truth':>6} "
          f"{'Δpts':>5} {'RTF':>5} {'trad':>4}")
    ok = True
    for row in rows:
        target = TARGET_ATTR_MONO if row["channels"] == 1 else TARGET_ATTR_TWO_CHANNEL
        delta = None if row["share"] is None or row["truth_share"] is None else row["share"] - row["truth_share"]
        flags = []
        if row["attr"] < target:
            flags.append(f"attr<{target:.0%}")
        if delta is None or abs(delta) > TARGET_SHARE_POINTS:
            flags.append("share")
        if row["trad"]:
            flags.append("traditional")
        ok &= not flags
        print(f"{row['stem']:38} {row['channels']:>2} {row['duration_s']:6.1f} "
              f"{row['edits'] / max(row['ref_chars'], 1):6.3f} {row['edits_num'] / max(row['ref_chars_num'], 1):6.3f} "
              f"{row['attr']:7.2%} {_fmt_share(row['share'])} {_fmt_share(row['truth_share'])} "
              f"{'  -  ' if delta is None else f'{delta * 100:+5.1f}'} {row['asr_s'] / row['duration_s']:5.2f} "
              f"{row['trad']:>4}  {' '.join(flags)}")
        if row["channels"] == 1:
            print(f"{'':38}    speakers: {json.dumps(row['speakers'], ensure_ascii=False)}")
    for label, subset in (("two-channel", [r for r in rows if r["channels"] == 2]),
                          ("mono", [r for r in rows if r["channels"] == 1]), ("all", list(rows))):
        if not subset:
            continue
        dur = sum(r["duration_s"] for r in subset)
        deltas = [abs(r["share"] - r["truth_share"]) for r in subset if r["share"] is not None]
        print(f"{'overall ' + label:38} {'':>2} {dur:6.1f} "
              f"{sum(r['edits'] for r in subset) / max(sum(r['ref_chars'] for r in subset), 1):6.3f} "
              f"{sum(r['edits_num'] for r in subset) / max(sum(r['ref_chars_num'] for r in subset), 1):6.3f} "
              f"{sum(r['correct'] for r in subset) / max(sum(r['words'] for r in subset), 1):7.2%} "
              f"max |Δ| {max(deltas, default=0) * 100:4.1f} pts  RTF {sum(r['asr_s'] for r in subset) / dur:5.2f} "
              f"trad {sum(r['trad'] for r in subset)}")
    print("targets met" if ok else "targets NOT met")
    return ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="faster-whisper model name or directory")
    parser.add_argument("--only", nargs="*", default=None, help="recording stems to run (default all)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--mix-mono", action="store_true",
                        help="also mix each two-channel call down to mono and diarize it (\"<stem>+mix\")")
    parser.add_argument("--no-cache", action="store_true", help="recognise again (and do not write the cache)")
    args = parser.parse_args(argv)
    stems = sorted(p.name.removesuffix(".flac") for p in SAMPLES.glob("*.flac")
                   if (SAMPLES / f"{p.stem}.truth.json").is_file())
    if args.only:
        stems = [s for s in stems if s in args.only or any(o in s for o in args.only)]
    if not stems:
        print("no sample recordings with truth found")
        return 2
    transcriber = CachingTranscriber(args.model, None if args.no_cache else args.cache_dir)
    rows = [evaluate(stem, transcriber) for stem in stems]
    if args.mix_mono:
        rows += [evaluate(stem, transcriber, mix=True) for stem in stems if not stem.endswith("_mono")]
    report(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

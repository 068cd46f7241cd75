"""Benchmark transcription: speed (real-time factor), peak memory and CER against plain faster-whisper.

callcoach's settings (int8, Silero VAD, word timestamps, hallucination guards, OpenCC t2s) are
run on the labelled Mandarin clips in ../shared/data/asr_zh_samples and on a two-channel call
built from two clips; the baseline is faster-whisper with its default options (compute type
"default", no VAD, language detected) on the same clips. Both hypotheses are converted to
simplified script before scoring, so CER compares recognition, not script.

    python benchmarks/bench_transcribe.py [--model DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import time
from pathlib import Path

import numpy as np

from callcoach.audio import SAMPLE_RATE, audio_from_samples, load_audio
from callcoach.normalize import normalize_text
from callcoach.speakers import join_words, transcribe_call
from callcoach.transcribe import load_transcriber
from callcoach.transcribe.metrics import edit_distance as _edits

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared"))


def _chars(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalize_text(text)).lower()



def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=os.environ.get("CALLCOACH_MODEL") or str(SHARED / "models" / "faster-whisper-base"))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    folder = SHARED / "data" / "asr_zh_samples" / "labeled"
    with (folder / "manifest.tsv").open(encoding="utf-8") as fh:
        rows = [(folder / r["file"], r["transcript"]) for r in csv.DictReader(fh, delimiter="\t")]
    clips = [(load_audio(path).channels[0], ref) for path, ref in rows]
    audio_s = sum(len(a) for a, _ in clips) / SAMPLE_RATE

    transcriber = load_transcriber(model=args.model, device=args.device)
    transcriber.transcribe_channel(clips[0][0])  # warm-up: the VAD session and the first decode
    t0 = time.perf_counter()
    ours = [join_words(transcriber.transcribe_channel(a)) for a, _ in clips]
    ours_s = time.perf_counter() - t0

    left, right = clips[9][0], clips[0][0]
    stereo = np.zeros((2, 6 * SAMPLE_RATE + len(right) + SAMPLE_RATE), np.float32)
    stereo[0, : len(left)] = left
    stereo[1, 6 * SAMPLE_RATE : 6 * SAMPLE_RATE + len(right)] = right
    call = audio_from_samples(stereo, source="two-channel")
    t0 = time.perf_counter()
    transcript = transcribe_call(call, transcriber)
    call_s = time.perf_counter() - t0
    ours_peak = _peak_mib()

    from faster_whisper import WhisperModel

    plain = WhisperModel(args.model, device=args.device)
    list(plain.transcribe(clips[0][0])[0])
    t0 = time.perf_counter()
    base = ["".join(s.text for s in plain.transcribe(a)[0]) for a, _ in clips]
    base_s = time.perf_counter() - t0

    def cer(hyps: list[str]) -> float:
        return sum(_edits(_chars(h), _chars(r)) for h, (_, r) in zip(hyps, clips)) / sum(len(_chars(r)) for _, r in clips)

    ours_cer, base_cer = cer(ours), cer(base)
    print(f"clips: {len(clips)}, {audio_s:.1f} s of audio; model {args.model} on {args.device}")
    print(f"callcoach (int8, VAD, words, guards): CER {ours_cer:.3f}  RTF {ours_s / audio_s:.3f}  ({ours_s:.1f} s)")
    print(f"plain faster-whisper defaults:        CER {base_cer:.3f}  RTF {base_s / audio_s:.3f}  ({base_s:.1f} s)")
    print(f"ratio callcoach/plain: CER x{ours_cer / max(base_cer, 1e-9):.2f}, time x{ours_s / base_s:.2f}")
    print(f"two-channel call: {call.duration_s:.1f} s, {len(transcript.turns)} turns, RTF {call_s / call.duration_s:.3f}")
    print(f"peak RSS: {ours_peak:.0f} MiB after callcoach runs, {_peak_mib():.0f} MiB overall")


if __name__ == "__main__":
    main()

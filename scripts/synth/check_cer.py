#!/usr/bin/env python
"""Rough intelligibility check of the synthesised calls with faster-whisper.

Transcribes every turn (cut from its own channel at the truth times) and reports
the character error rate per call, after dropping punctuation and mapping
traditional -> simplified (opencc) and single digits -> Chinese numerals.
CER is only indicative: Whisper writes amounts as digits ("6880") where the
script says 六千八百八十, which counts as errors here.

    python scripts/synth/check_cer.py [--model DIR] [sample_audio/*.truth.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly
from callcoach.transcribe.metrics import edit_distance

DEFAULT_MODEL = "/work/shared/models/faster-whisper-base"
REPO = Path(__file__).resolve().parent.parent.parent


def normalize(text: str, cc) -> str:
    if cc is not None:
        text = cc.convert(text)
    text = text.translate(str.maketrans("0123456789", "零一二三四五六七八九"))
    return re.sub(r"[^\u4e00-\u9fffA-Za-z]", "", text)



def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("truth", nargs="*", type=Path)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--show", action="store_true", help="print each turn's hypothesis")
    args = ap.parse_args(argv)
    from faster_whisper import WhisperModel

    try:
        import opencc
        cc = opencc.OpenCC("t2s")
    except (ImportError, RuntimeError):  # pragma: no cover
        cc = None
    model = WhisperModel(args.model, device="cpu", compute_type="int8")
    paths = args.truth or sorted((REPO / "sample_audio").glob("*.truth.json"))
    total_e = total_n = 0
    for tp in paths:
        doc = json.loads(tp.read_text(encoding="utf-8"))
        audio, sr = sf.read(str(tp.parent / doc["extra"]["audio_file"]), dtype="float32", always_2d=True)
        errs = n = 0
        for turn in doc["turns"]:
            ch = 0 if audio.shape[1] == 1 or turn["speaker"] == "agent" else 1
            a = audio[int(turn["start_s"] * sr): int(turn["end_s"] * sr) + 1, ch]
            a16 = resample_poly(a, 16000, sr).astype(np.float32)
            a16 /= max(1e-4, float(np.max(np.abs(a16)))) / 0.5
            segs, _ = model.transcribe(a16, language="zh", beam_size=5, vad_filter=False,
                                       condition_on_previous_text=False)
            hyp = normalize("".join(s.text for s in segs), cc)
            ref = normalize(turn["text"], cc)
            e = edit_distance(ref, hyp)
            errs += e
            n += len(ref)
            if args.show:
                print(f"  {turn['speaker'][:4]} {e:3d}/{len(ref):3d} {hyp}")
        total_e += errs
        total_n += n
        print(f"{tp.name}\tCER {errs / n:.1%}\t({errs}/{n} chars)", flush=True)
    print(f"ALL\tCER {total_e / total_n:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the ASR engines on the same weights: real-time factor, peak memory and CER.

faster-whisper int8, faster-whisper float32 and openai-whisper float32 (weights converted from the
same faster-whisper model by callcoach.transcribe.convert) each run in their own subprocess on the
labelled Mandarin clips in ../shared/data/asr_zh_samples, so each peak RSS is that engine's alone.
All run callcoach's settings (zh, beam 5, word timestamps, guards, OpenCC t2s); VAD is off for
faster-whisper too (openai-whisper has none) unless --vad, so the comparison is like for like.
Reported: RTF (decode seconds / audio seconds, after a warm-up clip), the faster/openai speed
ratio at float32 on the same weights, CER against the references and against openai-whisper.

    python benchmarks/bench_engines.py [--model DIR] [--threads N] [--vad]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from callcoach.transcribe.metrics import edit_distance as _edits

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared"))
CLIPS = SHARED / "data" / "asr_zh_samples" / "labeled"
RUNS = (("faster-whisper", "int8"), ("faster-whisper", "float32"), ("openai-whisper", "float32"))


def _chars(text: str) -> str:
    from callcoach.normalize import normalize_text

    return re.sub(r"[\W_]+", "", normalize_text(text)).lower()



def _cer(hyps: list[str], refs: list[str]) -> float:
    pairs = [(_chars(h), _chars(r)) for h, r in zip(hyps, refs)]
    return sum(_edits(h, r) for h, r in pairs) / max(sum(len(r) for _h, r in pairs), 1)


def _rows() -> list[tuple[str, str]]:
    with (CLIPS / "manifest.tsv").open(encoding="utf-8") as fh:
        return [(r["file"], r["transcript"]) for r in csv.DictReader(fh, delimiter="\t")]


def worker(engine: str, compute_type: str, model: str, threads: int, vad: bool) -> None:
    """Run one engine over the clips in this process and print one JSON line."""
    from callcoach.audio import SAMPLE_RATE, load_audio
    from callcoach.speakers import join_words

    clips = [load_audio(CLIPS / name).channels[0] for name, _ref in _rows()]
    t0 = time.perf_counter()
    if engine == "faster-whisper":
        from callcoach.transcribe.faster import FasterWhisperTranscriber

        asr = FasterWhisperTranscriber(model, device="cpu", compute_type=compute_type, vad=vad, cpu_threads=threads)
    else:
        from callcoach.transcribe.openai import OpenAIWhisperTranscriber

        asr = OpenAIWhisperTranscriber(model, device="cpu", compute_type=compute_type, cpu_threads=threads)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    asr.transcribe_channel(clips[0])  # warm-up: first allocations, VAD session, numba's JIT for DTW
    warmup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hyps = [join_words(asr.transcribe_channel(samples)) for samples in clips]
    decode_s = time.perf_counter() - t0
    audio_s = sum(len(s) for s in clips) / SAMPLE_RATE
    print(json.dumps({
        "engine": engine, "compute_type": compute_type, "load_s": load_s, "warmup_s": warmup_s,
        "decode_s": decode_s, "audio_s": audio_s, "rtf": decode_s / audio_s, "hyps": hyps,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_sha256": asr.provenance.get("model_sha256"),
    }, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("CALLCOACH_MODEL") or str(SHARED / "models" / "faster-whisper-base"))
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per engine (0: the engine's default)")
    parser.add_argument("--vad", action="store_true", help="faster-whisper with Silero VAD (openai-whisper has none)")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "COMPUTE_TYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.model, args.threads, args.vad)
        return

    rows = _rows()
    refs = [ref for _name, ref in rows]
    with tempfile.TemporaryDirectory() as tmp:
        from callcoach.transcribe.convert import convert_ct2_to_openai

        t0 = time.perf_counter()
        checkpoint = convert_ct2_to_openai(Path(args.model), Path(tmp) / "openai-whisper.pt")
        convert_s = time.perf_counter() - t0
        results = []
        for engine, compute_type in RUNS:
            model = str(checkpoint) if engine == "openai-whisper" else args.model
            cmd = [sys.executable, __file__, "--worker", engine, compute_type, "--model", model,
                   "--threads", str(args.threads)] + (["--vad"] if args.vad else [])
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{engine} {compute_type}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    audio_s = results[0]["audio_s"] if results else 0.0
    print(f"{len(rows)} clips, {audio_s:.1f} s of audio; model {args.model}; conversion to openai-whisper "
          f"{convert_s:.1f} s; VAD {'on' if args.vad else 'off'}; threads {args.threads or 'default'}")
    reference = next((r for r in results if r["engine"] == "openai-whisper"), None)
    print(f"{'engine':16} {'compute':8} {'load s':>7} {'warm-up s':>9} {'decode s':>9} {'RTF':>6} "
          f"{'peak MiB':>9} {'CER ref':>8} {'CER vs openai':>14}")
    for r in results:
        vs = _cer(r["hyps"], reference["hyps"]) if reference else float("nan")
        print(f"{r['engine']:16} {r['compute_type']:8} {r['load_s']:7.2f} {r['warmup_s']:9.2f} {r['decode_s']:9.2f} "
              f"{r['rtf']:6.3f} {r['peak_rss_mib']:9.0f} {_cer(r['hyps'], refs):8.3f} {vs:14.3f}")
    by = {(r["engine"], r["compute_type"]): r for r in results}
    fast, ref = by.get(("faster-whisper", "float32")), by.get(("openai-whisper", "float32"))
    if fast and ref:
        print(f"faster-whisper float32 is {ref['decode_s'] / fast['decode_s']:.2f}x as fast as openai-whisper float32 "
              "on the same weights")
    if by.get(("faster-whisper", "int8")) and ref:
        print(f"faster-whisper int8 is {ref['decode_s'] / by[('faster-whisper', 'int8')]['decode_s']:.2f}x as fast "
              "as openai-whisper float32")
    if reference:
        differ = [name for (name, _ref), a, b in zip(rows, by[("faster-whisper", "float32")]["hyps"] if fast else [],
                                                      reference["hyps"]) if _chars(a) != _chars(b)]
        print(f"clips where faster-whisper float32 and openai-whisper differ: {', '.join(differ) or 'none'}")


if __name__ == "__main__":
    main()

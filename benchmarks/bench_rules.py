"""Accuracy of the prohibited-language rules.

Prints, from one run: recall on violating agent utterances and false-positive rate on lawful
agent and customer utterances, for tests/data/utterances/{dev,holdout,holdout2}.jsonl (the
holdouts are never trained on), per category; then the same for the pattern rules alone, as
the baseline the learned detector adds to; and the insult flag rate on COLD's safe and
offensive texts (../shared/data/cold/dev.csv) where present.

    python benchmarks/bench_rules.py [--verbose dev|holdout] [--cold N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from pathlib import Path

from callcoach.config import Config
from callcoach.lexicon import load_rulebook
from callcoach.pipeline import analyze_text
from callcoach.prohibited_model import load_default
from callcoach.scorers.base import ScoringContext
from callcoach.scorers.prohibited import PROHIBITED_CATEGORIES, ProhibitedLanguageScorer

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared"))


CFG = Config()
SCORER = ProhibitedLanguageScorer()
CONTEXTS = {
    "rules + learned detector": ScoringContext(CFG, load_rulebook(), prohibited_model=load_default()),
    "rules only": ScoringContext(CFG, load_rulebook()),
}
CTX = CONTEXTS["rules + learned detector"]


def flagged(text: str, speaker: str = "agent", categories: tuple[str, ...] = PROHIBITED_CATEGORIES) -> list[str]:
    """Return the categories flagged in one utterance."""
    out = SCORER.score(analyze_text(text, CFG, speaker=speaker), CTX)
    return [f.category for f in out.findings if f.category in categories]


def evaluate(path: Path, verbose: bool) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    hit, total, fp, neg = Counter(), Counter(), 0, 0
    right_cat = 0
    for r in rows:
        cats = flagged(r["text"], r["speaker"])
        if r["expected"] != "lawful" and r["speaker"] == "agent":
            total[r["expected"]] += 1
            if cats:
                hit[r["expected"]] += 1
                right_cat += r["expected"] in cats
            elif verbose:
                print(f"  MISS {r['expected']:<14} {r['text']}")
        else:
            neg += 1
            if cats:
                fp += 1
                if verbose:
                    print(f"  FP   {r.get('kind', ''):<14} {r['text']}  {cats}")
    n = sum(total.values())
    print(f"{path.name}: recall {sum(hit.values()) / n:.3f} ({sum(hit.values())}/{n}), "
          f"right category {right_cat / max(1, sum(hit.values())):.3f}, "
          f"false-positive rate {fp / max(1, neg):.3f} ({fp}/{neg})")
    for cat in sorted(total):
        print(f"    {cat:<14} recall {hit[cat] / total[cat]:.3f} ({hit[cat]}/{total[cat]})")


def cold(limit: int) -> None:
    path = SHARED / "data" / "cold" / "dev.csv"
    if not path.is_file():
        print(f"COLD: skipped ({path} not found)")
        return
    safe = offensive = safe_hit = off_hit = 0
    with path.open(encoding="utf-8-sig") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= limit:
                break
            hit = bool(flagged(row["TEXT"], "agent", ("insult",)))
            if row["label"] == "1":
                offensive += 1
                off_hit += hit
            else:
                safe += 1
                safe_hit += hit
    print(f"COLD dev (first {limit}): insult rules flag {safe_hit / safe:.3%} of safe texts ({safe_hit}/{safe}) "
          f"and {off_hit / offensive:.3%} of offensive ones ({off_hit}/{offensive}); "
          f"ratio offensive/safe flag rate {(off_hit / offensive) / max(safe_hit / safe, 1e-9):.1f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", choices=["dev", "holdout", "holdout2", "holdout3"], help="list misses and false positives of one set")
    ap.add_argument("--cold", type=int, default=6431, help="how many COLD dev rows to check (0 = skip)")
    args = ap.parse_args()
    global CTX
    for label, ctx in CONTEXTS.items():
        CTX = ctx
        print(f"== {label}")
        for name in ("dev", "holdout", "holdout2", "holdout3"):
            p = ROOT / "tests" / "data" / "utterances" / f"{name}.jsonl"
            if p.is_file():
                evaluate(p, args.verbose == name and label.startswith("rules +"))
    CTX = CONTEXTS["rules + learned detector"]
    if args.cold:
        cold(args.cold)
    return 0


if __name__ == "__main__":
    sys.exit(main())

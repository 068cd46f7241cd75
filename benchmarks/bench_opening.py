"""Opening-script accuracy on tests/data/openings/.

openings.jsonl: items o001-o060 were used to write the opening patterns; o061-o120 never were
(held out). openings_holdout2.jsonl (h001-h070) was written later by a writer who never saw the
patterns; its misses were read once for general fixes. openings_holdout3.jsonl (k001-k070), from
another such writer after those fixes, is untouched. Prints, per element and for disclosure before verification, the
share of items judged as the writer judged them, on each set.

    python benchmarks/bench_opening.py [--verbose dev|holdout|holdout2|holdout3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from callcoach.config import Config
from callcoach.lexicon import load_rulebook
from callcoach.models import CallMetadata, Transcript, Turn
from callcoach.pipeline import analyze
from callcoach.scorers.base import ScoringContext
from callcoach.scorers.opening import OpeningScorer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openings" / "openings.jsonl"
DATA2 = ROOT / "tests" / "data" / "openings" / "openings_holdout2.jsonl"
DATA3 = ROOT / "tests" / "data" / "openings" / "openings_holdout3.jsonl"
ELEMENTS = ("greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose")


def judge(item: dict) -> dict[str, bool]:
    """Return callcoach's verdicts for one opening."""
    cfg = Config()
    turns = tuple(Turn(speaker=t["speaker"], text=t["text"]) for t in item["turns"])
    call = analyze(Transcript(CallMetadata(call_id=item["id"], agent_id="x"), turns), cfg)
    m = OpeningScorer().score(call, ScoringContext(cfg, load_rulebook())).metrics
    out = {e: bool(m[f"opening.elements.{e}"]) for e in ELEMENTS}
    out["disclosure_before_verification"] = bool(m["opening.disclosure_before_verification"])
    return out


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def split(items: list[dict]) -> dict[str, list[dict]]:
    return {"dev": [i for i in items if int(i["id"][1:]) <= 60], "holdout": [i for i in items if int(i["id"][1:]) > 60]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", choices=["dev", "holdout", "holdout2", "holdout3"])
    args = ap.parse_args()
    sets = split(read(DATA))
    for name, path in (("holdout2", DATA2), ("holdout3", DATA3)):
        if path.is_file():
            sets[name] = read(path)
    for name, part in sets.items():
        keys = (*ELEMENTS, "disclosure_before_verification")
        right = dict.fromkeys(keys, 0)
        for item in part:
            got = judge(item)
            truth = {**item["elements"], "disclosure_before_verification": item["disclosure_before_verification"]}
            for k in keys:
                right[k] += got[k] == truth[k]
                if got[k] != truth[k] and args.verbose == name:
                    agent = " / ".join(t["text"] for t in item["turns"] if t["speaker"] == "agent")[:160]
                    print(f"  {item['id']} {k}: got {got[k]} want {truth[k]} | {agent}")
        overall = sum(right[k] for k in ELEMENTS) / (len(ELEMENTS) * len(part))
        print(f"{name}: elements right {overall:.3f}; " + ", ".join(f"{k} {right[k] / len(part):.2f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())

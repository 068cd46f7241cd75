"""callcoach on real third-party dialogue data (../shared/data), from one run.

  * JDDC (JD.com customer-service chat sessions, speaker-labelled): talk metrics with
    estimated times — distribution of agent share, agent questions, opening adherence —
    and scoring speed against jieba segmentation of the same sessions (ratio).
  * CPED held-out dialogues (never trained on): three-class sentiment macro-F1 of the model
    judging each utterance alone versus in context (the sentiment scorer), against stock
    snownlp.
  * STC-3 helpdesk dialogues: Spearman correlation between the customer's end-of-dialogue
    polarity and the mean human satisfaction (S) score, and how often prohibited-language
    rules fire on real (non-collection) customer-service agents (should be ~never).

    python benchmarks/bench_datasets.py [--sessions 300]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from statistics import mean, median

from callcoach.models import CallMetadata, Transcript, Turn
from callcoach.normalize import normalize_text
from callcoach.pipeline import Pipeline
from callcoach.scorers.prohibited import PROHIBITED_CATEGORIES
from callcoach.segment import default_segmenter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from train_sentiment import macro_f1  # noqa: E402  (the one macro-F1 the model is trained and judged by)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CALLCOACH_SHARED", ROOT.parent / "shared")) / "data"



def transcript(call_id: str, turns: list[tuple[str, str]]) -> Transcript:
    meta = CallMetadata(call_id=call_id, agent_id="unknown")
    return Transcript(meta, tuple(Turn(speaker=s, text=t) for s, t in turns))  # type: ignore[arg-type]


def jddc(pipe: Pipeline, limit: int) -> None:
    path = DATA / "jddc_sample" / "chat_0.1per.txt"
    if not path.is_file():
        print(f"JDDC: skipped ({path} not found)")
        return
    sessions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 7 and cols[6].strip():
            sessions[cols[0]].append(("agent" if cols[2] == "1" else "customer", cols[6]))
    items = [(k, v) for k, v in sessions.items() if len({s for s, _ in v}) == 2][:limit]
    seg = default_segmenter()
    shares, questions, adherence, flagged = [], [], [], 0
    seg_s = score_s = 0.0
    for sid, turns in items:
        t0 = time.perf_counter()
        for _, text in turns:
            seg.tokens(normalize_text(text))
        seg_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        r = pipe.score(transcript(sid, turns))
        score_s += time.perf_counter() - t0
        shares.append(r.metrics["talk.agent_share"])
        questions.append(r.metrics["talk.agent_questions"])
        adherence.append(r.metrics["opening.adherence"])
        flagged += any(f.category in PROHIBITED_CATEGORIES for f in r.findings)
    q = sorted(shares)
    print(f"JDDC: {len(items)} sessions (chat, times estimated from text length)")
    print(f"  agent share: median {median(shares):.2f}, quartiles {q[len(q) // 4]:.2f}-{q[3 * len(q) // 4]:.2f}; "
          f"agent questions per session {mean(questions):.1f}; opening adherence {mean(adherence):.2f}")
    print(f"  sessions with a prohibited-language finding: {flagged} ({flagged / len(items):.1%}) — e-commerce agents, expected ~0")
    print(f"  scoring cost vs jieba segmentation of the same sessions: {score_s / seg_s:.2f}x")


def cped(pipe: Pipeline) -> None:
    path = DATA / "cped" / "valid_split.csv"
    held_file = ROOT / "src" / "callcoach" / "resources" / "sentiment" / "heldout_cped_dialogues.txt"
    if not path.is_file():
        print(f"CPED: skipped ({path} not found)")
        return
    held = {x.strip() for x in held_file.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")}
    dialogues: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["Dialogue_ID"] in held:
                dialogues[row["Dialogue_ID"]].append(row)
    gold, alone, ctx = [], [], []
    model = pipe.context.sentiment_model
    seg = default_segmenter()
    for did, rows in dialogues.items():
        # Speakers of a TV scene become alternating "agent"/"customer" roles by name.
        names = list(dict.fromkeys(r["Speaker"] for r in rows))
        turns = [("agent" if names.index(r["Speaker"]) % 2 == 0 else "customer", r["Utterance"]) for r in rows]
        result = pipe.score(transcript(did, turns))
        gold += [r["Sentiment"] for r in rows]
        ctx += [s.label for s in result.sentiments]  # type: ignore[union-attr]
        alone += [model.predict(seg.cut(normalize_text(r["Utterance"]))).label for r in rows]
    print(f"CPED held-out: {len(dialogues)} dialogues, {len(gold)} utterances")
    print(f"  macro-F1 utterance alone {macro_f1(gold, alone):.3f}, in context (scorer) {macro_f1(gold, ctx):.3f}; "
          f"ratio {macro_f1(gold, ctx) / macro_f1(gold, alone):.2f}x")
    try:
        from snownlp import SnowNLP
    except ImportError:
        return
    stock = ["positive" if s > 0.8 else "negative" if s < 0.5 else "neutral"
             for s in (SnowNLP(r["Utterance"]).sentiments for rows in dialogues.values() for r in rows)]
    print(f"  stock snownlp (thresholds 0.5/0.8) macro-F1 {macro_f1(gold, stock):.3f}; "
          f"callcoach/stock {macro_f1(gold, ctx) / macro_f1(gold, stock):.2f}x")


def stc3(pipe: Pipeline, limit: int) -> None:
    path = DATA / "stc3_helpdesk" / "train_data_cn.json.gz"
    if not path.is_file():
        print(f"STC-3: skipped ({path} not found)")
        return
    dialogues = json.loads(gzip.open(path).read())[:limit]
    ends, sat, flagged = [], [], 0
    for d in dialogues:
        turns = [("agent" if t["sender"] == "helpdesk" else "customer", u) for t in d["turns"] for u in t["utterances"] if u.strip()]
        if not turns:
            continue
        r = pipe.score(transcript(str(d["id"]), turns))
        cust = [s.score for t, s in zip(r.turns, r.sentiments) if t.speaker == "customer" and s]
        if not cust:
            continue
        ends.append(cust[-1])
        sat.append(mean(a["quality"]["S"] for a in d["annotations"]))
        flagged += any(f.category in PROHIBITED_CATEGORIES for f in r.findings)
    print(f"STC-3: {len(ends)} helpdesk dialogues: Spearman(customer's last polarity, human satisfaction) = "
          f"{spearman(ends, sat):.3f}; dialogues with a prohibited-language finding {flagged} ({flagged / len(ends):.1%})")


def spearman(a: list[float], b: list[float]) -> float:
    def ranks(x: list[float]) -> list[float]:
        order = sorted(range(len(x)), key=lambda i: x[i])
        r = [0.0] * len(x)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r
    ra, rb = ranks(a), ranks(b)
    ma, mb = mean(ra), mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=500)
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (set CALLCOACH_SHARED)")
        return 0
    pipe = Pipeline()
    jddc(pipe, args.sessions)
    cped(pipe)
    stc3(pipe, args.sessions)
    return 0


if __name__ == "__main__":
    sys.exit(main())

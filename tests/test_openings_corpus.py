"""Opening elements and disclosure before verification on the opening corpora (tests/data/openings).

openings.jsonl o001-o060 were used to write the opening patterns, o061-o120 never were;
openings_holdout2.jsonl was written later by a writer who never saw the patterns (its misses were
then read once for general fixes); openings_holdout3.jsonl by another such writer after that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcoach.config import Config
from callcoach.lexicon import load_rulebook
from callcoach.models import CallMetadata, Transcript, Turn
from callcoach.pipeline import analyze
from callcoach.scorers.base import ScoringContext
from callcoach.scorers.opening import OpeningScorer

DATA = Path(__file__).parent / "data" / "openings"
ELEMENTS = ("greeting", "self_identify", "organization", "verify_identity", "recording_notice", "purpose")
CFG = Config()
CTX = ScoringContext(CFG, load_rulebook())


def _items(name: str) -> list[dict]:
    if name in ("holdout2", "holdout3"):
        path, keep = DATA / f"openings_{name}.jsonl", lambda i: True
    else:
        path = DATA / "openings.jsonl"
        keep = (lambda i: int(i["id"][1:]) <= 60) if name == "dev" else (lambda i: int(i["id"][1:]) > 60)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i for i in rows if keep(i)]


def _metrics(item: dict) -> dict:
    turns = tuple(Turn(speaker=t["speaker"], text=t["text"]) for t in item["turns"])
    call = analyze(Transcript(CallMetadata(call_id=item["id"], agent_id="x"), turns), CFG)  # type: ignore[arg-type]
    return dict(OpeningScorer().score(call, CTX).metrics)


@pytest.mark.parametrize("name,min_elements,min_disclosure", [("dev", 0.95, 0.90), ("holdout", 0.90, 0.75),
                                                               ("holdout2", 0.90, 0.85), ("holdout3", 0.90, 0.85)])
def test_opening_elements_right(name: str, min_elements: float, min_disclosure: float) -> None:
    items = _items(name)
    assert len(items) >= 50
    right = disclosure = 0
    for item in items:
        m = _metrics(item)
        right += sum(bool(m[f"opening.elements.{e}"]) == item["elements"][e] for e in ELEMENTS)
        disclosure += bool(m["opening.disclosure_before_verification"]) == item["disclosure_before_verification"]
    assert right / (len(ELEMENTS) * len(items)) >= min_elements, f"{name}: elements {right / (6 * len(items)):.3f}"
    assert disclosure / len(items) >= min_disclosure, f"{name}: disclosure {disclosure / len(items):.3f}"


def _element_examples(key: str) -> list[tuple[str, str]]:
    from callcoach.lexicon import load_table

    data = load_table("opening.toml")["elements"]
    return [(name, text) for name, e in data.items() for text in e.get(key, [])]


@pytest.mark.parametrize("element,text", _element_examples("examples"))
def test_opening_element_finds_its_examples(element: str, text: str) -> None:
    from callcoach.normalize import normalize_text
    from callcoach.scorers.opening import load_opening

    assert load_opening().elements[element].found_in(normalize_text(text)) is not None


@pytest.mark.parametrize("element,text", _element_examples("quiet"))
def test_opening_element_ignores_its_counter_examples(element: str, text: str) -> None:
    from callcoach.normalize import normalize_text
    from callcoach.scorers.opening import load_opening

    assert load_opening().elements[element].found_in(normalize_text(text)) is None

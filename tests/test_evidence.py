"""Findings exported as spaCy Spans line up with the result's character offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.io import read_transcript
from callcoach.pipeline import Pipeline

spacy = pytest.importorskip("spacy", reason="spaCy not installed (pip install 'callcoach[spacy]')")

from callcoach.evidence import SPAN_KEY, to_docs  # noqa: E402

CALL = Path(__file__).parent / "data" / "calls" / "c03_exposure_harassment.json"


def test_findings_become_spans() -> None:
    result = Pipeline().score(read_transcript(CALL))
    docs = to_docs(result)
    assert len(docs) == len(result.turns)
    located = [f for f in result.findings if f.turn_index is not None and f.char_start is not None]
    assert located
    for f in located:
        doc = docs[f.turn_index]
        labels = [s.label_ for s in doc.spans[SPAN_KEY]]
        assert f.rule_id in labels
        span = next(s for s in doc.spans[SPAN_KEY] if s.label_ == f.rule_id)
        assert span.start_char <= f.char_start and span.end_char >= f.char_end
        assert doc.text == result.turns[f.turn_index].text
    assert docs[0].user_data["call_id"] == result.metadata.call_id

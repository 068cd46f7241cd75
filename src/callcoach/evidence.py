"""Export a scored call as spaCy ``Doc`` objects: findings become ``Span`` evidence.

This is where spaCy earns its place in callcoach: as the evidence model for annotation and
visualisation tools (displaCy's span renderer, Prodigy review, ``DocBin`` corpora for
training a spaCy classifier on reviewed findings). It is deliberately not in the scoring
path: building spaCy Docs costs about 1.5x plain jieba segmentation (benchmarks/
bench_scoring.py), and rule matching works on characters, not tokens.

Each turn becomes a Doc whose tokens are callcoach's jieba tokens (so offsets agree with
the result's ``char_start``/``char_end``); ``doc.spans["callcoach"]`` holds one span per
finding, labelled with its rule id; ``doc.user_data`` carries the call id, turn index,
speaker, times and sentiment.
"""

from __future__ import annotations

from typing import Any, Optional

from .errors import MissingDependencyError
from .models import CallResult

SPAN_KEY = "callcoach"


def to_docs(result: CallResult, nlp: Optional[Any] = None) -> list[Any]:
    """Return one spaCy Doc per turn of ``result``, with findings as spans.

    Args:
        result: a scored call.
        nlp: a spaCy Language whose vocab to use (default: ``spacy.blank("zh")``).

    Raises:
        MissingDependencyError: spaCy is not installed.
    """
    try:
        import spacy
        from spacy.tokens import Doc
    except ImportError as exc:
        raise MissingDependencyError("spacy", "spacy", "Exporting findings as spaCy Docs") from exc
    vocab = (nlp or spacy.blank("zh")).vocab
    docs = []
    for turn, sentiment in zip(result.turns, result.sentiments):
        words = [t.text for t in turn.tokens]
        if "".join(words) != turn.text:
            words = list(turn.text)  # tokens always tile the text; keep offsets safe regardless
        doc = Doc(vocab, words=words, spaces=[False] * len(words))
        spans = []
        for f in result.findings:
            if f.turn_index != turn.index:
                continue
            start = f.char_start if f.char_start is not None else 0
            end = f.char_end if f.char_end is not None else len(turn.text)
            span = doc.char_span(start, end, label=f.rule_id, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans[SPAN_KEY] = spans
        doc.user_data.update({
            "call_id": result.metadata.call_id,
            "turn_index": turn.index,
            "speaker": turn.speaker,
            "start_s": turn.start_s,
            "end_s": turn.end_s,
            "sentiment": sentiment.to_dict() if sentiment else None,
        })
        docs.append(doc)
    return docs

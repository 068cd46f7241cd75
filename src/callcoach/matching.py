"""Match rule patterns against a turn: word boundaries, negation and exceptions.

Matching runs on characters, so it does not depend on how jieba splits a phrase;
jieba's tokens are only used to *reject* a hit whose edge cuts a word in two (the
上门 inside 马上门口). A hit is negated when a negation cue (不会, 绝不, 没有 …) stands
before it in the same clause and is not followed by a consequence marker (就, 否则 …):
"我们不会给您单位打电话" is a reassurance, while "你不还我们就找你单位" is a threat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from .lexicon import CLAUSE_BREAKS, CompiledPattern, Rule, TermSet
from .models import Token

_SENTENCE_BREAKS = "。！？!?\n"


@dataclass(frozen=True)
class Hit:
    """Where a rule matched inside a turn's text."""

    rule: Rule
    start: int
    end: int
    pattern: str


@dataclass(frozen=True)
class TermIndex:
    """Which boundary term sets occur in a text: the pre-filter for patterns."""

    regexes: Mapping[str, re.Pattern[str]]

    def present_per_text(self, texts: Sequence[str]) -> list[frozenset[str]]:
        """Return, for each text, the sets with a term in it: one scan of all texts per set."""
        import bisect

        starts, pos = [], 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + 1
        joined = "\n".join(texts)
        found: list[set[str]] = [set() for _ in texts]
        for name, rx in self.regexes.items():
            for m in rx.finditer(joined):
                found[bisect.bisect_right(starts, m.start()) - 1].add(name)
        return [frozenset(f) for f in found]


_PREPARED: dict[int, tuple[Mapping[str, TermSet], TermIndex, "Negation"]] = {}


def prepared(terms: Mapping[str, TermSet]) -> tuple[TermIndex, "Negation"]:
    """Return the pre-filter index and the negation model for a loaded term mapping (memoised)."""
    cached = _PREPARED.get(id(terms))
    if cached is not None and cached[0] is terms:
        return cached[1], cached[2]
    index = term_index(terms)
    negation = negation_from_terms(terms)
    if len(_PREPARED) > 8:
        _PREPARED.clear()
    _PREPARED[id(terms)] = (terms, index, negation)
    return index, negation


def term_index(terms: Mapping[str, TermSet]) -> TermIndex:
    """Build the pre-filter index for the boundary term sets (use :func:`prepared` to reuse it)."""
    return TermIndex({ts.name: re.compile(ts.lead() + ts.alternation()) for ts in terms.values() if ts.boundary})


def clause_span(text: str, pos: int) -> tuple[int, int]:
    """Return the [start, end) of the clause around ``pos`` (split on punctuation)."""
    start = pos
    while start > 0 and text[start - 1] not in CLAUSE_BREAKS:
        start -= 1
    end = pos
    while end < len(text) and text[end] not in CLAUSE_BREAKS:
        end += 1
    return start, end


def sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Return the [start, end) of the sentence(s) covering text[start:end]."""
    s = start
    while s > 0 and text[s - 1] not in _SENTENCE_BREAKS:
        s -= 1
    e = max(end, start)
    while e < len(text) and text[e] not in _SENTENCE_BREAKS:
        e += 1
    if e < len(text):
        e += 1
    return s, e


def crosses_token(tokens: Sequence[Token], start: int, end: int) -> bool:
    """Say whether [start, end) cuts a jieba word: starts or ends inside one, or sits inside one."""
    for t in tokens:
        if t.start >= end:
            break
        if t.end <= start:
            continue
        if t.start <= start and t.end >= end:
            # One word holds the whole hit: fine when a multi-character hit begins or ends
            # it (上门 in 上门催收, 老赖 in 大老赖), not when it sits inside (行局 in 执行局)
            # or is a single character of a longer word (手 in 手机).
            return not (end - start >= 2 and (t.start == start or t.end == end))
        if t.start < start < t.end or t.start < end < t.end:
            return True
    return False


@dataclass(frozen=True)
class Negation:
    """Negation cues, consequence markers that cancel them, and after-the-fact denials."""

    cues: re.Pattern[str]
    reversals: re.Pattern[str]
    denials: re.Pattern[str]


def negation_from_terms(terms: Mapping[str, TermSet]) -> Negation:
    """Build the negation model from the ``negation*`` term sets."""
    return Negation(
        cues=re.compile(terms["negation"].alternation()),
        reversals=re.compile(terms["negation_reversal"].alternation()),
        denials=re.compile(terms["post_negation"].alternation()),
    )


_A_NOT_A = re.compile(r"(.)[不没]\1")  # 是不是, 会不会, 有没有: questions, not negations


def is_negated(
    text: str, start: int, end: int, neg: Negation, content: Sequence[tuple[int, int]] = ()
) -> bool:
    """Say whether the hit text[start:end] is negated or denied in its clause.

    A cue counts anywhere from the clause start to the end of the hit ("我们不会通知您家人",
    "您父母那边我们绝对不会去说"), except inside the hit's own terms (``content`` spans: the
    不得 of 不得好死 is the insult, not a negation), and unless a consequence marker follows it
    ("你没还我们就通知你家人" is a threat). A denial after the hit in the same sentence
    ("…那个说法是错的") cancels it too.
    """
    c_start, _ = clause_span(text, start)
    chars = list(text[c_start:end])
    for s, e in content:
        for i in range(max(s, c_start), min(e, end)):
            chars[i - c_start] = "\uFFFC"
    window = _A_NOT_A.sub("\uFFFC\uFFFC\uFFFC", "".join(chars))
    cue = None
    for m in neg.cues.finditer(window):
        cue = m
    if cue is not None and not neg.reversals.search(window[cue.end():]):
        return True
    _, s_end = sentence_span(text, start, end)
    return bool(neg.denials.search(text[end:s_end]))


def match_rule(
    rule: Rule,
    text: str,
    tokens: Sequence[Token],
    present: frozenset[str],
    negation: Optional[Negation],
    dead: frozenset[str] = frozenset(),
) -> Optional[Hit]:
    """Return the first valid hit of ``rule`` in ``text``, or None.

    ``dead`` holds the sources of patterns already known not to match anywhere in the call.
    """
    for pattern in rule.patterns:
        if not pattern.required_sets <= present or pattern.source in dead:
            continue
        hit = _match_pattern(rule, pattern, text, tokens, negation)
        if hit is not None:
            return hit
    return None


def _match_pattern(
    rule: Rule, pattern: CompiledPattern, text: str, tokens: Sequence[Token], negation: Optional[Negation]
) -> Optional[Hit]:
    for m in pattern.regex.finditer(text):
        if any(
            m.start(g) >= 0 and crosses_token(tokens, m.start(g), m.end(g)) for g in pattern.boundary_groups
        ):
            continue
        if rule.negatable and negation is not None:
            spans = [m.span(g) for g in pattern.boundary_groups if m.start(g) >= 0]
            if is_negated(text, m.start(), m.end(), negation, spans):
                continue
        if rule.unless:
            s, e = sentence_span(text, m.start(), m.end())
            if any(u.regex.search(text[s:e]) for u in rule.unless):
                continue
        return Hit(rule, m.start(), m.end(), pattern.source)
    return None

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
from typing import Iterable, Iterator, Mapping, Optional, Sequence

from .lexicon import CLAUSE_BREAKS, CompiledPattern, Rule, Rulebook, TermSet
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
class TermHits:
    """The term sets found in one text, and where their plain words start.

    ``starts`` is complete only for the ``anchored`` sets (those without regex fragments):
    use :meth:`starts_of`.
    """

    present: frozenset[str]
    starts: Mapping[str, tuple[int, ...]]
    anchored: frozenset[str]

    def starts_of(self, name: Optional[str]) -> Optional[tuple[int, ...]]:
        """Return every position a term of set ``name`` starts at, or None when not known."""
        if name is None or name not in self.anchored:
            return None
        return self.starts.get(name, ())


@dataclass(frozen=True)
class TermIndex:
    """Which term sets occur in a text, and where: the pre-filter for patterns.

    Every boundary set is looked for (patterns need their boundary sets, see
    :attr:`CompiledPattern.required_sets`), and so is every set that patterns start with
    (:attr:`CompiledPattern.anchor`). The sets' plain words (homophones included) are
    looked up in one pass over the text, by their first two characters; the few terms
    that are regex fragments are searched for. ``anchored`` names the sets made of plain
    words only: for these, :attr:`TermHits.starts` holds every position a term starts at.
    """

    words: Mapping[str, tuple[str, ...]]
    lengths: Mapping[str, tuple[int, ...]]
    singles: Optional[re.Pattern[str]]
    fragments: Mapping[str, re.Pattern[str]]
    anchored: frozenset[str]

    def needs(self, pattern: CompiledPattern) -> frozenset[str]:
        """Return the sets that must be present for ``pattern`` to match: its boundary sets and anchor."""
        if pattern.anchor is None or pattern.anchor not in self.anchored:
            return pattern.required_sets
        return pattern.required_sets | {pattern.anchor}

    def scan(self, text: str) -> TermHits:
        """Return the sets with a term in ``text``, and where the anchored sets' terms start."""
        words, get = self.words, self.lengths.get
        found: list[tuple[int, tuple[str, ...]]] = []
        for i, lengths in [(i, ls) for i in range(len(text) - 1) if (ls := get(text[i:i + 2]))]:
            for n in lengths:
                names = words.get(text[i:i + n])
                if names:
                    found.append((i, names))
        if self.singles is not None:
            found += [(m.start(), words[m.group()]) for m in self.singles.finditer(text)]
            found.sort(key=lambda f: f[0])
        starts: dict[str, list[int]] = {}
        for i, names in found:
            for name in names:
                at = starts.setdefault(name, [])
                if not at or at[-1] != i:
                    at.append(i)
        present = set(starts)
        present.update(name for name, rx in self.fragments.items() if name not in present and rx.search(text))
        return TermHits(frozenset(present), {name: tuple(at) for name, at in starts.items()}, self.anchored)


_PREPARED: dict[int, tuple[Rulebook, TermIndex, "Negation"]] = {}


def prepared(book: Rulebook) -> tuple[TermIndex, "Negation"]:
    """Return the pre-filter index and the negation model for a loaded rulebook (memoised)."""
    cached = _PREPARED.get(id(book))
    if cached is not None and cached[0] is book:
        return cached[1], cached[2]
    anchors = {p.anchor for r in book.rules for p in r.patterns if p.anchor is not None}
    index = term_index(book.terms, anchors)
    negation = negation_from_terms(book.terms)
    if len(_PREPARED) > 8:
        _PREPARED.clear()
    _PREPARED[id(book)] = (book, index, negation)
    return index, negation


def term_index(terms: Mapping[str, TermSet], anchors: Iterable[str] = ()) -> TermIndex:
    """Build the index of the boundary sets and the ``anchors`` (use :func:`prepared` to reuse it)."""
    wanted = set(anchors)
    words: dict[str, set[str]] = {}
    fragments: dict[str, re.Pattern[str]] = {}
    anchored: set[str] = set()
    for ts in terms.values():
        if not ts.boundary and ts.name not in wanted:
            continue
        plain, regex_terms = ts.words()
        if regex_terms and not ts.boundary:
            continue  # an anchor only helps when all of its terms are plain words
        for w in plain:
            words.setdefault(w, set()).add(ts.name)
        if regex_terms:
            fragments[ts.name] = re.compile(ts.lead() + "(?:" + "|".join(regex_terms) + ")")
        else:
            anchored.add(ts.name)
    lengths: dict[str, set[int]] = {}
    for w in words:
        if len(w) > 1:
            lengths.setdefault(w[:2], set()).add(len(w))
    singles = "".join(sorted(w for w in words if len(w) == 1))
    return TermIndex(
        words={w: tuple(sorted(names)) for w, names in words.items()},
        lengths={k: tuple(sorted(v)) for k, v in lengths.items()},
        singles=re.compile("[" + re.escape(singles) + "]") if singles else None,
        fragments=fragments,
        anchored=frozenset(anchored),
    )


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
    hits: TermHits,
    negation: Optional[Negation],
    patterns: Optional[Sequence[CompiledPattern]] = None,
) -> Optional[Hit]:
    """Return the first valid hit of ``rule`` in ``text``, or None.

    ``hits`` is the :class:`TermIndex` scan of ``text``. ``patterns`` are the rule's
    patterns worth trying, in the rule's order (by default all of them); a pattern runs
    only when its boundary term sets occur in the text.
    """
    for pattern in rule.patterns if patterns is None else patterns:
        if not pattern.required_sets <= hits.present:
            continue
        hit = _match_pattern(rule, pattern, text, tokens, negation, hits)
        if hit is not None:
            return hit
    return None


def _matches(pattern: CompiledPattern, text: str, hits: TermHits) -> Iterator[re.Match[str]]:
    """Yield what ``pattern.regex.finditer(text)`` yields, trying only where a match can start."""
    starts = hits.starts_of(pattern.anchor)
    if starts is None:
        yield from pattern.regex.finditer(text)
        return
    end = 0
    for i in starts:
        if i >= end:
            m = pattern.regex.match(text, i)
            if m is not None:
                yield m
                end = m.end()


def _match_pattern(
    rule: Rule,
    pattern: CompiledPattern,
    text: str,
    tokens: Sequence[Token],
    negation: Optional[Negation],
    hits: TermHits,
) -> Optional[Hit]:
    for m in _matches(pattern, text, hits):
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

"""The pattern pre-filter: the term index and anchored matching must agree with plain regex search."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from callcoach.lexicon import _first_chars, _top_level_alternative, compile_pattern, load_rulebook
from callcoach.matching import _matches, prepared

BOOK = load_rulebook()
INDEX, _ = prepared(BOOK)
PATTERNS = [p for r in BOOK.rules for p in r.patterns]


def _texts() -> list[str]:
    texts = [e.text for r in BOOK.rules for e in (*r.fire, *r.pass_)]
    path = Path(__file__).parent / "data" / "utterances" / "dev.jsonl"
    texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


TEXTS = _texts()


def test_words_are_what_the_alternation_matches() -> None:
    for ts in BOOK.terms.values():
        for fuzzy in (False, True):
            words, fragments = ts.words(fuzzy)
            rx = re.compile(ts.alternation(fuzzy))
            assert all(rx.fullmatch(w) for w in words), ts.name
            assert set(fragments) == {t for t in ts.terms if t not in words}, ts.name


def test_scan_finds_the_sets_the_regexes_find() -> None:
    indexed = {ts.name: re.compile(ts.alternation()) for ts in BOOK.terms.values() if ts.boundary}
    anchored = {name: re.compile("(?=" + BOOK.terms[name].alternation() + ")") for name in INDEX.anchored}
    for text in TEXTS:
        hits = INDEX.scan(text)
        assert {n for n in indexed if n in hits.present} == {n for n, rx in indexed.items() if rx.search(text)}
        for name, rx in anchored.items():
            assert hits.starts_of(name) == tuple(m.start() for m in rx.finditer(text)), (name, text)


def test_anchored_matching_finds_what_finditer_finds() -> None:
    anchored = [p for p in PATTERNS if p.anchor in INDEX.anchored]
    assert len(anchored) > 20
    for text in TEXTS:
        hits = INDEX.scan(text)
        for p in anchored:
            assert [m.span() for m in _matches(p, text, hits)] == [m.span() for m in p.regex.finditer(text)]


def test_lead_lookahead_allows_every_first_character() -> None:
    for ts in BOOK.terms.values():
        lead = ts.lead()
        if lead:
            rx = re.compile(ts.alternation())
            first = re.compile(lead)
            for text in TEXTS:
                for m in rx.finditer(text):
                    assert first.match(text, m.start()), (ts.name, text)


@pytest.mark.parametrize("pattern,anchor", [
    ("{kin}{~3}知道", "kin"),
    ("{kin}", "kin"),
    ("{kin}?知道", None),
    ("{kin}{2}", None),
    ("{kin}知道|告诉", None),
    ("({kin}知道|告诉)", None),
    ("知道{kin}", None),
    ("{~3}{kin}", None),
])
def test_anchor_is_the_set_every_match_starts_with(pattern: str, anchor: str | None) -> None:
    assert compile_pattern(pattern, BOOK.terms, "test", "test").anchor == anchor


@pytest.mark.parametrize("fragment,first", [
    ("(坐不了|不能坐)(高铁|飞机)", {"坐", "不"}),
    ("身份证[^，]{0,6}注销", {"身"}),
    ("(坐不了|不能坐)?高铁", None),
    ("身?份证", None),
    ("嫌吵|吵死你", None),
    ("[你您]的", None),
    ("(?:你|您)的", None),
])
def test_first_chars_of_a_fragment(fragment: str, first: set[str] | None) -> None:
    assert _first_chars(fragment) == first


def test_top_level_alternative() -> None:
    assert _top_level_alternative("a|b") and _top_level_alternative("(a)|[b]")
    assert not any(map(_top_level_alternative, ["(a|b)", "[|]", "[]|]", "[^]|]", r"\|", "(?:[)]|x)"]))


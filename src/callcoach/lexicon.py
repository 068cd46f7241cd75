"""Load the data in ``lexicons/``: term sets, rules, the opening script and the domain dictionary.

Everything here is data validated when it loads: an unknown key, a missing field or a
pattern that does not compile is a :class:`RuleError` naming the file and the rule.

Rule patterns are regular expressions over normalised text with two macros:

- ``{name}`` expands to the alternation of term set ``name`` from ``terms.toml``
  (longest first). Sets marked ``boundary = true`` must match whole words: a hit whose
  edge cuts through a jieba token (马上门口 is not 上门) is dropped. Sets marked
  ``fuzzy = true`` also match homophones (同时 for 同事, 海款 for 还款), because
  speech recognition confuses characters that sound alike.
- ``{~N}`` is a gap of up to N characters inside one clause.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from .errors import RuleError
from .models import SEVERITIES

CLAUSE_BREAKS = "，。！？；：,.!?;\n"
_GAP_CLASS = "[^" + re.escape(CLAUSE_BREAKS) + "]"
_MACRO = re.compile(r"\{(~\d+|[a-z_][a-z0-9_]*)\}")
_RULE_ID = re.compile(r"^[A-Z]{2,4}\d{3}$")
_REGEX_META = re.compile(r"[\\\[\](){}|?*+.^$]")
CATEGORIES = ("violence", "exposure", "impersonation", "false_legal", "insult", "harassment", "pressure", "privacy")


def lexicon_root() -> Traversable:
    """Return the packaged ``lexicons`` directory."""
    return resources.files("callcoach") / "lexicons"


def _read_toml(path: Traversable) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise RuleError("file not found", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"invalid TOML: {exc}", path=str(path)) from exc


def _check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str, path: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}", path=path)


# --------------------------------------------------------------------------- term sets


@dataclass(frozen=True)
class TermSet:
    """A named list of words or regex fragments used in rule patterns."""

    name: str
    terms: tuple[str, ...]
    boundary: bool = False
    fuzzy: bool = False
    description: str = ""

    def alternation(self, fuzzy: Optional[bool] = None) -> str:
        """Return the regex alternation of this set (fuzzy sets include homophones)."""
        use_fuzzy = self.fuzzy if fuzzy is None else fuzzy and self.fuzzy
        alts = sorted(self.terms, key=len, reverse=True)
        parts = [_fuzzy_term(t) if use_fuzzy and _plain_cjk(t) else t for t in alts]
        return "(?:" + "|".join(parts) + ")"

    def lead(self, fuzzy: Optional[bool] = None) -> str:
        """Return a lookahead on the characters a match can start with ("" if unknown).

        Python's regex engine tries every alternative at every position; a leading
        character class lets it skip positions that cannot start a term (3x faster).
        """
        use_fuzzy = self.fuzzy if fuzzy is None else fuzzy and self.fuzzy
        chars: set[str] = set()
        for t in self.terms:
            if _REGEX_META.search(t):
                first = _first_chars(t)
                if first is None:
                    return ""
                chars |= first
                continue
            chars.add(t[0])
            if use_fuzzy and _plain_cjk(t):
                chars |= _homophone_class(t[0])
        return "(?=[" + "".join(sorted(re.escape(c) for c in chars)) + "])"

    def words(self, fuzzy: Optional[bool] = None) -> tuple[frozenset[str], tuple[str, ...]]:
        """Return (the plain words :meth:`alternation` matches, the terms that are regex fragments).

        A text holds a match of the alternation exactly when it holds one of the words or a
        match of a fragment. With homophones, each plain CJK term also stands for its
        one-character variants (see :func:`_fuzzy_term`).
        """
        use_fuzzy = self.fuzzy if fuzzy is None else fuzzy and self.fuzzy
        words: set[str] = set()
        fragments: list[str] = []
        for t in sorted(self.terms, key=len, reverse=True):
            if _REGEX_META.search(t):
                fragments.append(t)
                continue
            words.add(t)
            if use_fuzzy and _plain_cjk(t):
                words.update(v for i, ch in enumerate(t) for v in _homophone_variants(t, i, ch))
        return frozenset(words), tuple(fragments)


_PLAIN_GROUP = re.compile(r"\(([^\\\[\](){}|?*+.^$]+(?:\|[^\\\[\](){}|?*+.^$]+)*)\)")


def _first_chars(fragment: str) -> Optional[set[str]]:
    """Return the characters a match of a regex fragment can start with, or None when unsure.

    Only the simple shapes the term lists use are understood: a fragment starting with a
    plain character, or with a group of plain alternatives ("(坐不了|不能坐)(高铁|飞机)"),
    that is not optional and not one alternative of several.
    """
    if _top_level_alternative(fragment):
        return None
    group = _PLAIN_GROUP.match(fragment)
    if group is not None:
        chars, end = {alt[0] for alt in group.group(1).split("|")}, group.end()
    elif not _REGEX_META.match(fragment):
        chars, end = {fragment[0]}, 1
    else:
        return None
    return None if _QUANTIFIER.match(fragment, end) else chars


_TERM_KEYS = ("terms", "boundary", "fuzzy", "description")


@lru_cache(maxsize=4)
def load_terms(root: Optional[Traversable] = None) -> Mapping[str, TermSet]:
    """Return the term sets of ``terms.toml`` by name."""
    path = (root or lexicon_root()) / "terms.toml"
    data = _read_toml(path)
    sets: dict[str, TermSet] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise RuleError(f"[{name}] must be a table with 'terms'", path=str(path))
        _check_keys(table, _TERM_KEYS, f"[{name}]", str(path))
        terms = table.get("terms")
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t for t in terms):
            raise RuleError(f"[{name}].terms must be a non-empty list of strings", path=str(path))
        for t in terms:
            _compile(t, str(path), f"[{name}] term")
        sets[name] = TermSet(
            name=name,
            terms=tuple(terms),
            boundary=bool(table.get("boundary", False)),
            fuzzy=bool(table.get("fuzzy", False)),
            description=str(table.get("description", "")),
        )
    return sets


def _plain_cjk(term: str) -> bool:
    return len(term) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in term)


@lru_cache(maxsize=1)
def _homophones() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Return (char -> toneless readings, reading -> common chars whose *usual* reading it is).

    A recogniser that mishears writes a common character in its usual reading, so the
    candidates for a homophone are the 3,755 common characters of GB2312 level 1, indexed
    by their first (most frequent) reading only; this keeps 的 (de) from standing for 弟 (di).
    """
    readings: dict[str, frozenset[str]] = {}
    by_reading: dict[str, set[str]] = {}
    for code, value in _pinyin_table().items():
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        ch = chr(code)
        tones = [_strip_tone(r) for r in value.split(",")]
        readings[ch] = frozenset(tones)
        if _common(ch):
            by_reading.setdefault(tones[0], set()).add(ch)
    return readings, {k: frozenset(v) for k, v in by_reading.items()}


def _pinyin_table() -> dict[int, str]:
    """Load pypinyin's code point -> readings table without importing pypinyin's phrase data."""
    import importlib.util

    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise RuleError("fuzzy term sets need the 'pypinyin' package: pip install pypinyin")
    path = Path(list(spec.submodule_search_locations)[0]) / "pinyin_dict.py"
    mod_spec = importlib.util.spec_from_file_location("_callcoach_pinyin_dict", path)
    module = importlib.util.module_from_spec(mod_spec)  # type: ignore[arg-type]
    mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.pinyin_dict  # type: ignore[no-any-return]


def _common(ch: str) -> bool:
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return 0xB0 <= b[0] <= 0xD7


def _strip_tone(syllable: str) -> str:
    s = unicodedata.normalize("NFD", syllable)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.replace("ü", "v")


@lru_cache(maxsize=4096)
def _fuzzy_term(term: str) -> str:
    """Return a regex matching ``term`` with at most one character replaced by a homophone.

    Recognition errors change one character of a word (同事 -> 同时, 法院 -> 发院); allowing
    every character to vary at once would match unrelated words.
    """
    variants = []
    for i, ch in enumerate(term):
        chars = _homophone_class(ch)
        if len(chars) > 1:
            cls = "[" + "".join(sorted(chars)) + "]"
            variants.append(re.escape(term[:i]) + cls + re.escape(term[i + 1:]))
    return "(?:" + "|".join(variants) + ")" if variants else re.escape(term)


def _homophone_variants(term: str, i: int, ch: str) -> list[str]:
    """Return the words that :func:`_fuzzy_term`'s alternative for position ``i`` matches."""
    chars = _homophone_class(ch)
    return [term[:i] + c + term[i + 1:] for c in chars] if len(chars) > 1 else []


@lru_cache(maxsize=8192)
def _homophone_class(ch: str) -> frozenset[str]:
    """Return ``ch`` and the common characters whose usual reading is one of its readings."""
    readings, by_reading = _homophones()
    chars = {ch}
    for r in readings.get(ch, ()):
        chars |= by_reading.get(r, frozenset())
    return frozenset(chars)


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class CompiledPattern:
    """A rule pattern after macro expansion.

    ``boundary_groups`` names the regex groups whose edges must fall on token
    boundaries; ``required_sets`` are the boundary term sets that must occur in a turn
    for the pattern to be worth running (a cheap pre-filter). The expanded regex is
    compiled on first use: homophone classes make compiling every pattern up front cost
    over a second, and most patterns never meet their term sets in a given batch. The
    pattern's own syntax is checked when it loads.

    ``anchor`` names the term set that every match starts with (the pattern begins with
    that set, unrepeated, and has no top-level alternative), or is None: a matcher that
    knows where the set's terms occur need only try the pattern there.
    """

    source: str
    expanded: str
    boundary_groups: tuple[str, ...]
    required_sets: frozenset[str]
    anchor: Optional[str] = None

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.expanded)

    @functools.cached_property
    def context_free(self) -> bool:
        """Say whether a match in a text is also a match in any longer text that contains it.

        True unless the pattern has anchors, lookarounds or word-boundary escapes: those look
        at what lies beyond the match, so text joined from several turns can hide a match
        that a turn alone has (``(^|，)笨蛋`` after a newline, ``(?![^。]*你)`` before the next
        turn). Only context-free patterns may be ruled out by searching joined text.
        """
        return _CONTEXT_SENSITIVE.search(self.expanded) is None


_CONTEXT_SENSITIVE = re.compile(r"(?<![\\[])\^|(?<!\\)\$|\(\?(?:[=!]|<[=!])|\\[bBAZ]")


def compile_pattern(pattern: str, terms: Mapping[str, TermSet], path: str, where: str) -> CompiledPattern:
    """Expand the macros in ``pattern`` and compile it.

    Homophones are only matched where the rest of the pattern corroborates them: a pattern
    that is a single term set on its own ("{jail}") matches its terms exactly, because a
    lone homophone is far more often another real word (劳烦 is not 牢饭) than an ASR error.
    """
    groups: list[str] = []
    required: set[str] = set()
    lone = _MACRO.fullmatch(pattern.strip()) is not None
    first = _MACRO.match(pattern)
    lead = ""
    anchor = None
    if first is not None and not first.group(1).startswith("~") and first.group(1) in terms:
        lead = terms[first.group(1)].lead(fuzzy=not lone)
        if not _QUANTIFIER.match(pattern, first.end()) and not _top_level_alternative(pattern):
            anchor = first.group(1)

    def expand(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("~"):
            return f"{_GAP_CLASS}{{0,{int(name[1:])}}}?"
        ts = terms.get(name)
        if ts is None:
            raise RuleError(f"{where}: pattern uses unknown term set {{{name}}}", path=path)
        alternation = ts.alternation(fuzzy=not lone)
        if not ts.boundary:
            return alternation
        group = f"b{len(groups)}"
        groups.append(group)
        required.add(name)
        return f"(?P<{group}>{alternation})"

    expanded = lead + _MACRO.sub(expand, pattern)
    # Check the pattern's own syntax now, with each term set stood in for by one word.
    _compile(_MACRO.sub(lambda m: "(?:x)", pattern), path, where)
    return CompiledPattern(pattern, expanded, tuple(groups), frozenset(required), anchor)


_QUANTIFIER = re.compile(r"[?*+]|\{[\d,]")


def _top_level_alternative(pattern: str) -> bool:
    """Say whether ``pattern`` has a ``|`` outside every group (``a|b`` rather than ``(a|b)``)."""
    depth, i = 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
        elif ch == "[":  # skip the class; a "]" right after "[" or "[^" is a member
            i += 1
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)
            while i < len(pattern) and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def compile_all(patterns: Iterable[str], path: str, where: str) -> tuple[re.Pattern[str], ...]:
    """Compile a list of patterns (with macros) from a data file such as ``opening.toml``."""
    terms = load_terms()
    return tuple(compile_pattern(p, terms, path, where).regex for p in patterns)


def first_match(patterns: Iterable[re.Pattern[str]], text: str) -> Optional[re.Match[str]]:
    """Return the first match of any of ``patterns`` in ``text``."""
    for p in patterns:
        m = p.search(text)
        if m:
            return m
    return None


def _compile(regex: str, path: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise RuleError(f"{where}: invalid pattern ({exc})", path=path) from exc


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class RuleExample:
    """An utterance a rule must flag (``fire``) or must leave alone (``pass``)."""

    text: str
    days_overdue: Optional[int] = None


@dataclass(frozen=True)
class Rule:
    """A prohibited-language or coaching rule: data from a rule file in ``lexicons/rules``."""

    id: str
    name: str
    category: str
    severity: str
    message: str
    rationale: str
    suggestion: str
    patterns: tuple[CompiledPattern, ...]
    speaker: str = "agent"
    kind: str = "pattern"
    unless: tuple[CompiledPattern, ...] = ()
    negatable: bool = True
    min_days_overdue: Optional[int] = None
    max_days_overdue: Optional[int] = None
    regulation: str = ""
    aliases: tuple[str, ...] = ()
    fire: tuple[RuleExample, ...] = ()
    pass_: tuple[RuleExample, ...] = field(default=())
    source: str = ""

    def applies_to_days(self, days_overdue: Optional[int]) -> bool:
        """Say whether the rule applies at this escalation point (stage rules need days_overdue)."""
        if self.min_days_overdue is None and self.max_days_overdue is None:
            return True
        if days_overdue is None:
            return False
        if self.min_days_overdue is not None and days_overdue < self.min_days_overdue:
            return False
        return self.max_days_overdue is None or days_overdue <= self.max_days_overdue


_RULE_KEYS = (
    "id", "name", "category", "severity", "speaker", "kind", "patterns", "unless", "negatable",
    "message", "rationale", "regulation", "suggestion", "min_days_overdue", "max_days_overdue",
    "aliases", "examples",
)


def _rule_from_table(table: Mapping[str, Any], terms: Mapping[str, TermSet], path: str) -> Rule:
    rid = table.get("id")
    where = f"rule {rid!r}" if rid else "rule without id"
    _check_keys(table, _RULE_KEYS, where, path)
    for key in ("id", "name", "category", "severity", "message", "rationale", "suggestion"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise RuleError(f"{where}: '{key}' is required and must be a non-empty string", path=path)
    if not _RULE_ID.match(table["id"]):
        raise RuleError(f"{where}: id must be 2-4 capital letters and 3 digits, e.g. EXP001", path=path)
    if table["category"] not in CATEGORIES:
        raise RuleError(f"{where}: unknown category {table['category']!r}; expected one of {CATEGORIES}", path=path)
    if table["severity"] not in SEVERITIES:
        raise RuleError(f"{where}: unknown severity {table['severity']!r}; expected one of {SEVERITIES}", path=path)
    speaker = table.get("speaker", "agent")
    if speaker not in ("agent", "customer", "any"):
        raise RuleError(f"{where}: speaker must be agent, customer or any", path=path)
    kind = table.get("kind", "pattern")
    if kind not in ("pattern", "model"):
        raise RuleError(f"{where}: kind must be 'pattern' or 'model' (the learned detector)", path=path)
    pats = table.get("patterns", [])
    if kind == "pattern" and (not isinstance(pats, list) or not pats):
        raise RuleError(f"{where}: 'patterns' must be a non-empty list", path=path)
    if kind == "model" and pats:
        raise RuleError(f"{where}: a model rule has no patterns", path=path)
    examples = table.get("examples", {})
    _check_keys(examples, ("fire", "pass"), f"{where} examples", path)
    fire = tuple(_example(e, where, path) for e in examples.get("fire", []))
    pass_ = tuple(_example(e, where, path) for e in examples.get("pass", []))
    if not fire:
        raise RuleError(f"{where}: needs at least one example under examples.fire", path=path)
    return Rule(
        id=table["id"],
        name=table["name"],
        category=table["category"],
        severity=table["severity"],
        message=table["message"].strip(),
        rationale=table["rationale"].strip(),
        suggestion=table["suggestion"].strip(),
        regulation=str(table.get("regulation", "")).strip(),
        speaker=speaker,
        kind=kind,
        patterns=tuple(compile_pattern(p, terms, path, where) for p in pats),
        unless=tuple(compile_pattern(p, terms, path, where) for p in table.get("unless", [])),
        negatable=bool(table.get("negatable", True)),
        min_days_overdue=table.get("min_days_overdue"),
        max_days_overdue=table.get("max_days_overdue"),
        aliases=tuple(table.get("aliases", [])),
        fire=fire,
        pass_=pass_,
        source=path,
    )


def _example(value: Any, where: str, path: str) -> RuleExample:
    if isinstance(value, str):
        return RuleExample(value)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        _check_keys(value, ("text", "days_overdue"), f"{where} example", path)
        return RuleExample(value["text"], value.get("days_overdue"))
    raise RuleError(f"{where}: an example must be a string or a table with 'text'", path=path)


@dataclass(frozen=True)
class Rulebook:
    """All loaded rules, in file order, with the hash of the files they came from."""

    rules: tuple[Rule, ...]
    terms: Mapping[str, TermSet]
    sha256: str

    def get(self, rule_id: str) -> Rule:
        """Return the rule with this id or alias."""
        for r in self.rules:
            if r.id == rule_id or rule_id in r.aliases:
                return r
        raise RuleError(f"no rule with id {rule_id!r}; see `callcoach rules list`")


@lru_cache(maxsize=4)
def load_rulebook(root: Optional[Traversable] = None) -> Rulebook:
    """Load every ``rules/*.toml`` file under the lexicon root."""
    root = root or lexicon_root()
    terms = load_terms(root)  # type: ignore[arg-type]  # Traversables are hashable in practice
    digest = hashlib.sha256()
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    files = sorted((p for p in (root / "rules").iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    digest.update((root / "terms.toml").read_bytes())
    for path in files:
        digest.update(path.read_bytes())
        data = _read_toml(path)
        _check_keys(data, ("rule",), "top level", str(path))
        for table in data.get("rule", []):
            rule = _rule_from_table(table, terms, str(path))
            for key in (rule.id, *rule.aliases):
                if key in seen:
                    raise RuleError(f"rule id {key!r} is defined twice (also in {seen[key]})", path=str(path))
                seen[key] = str(path)
            rules.append(rule)
    return Rulebook(tuple(rules), terms, digest.hexdigest())


# --------------------------------------------------------------------------- other data


@lru_cache(maxsize=4)
def load_table(name: str, root: Optional[Traversable] = None) -> Mapping[str, Any]:
    """Return a TOML data file from the lexicon root (e.g. ``opening.toml``)."""
    return _read_toml((root or lexicon_root()) / name)


@lru_cache(maxsize=1)
def domain_words() -> tuple[tuple[str, int], ...]:
    """Return (word, frequency) pairs for jieba: the domain dictionary plus boundary terms."""
    path = lexicon_root() / "domain_dict.txt"
    words: dict[str, int] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            words[parts[0]] = int(parts[1]) if len(parts) > 1 else 2000
        except ValueError as exc:
            raise RuleError("expected 'word [frequency]'", path=str(path), line=lineno) from exc
    for ts in load_terms().values():
        if ts.boundary:
            for t in ts.terms:
                if _plain_cjk(t) and t not in words:
                    words[t] = 300
    return tuple(sorted(words.items()))

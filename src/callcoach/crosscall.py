"""Cross-call compliance: rules no single transcript can check.

Calling hours, daily call and attempt limits, and calls after the customer asked to stop or
said a lawyer represents them are judged from call metadata (who was called, when, whether
the call connected) and what the customer said in *earlier* calls. Everything here is a pure
function of the records passed in; the only file read is the packaged request lexicon
``lexicons/crosscall.toml`` (once, cached).

Rules (ids are stable):

========  ===============================================================================
XCL001    call or attempt in the forbidden hours (customer's local time, default 22:00–08:00)
XCL002    more connected calls to one customer on one local day than allowed (default 3)
XCL003    more attempts (connected + unanswered) to one customer on one local day (default 6)
XCL004    call within ``stop_request_days`` after the customer asked to stop calling
XCL005    call within ``lawyer_request_days`` after the customer said they have a lawyer
========  ===============================================================================

"Local time" is the wall clock of ``started_at`` in its own UTC offset, which is taken to be
the customer's offset as recorded. Records without ``started_at`` are skipped by every rule;
records without ``customer_ref`` are skipped by XCL002–XCL005. Findings never contain
transcript text: messages and evidence name calls, customers (by reference), dates and counts.

Settings (a ``[crosscall]`` table once wired into config.py)::

    [crosscall]
    forbidden_start = "21:00"        # HH:MM, start of the forbidden window (inclusive)
    forbidden_end = "08:00"          # HH:MM, end of the forbidden window (exclusive)
    max_connected_per_day = 3
    max_attempts_per_day = 6
    stop_request_days = 30
    lawyer_request_days = 30
    ignore = ["XCL003"]
    severity = { XCL003 = "major" }
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from .errors import ConfigError, RuleError
from .models import SEVERITIES

if TYPE_CHECKING:  # pragma: no cover
    from .models import Transcript

__all__ = [
    "CallRecord",
    "CrossCallConfig",
    "CrossCallRule",
    "RequestHit",
    "RequestLexicon",
    "RequestType",
    "RULES",
    "check_calls",
    "find_requests",
    "load_request_lexicon",
    "record_from_transcript",
]

# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class CrossCallRule:
    """Fixed description of one cross-call rule."""

    rule_id: str
    name: str
    category: str
    severity: str
    regulation: str
    rationale: str
    suggestion: str


_GUIDELINE = "中国银行业协会《金融机构个人消费类贷款催收工作指引》"

RULES: Mapping[str, CrossCallRule] = {
    r.rule_id: r
    for r in (
        CrossCallRule(
            "XCL001", "call-in-forbidden-hours", "harassment", "major",
            f"{_GUIDELINE} (22:00–08:00 不得催收); 民法典 第1033条",
            f"Collection calls in the customer's night hours intrude on private life: {_GUIDELINE} bans collection "
            "contact between 22:00 and 08:00 (many institutions set a stricter 21:00), and 民法典 第1033条 forbids "
            "disturbing a person's private peace by telephone.",
            "在客户当地时间 08:00–22:00（或本机构更严格的时段）内联系；夜间外呼任务应由外呼系统按客户所在时区自动拦截，改到次日白天再拨。",
        ),
        CrossCallRule(
            "XCL002", "too-many-connected-calls", "harassment", "major",
            "中国互联网金融协会催收自律指引 (每日接通不超过3次); 民法典 第1033条",
            "Repeated connected calls on the same day are harassment: the NIFA (中国互联网金融协会) collection "
            "guidelines allow at most 3 connected calls to a debtor per day, and 民法典 第1033条 forbids disturbing "
            "a person's private peace by repeated telephone calls.",
            "当天已接通达到上限后停止再拨：在通话中约定下次联系的时间和方式（如“我们周五下午再跟您确认，好吗？”），并在系统里设置当日拨打上限。",
        ),
        CrossCallRule(
            "XCL003", "too-many-attempts", "harassment", "minor",
            f"{_GUIDELINE} (同一号码每日拨打不超过6次); 民法典 第1033条",
            f"Redialling a number again and again is harassment even when nobody answers: {_GUIDELINE} caps "
            "attempts at 6 per number per day, and 民法典 第1033条 forbids disturbing a person's private peace by "
            "telephone.",
            "同一号码当天未接通达到上限后停止拨打，改发短信提醒或次日再联系；在外呼系统中按号码设置每日拨打次数上限。",
        ),
        CrossCallRule(
            "XCL004", "call-after-stop-request", "harassment", "major",
            "民法典 第1033条; " + _GUIDELINE,
            "",  # from lexicons/crosscall.toml [requests.stop_calling]
            "",
        ),
        CrossCallRule(
            "XCL005", "call-after-lawyer-notice", "harassment", "major",
            "民法典 第1033条; " + _GUIDELINE,
            "",  # from lexicons/crosscall.toml [requests.lawyer]
            "",
        ),
    )
}

# ----------------------------------------------------------------------------- config

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class CrossCallConfig:
    """Settings of the cross-call checks (validated on construction)."""

    forbidden_start: str = "22:00"
    forbidden_end: str = "08:00"
    max_connected_per_day: int = 3
    max_attempts_per_day: int = 6
    stop_request_days: int = 30
    lawyer_request_days: int = 30
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate({f.name: getattr(self, f.name) for f in fields(self)}, "CrossCallConfig")

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], source: str = "<config>") -> "CrossCallConfig":
        """Build settings from a ``[crosscall]`` table; unknown keys and bad values are ConfigErrors."""
        if not isinstance(mapping, Mapping):
            raise ConfigError("[crosscall] must be a table", path=source)
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {f.name: getattr(_DEFAULT, f.name) for f in fields(cls)}
        for key, value in mapping.items():
            if key not in known:
                raise ConfigError(f"[crosscall] unknown key '{key}'; expected one of {sorted(known)}", path=source)
            if key == "ignore":
                if not isinstance(value, (list, tuple)):
                    raise ConfigError("[crosscall].ignore: expected a list of rule ids", path=source)
                value = tuple(value)
            elif key == "severity":
                if not isinstance(value, Mapping):
                    raise ConfigError("[crosscall].severity: expected a table of rule id = severity", path=source)
                value = dict(value)
            values[key] = value
        _validate(values, source)
        return cls(**values)

    def forbidden_window(self) -> tuple[time, time]:
        """Return (start, end) of the forbidden window as times of day."""
        return _parse_hhmm(self.forbidden_start), _parse_hhmm(self.forbidden_end)

    def is_forbidden(self, moment: datetime) -> bool:
        """Say whether the wall-clock time of ``moment`` lies in the forbidden window."""
        start, end = self.forbidden_window()
        t = moment.timetz().replace(tzinfo=None)
        if start < end:
            return start <= t < end
        return t >= start or t < end  # the window wraps past midnight

    def severity_of(self, rule_id: str) -> str:
        return self.severity.get(rule_id, RULES[rule_id].severity)


def _parse_hhmm(text: str) -> time:
    m = _HHMM.match(text)
    assert m is not None  # validated
    return time(int(m.group(1)), int(m.group(2)))


def _validate(values: Mapping[str, Any], source: str) -> None:
    for key in ("forbidden_start", "forbidden_end"):
        value = values[key]
        if not isinstance(value, str) or not _HHMM.match(value):
            raise ConfigError(f"[crosscall].{key}: expected a time \"HH:MM\" (00:00–23:59), got {value!r}", path=source)
    if values["forbidden_start"] == values["forbidden_end"]:
        raise ConfigError("[crosscall]: forbidden_start and forbidden_end must differ", path=source)
    for key, minimum in (
        ("max_connected_per_day", 1), ("max_attempts_per_day", 1),
        ("stop_request_days", 1), ("lawyer_request_days", 1),
    ):
        value = values[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"[crosscall].{key}: expected a whole number, got {type(value).__name__}", path=source)
        if value < minimum:
            raise ConfigError(f"[crosscall].{key}: must be >= {minimum}, got {value}", path=source)
    for rid in values["ignore"]:
        if rid not in RULES:
            raise ConfigError(f"[crosscall].ignore: unknown rule id {rid!r}; expected one of {sorted(RULES)}", path=source)
    severity = values["severity"]
    if not isinstance(severity, Mapping):
        raise ConfigError("[crosscall].severity: expected a table of rule id = severity", path=source)
    for rid, sev in severity.items():
        if rid not in RULES:
            raise ConfigError(f"[crosscall].severity: unknown rule id {rid!r}; expected one of {sorted(RULES)}", path=source)
        if sev not in SEVERITIES:
            raise ConfigError(f"[crosscall].severity.{rid}: unknown severity {sev!r}; expected one of {SEVERITIES}", path=source)


_DEFAULT = CrossCallConfig()

# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class CallRecord:
    """What the cross-call checks need about one call or dialling attempt.

    ``started_at`` must carry a UTC offset (the customer's local offset as recorded); None means
    unknown. ``connected`` is False for an unanswered attempt. ``customer_texts`` are the
    customer's turns (normalised text), used only to find stop and lawyer requests.
    """

    call_id: str
    agent_id: str
    team: Optional[str]
    customer_ref: Optional[str]
    started_at: Optional[datetime]
    connected: bool = True
    customer_texts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.started_at is not None and (self.started_at.tzinfo is None or self.started_at.utcoffset() is None):
            raise ValueError(f"call {self.call_id}: started_at has no UTC offset; give e.g. 2024-05-01T09:30:00+08:00")
        if isinstance(self.customer_texts, str):
            raise TypeError(f"call {self.call_id}: customer_texts must be a tuple of strings, not a string")


def record_from_transcript(transcript: "Transcript", *, connected: bool = True) -> CallRecord:
    """Build a :class:`CallRecord` from a transcript (customer turns normalised)."""
    from .normalize import normalize_text

    md = transcript.metadata
    texts = tuple(normalize_text(t.text) for t in transcript.turns if t.speaker == "customer")
    return CallRecord(
        call_id=md.call_id, agent_id=md.agent_id, team=md.team, customer_ref=md.customer_ref,
        started_at=md.started_at, connected=connected, customer_texts=texts,
    )

# ----------------------------------------------------------------------------- request lexicon


@dataclass(frozen=True)
class RequestType:
    """One kind of customer request (stop calling, lawyer) from ``lexicons/crosscall.toml``."""

    name: str
    rule_id: str
    description: str
    patterns: tuple["re.Pattern[str]", ...]
    unless: tuple["re.Pattern[str]", ...]
    rationale: str
    suggestion: str
    examples_match: tuple[str, ...]
    examples_no_match: tuple[str, ...]


@dataclass(frozen=True)
class RequestLexicon:
    """Request types plus the negation model that cancels denied or corrected requests."""

    requests: Mapping[str, RequestType]
    negation_cues: "re.Pattern[str]"
    max_gap: int
    rhetorical: "re.Pattern[str]"

    def for_rule(self, rule_id: str) -> Optional[RequestType]:
        for req in self.requests.values():
            if req.rule_id == rule_id:
                return req
        return None


@dataclass(frozen=True)
class RequestHit:
    """A request found in one text: its kind and where (character offsets)."""

    request: str
    rule_id: str
    start: int
    end: int


_REQUEST_KEYS = {"rule", "description", "patterns", "unless", "rationale", "suggestion", "examples"}
_NEGATION_KEYS = {"description", "cues", "max_gap", "rhetorical"}


def parse_request_lexicon(data: Mapping[str, Any], source: str = "crosscall.toml") -> RequestLexicon:
    """Validate and compile the request lexicon from its TOML data."""

    def fail(msg: str) -> RuleError:
        return RuleError(msg, path=source)

    unknown = sorted(set(data) - {"negation", "requests"})
    if unknown:
        raise fail(f"unknown table(s) {unknown}; allowed: ['negation', 'requests']")
    neg = data.get("negation", {})
    if not isinstance(neg, Mapping) or set(neg) - _NEGATION_KEYS:
        raise fail(f"[negation]: expected a table with keys {sorted(_NEGATION_KEYS)}")
    cues = neg.get("cues", [])
    if not isinstance(cues, list) or not all(isinstance(c, str) and c for c in cues):
        raise fail("[negation].cues: expected a list of non-empty strings")
    max_gap = neg.get("max_gap", 4)
    if not isinstance(max_gap, int) or isinstance(max_gap, bool) or max_gap < 0:
        raise fail("[negation].max_gap: expected a whole number >= 0")
    cue_alt = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True)) or r"(?!)"
    rhetorical = _compile(neg.get("rhetorical", r"(?!)"), "[negation].rhetorical", source)

    requests: dict[str, RequestType] = {}
    table = data.get("requests", {})
    if not isinstance(table, Mapping) or not table:
        raise fail("[requests]: expected at least one request type")
    for name, spec in table.items():
        where = f"[requests.{name}]"
        if not isinstance(spec, Mapping):
            raise fail(f"{where}: expected a table")
        extra = sorted(set(spec) - _REQUEST_KEYS)
        if extra:
            raise fail(f"{where}: unknown key(s) {extra}; allowed: {sorted(_REQUEST_KEYS)}")
        rule_id = spec.get("rule")
        if rule_id not in RULES:
            raise fail(f"{where}.rule: unknown rule id {rule_id!r}; expected one of {sorted(RULES)}")
        patterns = spec.get("patterns")
        if not isinstance(patterns, list) or not patterns:
            raise fail(f"{where}.patterns: expected a non-empty list")
        unless = spec.get("unless", [])
        if not isinstance(unless, list):
            raise fail(f"{where}.unless: expected a list")
        for key in ("rationale", "suggestion"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise fail(f"{where}.{key}: expected a non-empty string")
        examples = spec.get("examples", {})
        if not isinstance(examples, Mapping) or set(examples) - {"match", "no_match"}:
            raise fail(f"{where}.examples: expected a table with 'match' and 'no_match' lists")
        requests[name] = RequestType(
            name=name,
            rule_id=str(rule_id),
            description=str(spec.get("description", "")),
            patterns=tuple(_compile(p, f"{where}.patterns", source) for p in patterns),
            unless=tuple(_compile(p, f"{where}.unless", source) for p in unless),
            rationale=" ".join(spec["rationale"].split()),
            suggestion=spec["suggestion"].strip(),
            examples_match=tuple(examples.get("match", ())),
            examples_no_match=tuple(examples.get("no_match", ())),
        )
    return RequestLexicon(
        requests=requests,
        negation_cues=re.compile(f"(?:{cue_alt})"),
        max_gap=max_gap,
        rhetorical=rhetorical,
    )


def _compile(pattern: Any, where: str, source: str) -> "re.Pattern[str]":
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"{where}: expected a non-empty regular expression string", path=source)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"{where}: invalid regular expression: {exc}", path=source) from exc


@lru_cache(maxsize=1)
def load_request_lexicon() -> RequestLexicon:
    """Load the packaged ``lexicons/crosscall.toml`` (cached)."""
    from .lexicon import lexicon_root

    path = lexicon_root() / "crosscall.toml"
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise RuleError("file not found", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"invalid TOML: {exc}", path=str(path)) from exc
    return parse_request_lexicon(data, source=str(path))


_CLAUSE_END = re.compile(r"[，,。！？!?；;：:\n]")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def _is_negated(text: str, start: int, end: int, lexicon: RequestLexicon) -> bool:
    """A negation cue just before the hit in its clause cancels it, unless the sentence is rhetorical."""
    clause_start = 0
    for m in _CLAUSE_END.finditer(text, 0, start):
        clause_start = m.end()
    negated = False
    for cue in lexicon.negation_cues.finditer(text, clause_start, start):
        if start - cue.end() <= lexicon.max_gap:
            negated = True
    if not negated:
        return False
    stop = _SENTENCE_END.search(text, end)
    rest = text[end: stop.end() if stop else len(text)]
    return not lexicon.rhetorical.search(rest)


def _clause_of(text: str, start: int, end: int) -> str:
    clause_start = 0
    for m in _CLAUSE_END.finditer(text, 0, start):
        clause_start = m.end()
    stop = _CLAUSE_END.search(text, end)
    return text[clause_start: stop.start() if stop else len(text)]


def find_requests(text: str, lexicon: Optional[RequestLexicon] = None) -> list[RequestHit]:
    """Return the stop/lawyer requests in one customer text (at most one hit per request type)."""
    lex = lexicon if lexicon is not None else load_request_lexicon()
    hits: list[RequestHit] = []
    for req in lex.requests.values():
        found: Optional[RequestHit] = None
        for pattern in req.patterns:
            for m in pattern.finditer(text):
                if m.end() == m.start():
                    continue
                clause = _clause_of(text, m.start(), m.end())
                if any(u.search(clause) for u in req.unless):
                    continue
                if _is_negated(text, m.start(), m.end(), lex):
                    continue
                if found is None or m.start() < found.start:
                    found = RequestHit(req.name, req.rule_id, m.start(), m.end())
                break
        if found is not None:
            hits.append(found)
    return hits

# ----------------------------------------------------------------------------- checks


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _merge(records: Sequence[CallRecord]) -> list[CallRecord]:
    """Merge records sharing a call_id (e.g. a dialer manifest row and the transcript of the same call)."""
    by_id: dict[str, CallRecord] = {}
    for rec in records:
        prev = by_id.get(rec.call_id)
        if prev is None:
            by_id[rec.call_id] = rec
            continue
        by_id[rec.call_id] = CallRecord(
            call_id=prev.call_id,
            agent_id=prev.agent_id or rec.agent_id,
            team=prev.team if prev.team is not None else rec.team,
            customer_ref=prev.customer_ref if prev.customer_ref is not None else rec.customer_ref,
            started_at=prev.started_at if prev.started_at is not None else rec.started_at,
            connected=prev.connected or rec.connected,
            customer_texts=prev.customer_texts + rec.customer_texts,
        )
    return list(by_id.values())


def _finding(
    rule_id: str, rec: CallRecord, config: CrossCallConfig, message: str, evidence: str,
    related: Sequence[str] = (), rationale: Optional[str] = None, suggestion: Optional[str] = None,
) -> dict[str, Any]:
    rule = RULES[rule_id]
    return {
        "call_id": rec.call_id,
        "agent_id": rec.agent_id,
        "team": rec.team,
        "customer_ref": rec.customer_ref,
        "started_at": rec.started_at.isoformat() if rec.started_at else None,
        "rule_id": rule_id,
        "name": rule.name,
        "category": rule.category,
        "severity": config.severity_of(rule_id),
        "message": message,
        "suggestion": suggestion or rule.suggestion,
        "rationale": rationale or rule.rationale,
        "regulation": rule.regulation,
        "evidence": evidence,
        "related_call_ids": list(related),
    }


def check_calls(
    records: Sequence[CallRecord],
    config: CrossCallConfig = _DEFAULT,
    *,
    lexicon: Optional[RequestLexicon] = None,
) -> list[dict[str, Any]]:
    """Check calls across each other; return findings as dicts, ordered by call time then rule id.

    Records with the same ``call_id`` are merged first (connected if any says so). Records
    without ``started_at`` are skipped; without ``customer_ref`` only XCL001 applies.
    """
    calls = sorted((r for r in _merge(records) if r.started_at is not None), key=_time_order)
    findings: list[dict[str, Any]] = []
    enabled = set(RULES) - set(config.ignore)

    if "XCL001" in enabled:
        for rec in calls:
            assert rec.started_at is not None
            if config.is_forbidden(rec.started_at):
                kind = "call" if rec.connected else "unanswered attempt"
                local = rec.started_at.strftime("%Y-%m-%d %H:%M")
                offset = rec.started_at.strftime("%z")
                offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
                findings.append(_finding(
                    "XCL001", rec, config,
                    f"A collection {kind} was made in the forbidden hours "
                    f"({config.forbidden_start}–{config.forbidden_end} in the customer's local time).",
                    f"{kind} at {local} local time (UTC{offset})"
                    + (f" to customer {rec.customer_ref}" if rec.customer_ref else ""),
                ))

    by_day: dict[tuple[str, date], list[CallRecord]] = defaultdict(list)
    by_customer: dict[str, list[CallRecord]] = defaultdict(list)
    for rec in calls:
        if rec.customer_ref is None:
            continue
        assert rec.started_at is not None
        by_day[(rec.customer_ref, rec.started_at.date())].append(rec)
        by_customer[rec.customer_ref].append(rec)

    for (customer, day), day_calls in by_day.items():
        if "XCL002" in enabled:
            connected = [r for r in day_calls if r.connected]
            limit = config.max_connected_per_day
            for n, rec in enumerate(connected, start=1):
                if n > limit:
                    findings.append(_finding(
                        "XCL002", rec, config,
                        f"More than {limit} connected collection calls to the same customer on one day.",
                        f"{_ordinal(n)} connected call to customer {customer} on {day.isoformat()} (limit {limit})",
                        related=[r.call_id for r in connected[:n - 1]],
                    ))
        if "XCL003" in enabled:
            limit = config.max_attempts_per_day
            for n, rec in enumerate(day_calls, start=1):
                if n > limit:
                    findings.append(_finding(
                        "XCL003", rec, config,
                        f"More than {limit} call attempts (answered or not) to the same customer on one day.",
                        f"{_ordinal(n)} attempt to customer {customer} on {day.isoformat()} (limit {limit})",
                        related=[r.call_id for r in day_calls[:n - 1]],
                    ))

    wanted: list[str] = [rid for rid in ("XCL004", "XCL005") if rid in enabled]
    if wanted:
        lex = lexicon if lexicon is not None else load_request_lexicon()
        windows = {"XCL004": config.stop_request_days, "XCL005": config.lawyer_request_days}
        for customer, cust_calls in by_customer.items():
            # Requests made in each call: rule id -> list of (time, call_id)
            made: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
            for rec in cust_calls:
                assert rec.started_at is not None
                for rid in wanted:
                    earlier = [(t, cid) for t, cid in made[rid] if t < rec.started_at]
                    if not earlier:
                        continue
                    when, req_call = earlier[-1]
                    days = windows[rid]
                    if rec.started_at - when > timedelta(days=days):
                        continue
                    req = lex.for_rule(rid)
                    elapsed = rec.started_at - when
                    findings.append(_finding(
                        rid, rec, config,
                        (
                            "The customer was called again after asking the collector to stop calling."
                            if rid == "XCL004" else
                            "The customer was called directly again after saying a lawyer represents them."
                        ),
                        f"{'call' if rec.connected else 'unanswered attempt'} {_elapsed(elapsed)} after customer "
                        f"{customer} {'asked to stop calling' if rid == 'XCL004' else 'named a lawyer'} in call "
                        f"{req_call} on {when.date().isoformat()} (window {days} days)",
                        related=[req_call],
                        rationale=req.rationale if req else None,
                        suggestion=req.suggestion if req else None,
                    ))
                if rec.connected and rec.customer_texts:
                    found = {hit.rule_id for text in rec.customer_texts for hit in find_requests(text, lex)}
                    for found_rid in found:
                        made[found_rid].append((rec.started_at, rec.call_id))

    rank = {rec.call_id: i for i, rec in enumerate(calls)}
    findings.sort(key=lambda f: (rank[f["call_id"]], f["rule_id"]))
    return findings


def _time_order(rec: CallRecord) -> tuple[datetime, str]:
    assert rec.started_at is not None
    return (rec.started_at, rec.call_id)


def _elapsed(delta: timedelta) -> str:
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 1:
        return f"{hours} h"
    return f"{max(int(delta.total_seconds() // 60), 0)} min"


# ----------------------------------------------------------------------------- dial logs

DIAL_LOG_COLUMNS = ("call_id", "customer_ref", "started_at")
"""Columns a dial log must have; ``agent_id``, ``team`` and ``connected`` or ``outcome`` are optional."""

_CONNECTED = {"1", "true", "yes", "y", "connected", "answered", "是", "接通"}
_UNANSWERED = {"0", "false", "no", "n", "no_answer", "noanswer", "unanswered", "busy", "rejected", "declined",
               "failed", "voicemail", "hangup", "missed", "否", "未接通", "未接", "占线", "拒接", "关机", "空号"}


def read_dial_log(path: Path) -> tuple[list[CallRecord], list[tuple[str, str]]]:
    """Read a dialler's log of call attempts (CSV, UTF-8 with or without BOM) as call records.

    One row per attempt: ``call_id``, ``customer_ref``, ``started_at`` (ISO 8601 with offset),
    optional ``agent_id`` and ``team``, and whether it connected: a ``connected`` column
    (true/false, 1/0, yes/no) or an ``outcome`` column (answered/connected vs no_answer, busy,
    rejected, failed, voicemail …; 接通/未接通/占线/拒接/关机). Without either, a row counts as an
    unanswered attempt unless a scored call has its call_id. Rows whose call_id matches a scored
    call merge with it, so a log may list every attempt.

    Returns the records and, for each bad row, ("file:line", problem); bad rows are skipped.
    Raises CallcoachError when the file cannot be read or lacks a required column.
    """
    import csv

    from .errors import CallcoachError
    from .io._common import parse_started_at

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in DIAL_LOG_COLUMNS if c not in header]
            if missing:
                raise CallcoachError(
                    f"the dial log lacks the column(s) {', '.join(missing)}; it needs "
                    f"{', '.join(DIAL_LOG_COLUMNS)} and may have agent_id, team, connected or outcome", path=str(path))
            rows = [(reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in row.items()}) for row in reader]
    except FileNotFoundError as exc:
        raise CallcoachError("the dial log does not exist", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise CallcoachError(f"the dial log is not UTF-8 text (byte {exc.start})", path=str(path)) from exc
    except OSError as exc:
        raise CallcoachError(f"the dial log cannot be read ({exc.strerror})", path=str(path)) from exc
    records: list[CallRecord] = []
    problems: list[tuple[str, str]] = []
    for line, row in rows:
        where = f"{path}:{line}"
        if not row.get("call_id"):
            problems.append((where, "call_id is empty"))
            continue
        try:
            started = parse_started_at(row.get("started_at", ""))
        except ValueError as exc:
            problems.append((where, f"started_at: {exc}"))
            continue
        flag = (row.get("connected") or row.get("outcome") or "").lower()
        if flag and flag not in _CONNECTED and flag not in _UNANSWERED:
            column = "connected" if row.get("connected") else "outcome"
            problems.append((where, f"{column}: unknown value {flag!r}; use e.g. connected/no_answer or true/false"))
            continue
        records.append(CallRecord(
            call_id=row["call_id"], agent_id=row.get("agent_id") or "", team=row.get("team") or None,
            customer_ref=row.get("customer_ref") or None, started_at=started, connected=flag in _CONNECTED,
        ))
    return records, problems

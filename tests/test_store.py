"""The results database (callcoach.store) on SQLite and, when CALLCOACH_TEST_PG_URL is set, PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from callcoach.errors import CallcoachError
from callcoach.io import read_transcript
from callcoach.models import CallResult, Transcript, severity_rank
from callcoach.pipeline import Pipeline
from callcoach.provenance import scoring_version
from callcoach.store import SCHEMA_VERSION, Store, open_store

CALLS = Path(__file__).parent / "data" / "calls"
NAMES = ("c01_model_compliant", "c02_violence_insult", "c03_exposure_harassment", "c04_impersonation_false_legal")
PG_ENV = "CALLCOACH_TEST_PG_URL"


@dataclasses.dataclass(frozen=True)
class Scored:
    key: str
    transcript: Transcript
    result: CallResult
    version: str
    source: str


@pytest.fixture(scope="module")
def scored() -> dict[str, Scored]:
    """Four real calls read and scored once: c01 (east-1, compliant) … c04 (west-2)."""
    pipeline = Pipeline()
    out = {}
    for name in NAMES:
        path = CALLS / f"{name}.json"
        transcript = read_transcript(path)
        result = pipeline.score(transcript)
        out[name] = Scored(
            Store.content_key(path.read_bytes()), transcript, result, scoring_version(result.provenance), str(path)
        )
    return out


def _pg_target(base: str, schema: str) -> str:
    """The URL of `base` with its search_path set to `schema` (libpq's options parameter)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new schema in $CALLCOACH_TEST_PG_URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "results.db")
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://USER@HOST:PORT/DB (see scripts/ci_postgres.sh)")
    import sqlalchemy as sa

    schema = f"cc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_target(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _save(store: Store, s: Scored, **kw: object) -> None:
    store.save_call(s.key, s.transcript, s.result, source=s.source, scoring_version=s.version, **kw)  # type: ignore[arg-type]


# -- round trip, idempotence, versions --------------------------------------------------------


def test_round_trip(target: str, scored: dict[str, Scored]) -> None:
    s = scored["c02_violence_insult"]
    with open_store(target) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.get_transcript(s.key) is None
        assert not store.has_result(s.key, s.version)
        _save(store, s)
    with open_store(target) as store:  # reopened: nothing lives only in memory
        assert store.has_result(s.key, s.version)
        assert not store.has_result(s.key, "other")
        assert store.latest_results() == [s.result.to_dict()]
        back = store.get_transcript(s.key)
        assert back is not None
        assert back.to_dict() == s.transcript.to_dict()
        assert back.source == s.source and back.source_format == "json"
        rows = store.findings()
        assert [r["rule_id"] for r in rows] == [f.rule_id for f in s.result.findings]
        first = next(r for r in rows if r["quote"])
        for key in ("call_id", "agent_id", "team", "started_at", "rule_id", "category", "severity",
                    "turn_index", "start_s", "quote", "message"):
            assert key in first
        assert first["call_id"] == "c02_violence_insult" and first["started_at"] == "2026-11-02T14:40:00+08:00"
        (call,) = store.calls()
        assert call == {
            "call_key": s.key,
            "call_id": "c02_violence_insult",
            "agent_id": "A1002",
            "team": "east-1",
            "started_at": "2026-11-02T14:40:00+08:00",
            "started_at_utc": "2026-11-02T06:40:00.000000Z",
            "customer_ref": "C0002",
            "days_overdue": 67,
            "product": "personal_loan",
            "source": s.source,
        }


def test_resave_is_idempotent(target: str, scored: dict[str, Scored]) -> None:
    s = scored["c02_violence_insult"]
    with open_store(target) as store:
        _save(store, s)
        _save(store, s)
        _save(store, s)
        assert len(store.calls()) == 1
        assert store.latest_results() == [s.result.to_dict()]
        assert len(store.findings()) == len(s.result.findings)


def test_two_scoring_versions_kept_latest_returned(target: str, scored: dict[str, Scored]) -> None:
    s = scored["c02_violence_insult"]
    old = dataclasses.replace(s.result, score=11.0, findings=s.result.findings[:1])
    t0 = datetime(2026, 11, 5, tzinfo=timezone.utc)
    with open_store(target) as store:
        store.save_call(s.key, s.transcript, s.result, source=s.source, scoring_version="v-new", scored_at=t0)
        store.save_call(s.key, s.transcript, old, source=s.source, scoring_version="v-old",
                        scored_at=t0 - timedelta(days=1))
        assert store.has_result(s.key, "v-new") and store.has_result(s.key, "v-old")
        assert store.latest_results() == [s.result.to_dict()]  # most recent scored_at wins
        assert len(store.findings()) == len(s.result.findings)
        # re-saving v-old now replaces that result and makes it the latest
        store.save_call(s.key, s.transcript, old, source=s.source, scoring_version="v-old",
                        scored_at=t0 + timedelta(days=1))
        assert store.latest_results() == [old.to_dict()]
        assert len(store.findings()) == 1
        assert store.has_result(s.key, "v-new")


def test_save_rejects_mismatched_result(tmp_path: Path, scored: dict[str, Scored]) -> None:
    a, b = scored["c01_model_compliant"], scored["c02_violence_insult"]
    with open_store(tmp_path / "r.db") as store:
        with pytest.raises(CallcoachError, match="c02_violence_insult"):
            store.save_call(a.key, a.transcript, b.result, source=a.source, scoring_version=a.version)
        assert store.calls() == []


# -- filters ---------------------------------------------------------------------------------


def test_filters(target: str, scored: dict[str, Scored]) -> None:
    with open_store(target) as store:
        for name in reversed(NAMES):
            _save(store, scored[name])
        ids = lambda rows: [r["call_id"] for r in rows]  # noqa: E731
        assert ids(store.latest_results()) == list(NAMES)  # ordered by started_at
        assert ids(store.latest_results(agent_id="A1003")) == ["c03_exposure_harassment"]
        assert ids(store.latest_results(team="east-1")) == list(NAMES[:2])
        # c02 starts 2026-11-02T14:40+08:00 = 06:40Z; since is inclusive, until exclusive
        since = datetime(2026, 11, 2, 6, 40, tzinfo=timezone.utc)
        assert ids(store.latest_results(since=since)) == list(NAMES[1:])
        assert ids(store.latest_results(until=since)) == list(NAMES[:1])
        assert ids(store.latest_results(since="2026-11-03T00:00:00+08:00", until="2026-11-03T12:00:00+08:00")) == [
            "c03_exposure_harassment"
        ]
        assert ids(store.latest_results(call_ids=["c04_impersonation_false_legal", "nope"])) == [NAMES[3]]
        assert ids(store.latest_results(team="east-1", agent_id="A1004")) == []

        all_findings = store.findings()
        assert len(all_findings) == sum(len(scored[n].result.findings) for n in NAMES)
        critical = store.findings(severity="critical")
        assert critical and all(r["severity"] == "critical" for r in critical)
        major = store.findings(severity="major")
        assert {r["severity"] for r in major} <= {"major", "critical"}
        assert len(major) == sum(
            1 for n in NAMES for f in scored[n].result.findings if severity_rank(f.severity) >= severity_rank("major")
        )
        violence = store.findings(category="violence")
        assert violence and {r["call_id"] for r in violence} == {"c02_violence_insult"}
        west = store.findings(team="west-2", severity="major")
        assert west and {r["call_id"] for r in west} <= {"c03_exposure_harassment", "c04_impersonation_false_legal"}
        assert store.findings(agent_id="A1002") == [r for r in all_findings if r["agent_id"] == "A1002"]
        assert all(r["call_id"] != "c01_model_compliant" for r in store.findings(since=since))
        with pytest.raises(CallcoachError, match="severity"):
            store.findings(severity="huge")


# -- reviews and cross-call findings ---------------------------------------------------------


def test_reviews(target: str, scored: dict[str, Scored]) -> None:
    with open_store(target) as store:
        _save(store, scored["c02_violence_insult"])
        _save(store, scored["c03_exposure_harassment"])
        store.add_review("c02_violence_insult", reviewer="王主管", decision="confirmed", rule_id="VIO900")
        store.add_review("c02_violence_insult", reviewer="li", decision="needs_coaching", note="再培训")
        store.add_review("c03_exposure_harassment", reviewer="li", decision="rejected")
        with pytest.raises(CallcoachError, match="no call 'missing'"):
            store.add_review("missing", reviewer="li", decision="confirmed")
        with pytest.raises(CallcoachError, match="decision"):
            store.add_review("c02_violence_insult", reviewer="li", decision="maybe")
        rows = store.reviews("c02_violence_insult")
        assert [(r["reviewer"], r["decision"], r["rule_id"], r["note"]) for r in rows] == [
            ("王主管", "confirmed", "VIO900", ""),
            ("li", "needs_coaching", None, "再培训"),
        ]
        assert rows[0]["call_key"] == scored["c02_violence_insult"].key
        assert len(store.reviews()) == 3


def test_crosscall_findings_replace(target: str, scored: dict[str, Scored]) -> None:
    def finding(call_id: str, rule: str) -> dict:
        return {"call_id": call_id, "rule_id": rule, "category": "harassment", "severity": "major",
                "message": "too many calls", "suggestion": "space the calls", "rationale": "guideline",
                "start_s": None, "related_calls": ["a", "b"]}

    with open_store(target) as store:
        store.save_crosscall_findings("v1", [finding("c02", "HAR101"), finding("c03", "HAR101")])
        assert [f["call_id"] for f in store.crosscall_findings()] == ["c02", "c03"]
        store.save_crosscall_findings("v1", [finding("c03", "HAR102")])  # replaces v1's set
        assert store.crosscall_findings() == [{**finding("c03", "HAR102"), "scoring_version": "v1"}]
        assert store.crosscall_findings("c02") == []
        store.save_crosscall_findings("v2", [finding("c02", "HAR103")])
        assert [f["rule_id"] for f in store.crosscall_findings()] == ["HAR103"]  # newest set by default
        assert [f["rule_id"] for f in store.crosscall_findings(scoring_version="v1")] == ["HAR102"]
        store.save_crosscall_findings("v2", [])
        assert store.crosscall_findings(scoring_version="v2") == []
        with pytest.raises(CallcoachError, match="lacks"):
            store.save_crosscall_findings("v3", [{"call_id": "c02"}])


# -- SQLite: schema, WAL, bad targets --------------------------------------------------------


def test_sqlite_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with open_store(db) as store:
        assert store.url == str(db)
        with store._read() as conn:  # noqa: SLF001 - the pragmas are per connection
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # stored in the file
    with open_store(f"sqlite:///{db}") as store:
        assert store.schema_version == SCHEMA_VERSION


def test_migrates_empty_v0_database(tmp_path: Path, scored: dict[str, Scored]) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")  # a zero-length file is an empty SQLite database: version 0
    legacy = tmp_path / "legacy.db"
    with sqlite3.connect(legacy) as raw:  # a database with a schema_meta table but no version yet
        raw.execute("CREATE TABLE schema_meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)")
    for db in (empty, legacy):
        with open_store(db) as store:
            assert store.schema_version == SCHEMA_VERSION
            _save(store, scored["c01_model_compliant"])
            assert len(store.latest_results()) == 1
        with sqlite3.connect(db) as raw:
            tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = raw.execute("SELECT value FROM schema_meta WHERE key='schema_version'").fetchone()[0]
        assert {"schema_meta", "calls", "results", "findings", "reviews", "crosscall_findings"} <= tables
        assert int(version) == SCHEMA_VERSION


def test_refuses_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    open_store(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE schema_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(CallcoachError) as err:
        open_store(db)
    message = str(err.value)
    assert str(db) in message and f"version {SCHEMA_VERSION + 1}" in message and f"up to {SCHEMA_VERSION}" in message


def test_bad_targets(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("这不是数据库 not a database\n" * 200, encoding="utf-8")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    cases = {
        str(junk): "not a database",
        str(tmp_path): "is a folder",
        str(blocker / "sub" / "r.db"): "not a folder",
        "mysql://u@h/db": "unsupported database",
        "sqlite://": "must be a file",
        "postgresql+psycopg://u:s3cret@127.0.0.1:1/db": "cannot open",
    }
    for bad, problem in cases.items():
        with pytest.raises(CallcoachError) as err:
            open_store(bad)
        message = str(err.value)
        assert problem in message, message
        assert "s3cret" not in message and "这不是" not in message
        assert bad.replace("s3cret", "***") in message or str(Path(bad)) in message


def test_closed_store_refuses(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db")
    store.close()
    store.close()
    with pytest.raises(CallcoachError, match="closed"):
        store.calls()


# -- crash safety ----------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from callcoach.models import CallMetadata, CallResult, Finding, Transcript, Turn
    from callcoach.store import Store, open_store

    db, start = sys.argv[1], int(sys.argv[2])
    turns = tuple(Turn("agent" if i % 2 else "customer", "您好，请问是本人吗？" * 5, i * 2.0, i * 2.0 + 1.5)
                  for i in range(60))
    findings = tuple(Finding("INS001", "insult", "major", "agent", i, i * 2.0, i * 2.0 + 1, "引用" * 10, "msg")
                     for i in range(150))
    store = open_store(db)
    i = start
    while True:
        meta = CallMetadata(call_id=f"k{i}", agent_id="A9", team="t",
                            started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        t = Transcript(meta, turns, source="x.json", source_format="json")
        r = CallResult(meta, (), (), {"n": i}, findings, 50.0, False, {})
        store.save_call(Store.content_key(str(i).encode()), t, r, source="x.json", scoring_version="v")
        print(i, flush=True)
        i += 1
    """
)


def test_kill_9_mid_save_leaves_consistent_db(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER, encoding="utf-8")
    confirmed = -1
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(db), str(confirmed + 1)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        target_saves = 5 + 7 * round_
        seen = 0
        deadline = time.monotonic() + 60
        while seen < target_saves and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            confirmed = int(line)
            seen += 1
        time.sleep(0.003 * (round_ + 1))  # land somewhere inside a later save
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        for line in proc.stdout:  # saves reported before the kill are committed
            confirmed = int(line)
        proc.stdout.close()
        assert seen == target_saves, "the writer did not start"

        with sqlite3.connect(db) as raw:  # plain sqlite3 recovers the WAL as any reader would
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
            orphans = raw.execute(
                "SELECT COUNT(*) FROM calls c WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.call_key = c.call_key)"
            ).fetchone()[0]
            assert orphans == 0, "a call row without its result"
            partial = raw.execute(
                "SELECT COUNT(*) FROM results r WHERE r.n_findings != "
                "(SELECT COUNT(*) FROM findings f WHERE f.result_id = r.id)"
            ).fetchone()[0]
            assert partial == 0, "a result with some of its findings missing"
        with open_store(db) as store:
            results = store.latest_results()
            assert len(results) >= confirmed + 1  # every reported save survived
            assert all(len(r["findings"]) == 150 for r in results)
            assert len(store.findings()) == 150 * len(results)
            assert len(store.calls()) == len(results)
        confirmed = len(results) - 1


# -- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_round_trip_on_fresh_schema(scored: dict[str, Scored]) -> None:
    """Runs the round trip against $CALLCOACH_TEST_PG_URL in a new schema (others run on both)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (scripts/ci_postgres.sh starts a throwaway server and prints it)")
    import sqlalchemy as sa

    schema = f"cc_rt_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        s = scored["c02_violence_insult"]
        with open_store(_pg_target(base, schema)) as store:
            assert store.dialect == "postgresql" and store.schema_version == SCHEMA_VERSION
            _save(store, s)
            _save(store, s)
        with open_store(_pg_target(base, schema)) as store:
            assert store.latest_results() == [s.result.to_dict()]
            back = store.get_transcript(s.key)
            assert back is not None and back.to_dict() == s.transcript.to_dict()
            assert len(store.findings(severity="critical")) == sum(
                1 for f in s.result.findings if f.severity == "critical"
            )
        with admin.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names(schema=schema))
        assert {"schema_meta", "calls", "results", "findings"} <= tables
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_result_json_is_plain_json(tmp_path: Path, scored: dict[str, Scored]) -> None:
    s = scored["c02_violence_insult"]
    with open_store(tmp_path / "r.db") as store:
        _save(store, s)
    with sqlite3.connect(tmp_path / "r.db") as raw:
        (text,) = raw.execute("SELECT result_json FROM results").fetchone()
    assert json.loads(text) == s.result.to_dict()

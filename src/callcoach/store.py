"""The results database: scored calls, their findings, reviewer decisions and cross-call findings.

Built on SQLAlchemy Core, for two back ends:

- **SQLite** (the embedded default): ``open_store("results.db")`` or ``open_store("sqlite:///results.db")``.
  The file is used in WAL mode with ``synchronous=NORMAL`` and foreign keys on. Every write is one
  ``BEGIN IMMEDIATE`` transaction, so concurrent writers queue (for up to 30 s) instead of failing
  half-way, and readers see a consistent snapshot while a write is in progress.
- **PostgreSQL**: ``open_store("postgresql+psycopg://user@host/db")`` (``postgresql://`` and
  ``postgres://`` mean the same; needs ``pip install 'callcoach[postgres]'``).

A call is identified by the hash of its content (:meth:`Store.content_key`, the *call key*), so
the same recording saved twice is one call, and a re-transcribed one is another. Each call keeps
its transcript (so re-scoring never re-transcribes) and one result per scoring version
(:func:`callcoach.provenance.scoring_version`); queries read each call's *latest* result, the
one with the most recent ``scored_at``.

Crash safety: :meth:`Store.save_call` writes the call, its result and the result's findings in
one transaction. A process killed (even with ``kill -9``) in the middle of a save leaves the
database as it was before that save: the transaction was never committed, and SQLite rolls the
write-ahead log back on the next open.

Why ``synchronous=NORMAL``: in WAL mode a commit appends to the WAL file and, with NORMAL, the
WAL is fsynced only at checkpoints rather than at every commit. A crash of the *process*
cannot lose a committed transaction (the data is already in the operating system's cache), and
no setting can leave a half-written transaction. Only a power failure or an operating-system
crash may lose the last few *committed* saves, and even then the database stays consistent
(they are rolled back whole). That is the right trade for results that can be re-scored from
their transcripts, and it makes saves several times faster than ``FULL``.

The schema is versioned: the ``schema_meta`` table holds the version, :data:`MIGRATIONS` lists
the functions that move a database from each version to the next, and :func:`open_store`
applies the missing ones in order, each in its own transaction. A database written by a newer
callcoach (a version this code does not know) is refused rather than misread.

Error messages name the database (the URL with any password hidden) and never quote what was
said in a call: transcripts are personal data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL

from callcoach.errors import CallcoachError, MissingDependencyError
from callcoach.models import SEVERITIES, CallResult, Transcript

__all__ = [
    "DECISIONS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
    "open_store",
]

DECISIONS: tuple[str, ...] = ("confirmed", "rejected", "needs_coaching", "escalated")
"""The decisions a reviewer can record with :meth:`Store.add_review`."""

_SQLITE_BUSY_TIMEOUT_S = 30.0
_PG_CONNECT_TIMEOUT_S = 10
_PG_MIGRATION_LOCK = 0x63616C6C  # pg_advisory_xact_lock key ("call"): one migrator at a time
_MAX_BOUND_IDS = 500  # above this many call_ids, filter in Python (SQLite's bound-parameter limit)


class StoreError(CallcoachError):
    """The results database cannot be opened, migrated, read or written."""


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid


def _schema_v1(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Define the version-1 tables in `metadata`.

    Times are text: fixed-width UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, which sorts and compares
    the same way on every back end. ``calls.started_at`` keeps the call's own ISO 8601 value
    with its original UTC offset (what results and reports show); ``started_at_utc`` is what
    filters and ordering use.

    Migration 1 creates exactly these tables. When a later migration changes the schema,
    freeze a copy of this function for migration 1 and define the new tables separately:
    a migration must create the same thing forever.
    """
    calls = sa.Table(
        "calls",
        metadata,
        sa.Column("call_key", sa.String(128), primary_key=True),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("agent_id", sa.Text, nullable=False),
        sa.Column("team", sa.Text),
        sa.Column("started_at", sa.Text),
        sa.Column("started_at_utc", sa.String(32)),
        sa.Column("customer_ref", sa.Text),
        sa.Column("days_overdue", sa.Integer),
        sa.Column("product", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_format", sa.Text),
        sa.Column("transcript_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Index("ix_calls_call_id", "call_id"),
        sa.Index("ix_calls_agent_id", "agent_id"),
        sa.Index("ix_calls_team", "team"),
        sa.Index("ix_calls_started_at_utc", "started_at_utc"),
        sa.Index("ix_calls_customer_ref", "customer_ref"),
    )
    results = sa.Table(
        "results",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("call_key", sa.String(128), sa.ForeignKey("calls.call_key", ondelete="CASCADE"), nullable=False),
        sa.Column("scoring_version", sa.String(64), nullable=False),
        sa.Column("scored_at", sa.String(32), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("n_findings", sa.Integer, nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.UniqueConstraint("call_key", "scoring_version", name="uq_results_call_version"),
        sa.Index("ix_results_call_scored", "call_key", "scored_at"),
        sa.Index("ix_results_scoring_version", "scoring_version"),
    )
    findings = sa.Table(
        "findings",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("result_id", _ID, sa.ForeignKey("results.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("speaker", sa.Text),
        sa.Column("turn_index", sa.Integer),
        sa.Column("start_s", sa.Float),
        sa.Column("end_s", sa.Float),
        sa.Column("quote", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("suggestion", sa.Text),
        sa.Column("rationale", sa.Text),
        sa.Column("scorer", sa.Text),
        sa.Index("ix_findings_result_id", "result_id"),
        sa.Index("ix_findings_rule_id", "rule_id"),
        sa.Index("ix_findings_category", "category"),
        sa.Index("ix_findings_severity_rank", "severity_rank"),
    )
    reviews = sa.Table(
        "reviews",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("call_key", sa.String(128), sa.ForeignKey("calls.call_key", ondelete="CASCADE"), nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("rule_id", sa.Text),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Index("ix_reviews_call_id", "call_id"),
        sa.Index("ix_reviews_call_key", "call_key"),
    )
    crosscall = sa.Table(
        "crosscall_findings",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("scoring_version", sa.String(64), nullable=False),
        sa.Column("saved_at", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("finding_json", sa.Text, nullable=False),
        sa.Index("ix_crosscall_version", "scoring_version"),
        sa.Index("ix_crosscall_call_id", "call_id"),
    )
    return {t.name: t for t in (calls, results, findings, reviews, crosscall)}


_META = sa.MetaData()
_schema_meta = sa.Table(
    "schema_meta",
    _META,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
_TABLES = _schema_v1(_META)
_calls = _TABLES["calls"]
_results = _TABLES["results"]
_findings = _TABLES["findings"]
_reviews = _TABLES["reviews"]
_crosscall = _TABLES["crosscall_findings"]


def _migrate_0_to_1(conn: Connection) -> None:
    """Version 1: calls, results, findings, reviews and cross-call findings."""
    md = sa.MetaData()
    sa.Table("schema_meta", md, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False))
    _schema_v1(md)
    md.create_all(conn)


Migration = Callable[[Connection], None]

MIGRATIONS: tuple[Migration, ...] = (_migrate_0_to_1,)
"""``MIGRATIONS[i]`` moves a database from schema version ``i`` to ``i + 1``. Append only."""

SCHEMA_VERSION: int = len(MIGRATIONS)
"""The schema version this code writes."""


# --------------------------------------------------------------------------------------------
# Opening
# --------------------------------------------------------------------------------------------


def open_store(target: Union[str, Path]) -> "Store":
    """Open (creating or migrating) the results database at `target`.

    Args:
        target: A file path (an SQLite database, created if missing, with its folder) or a
            SQLAlchemy URL: ``sqlite:///results.db``, ``postgresql+psycopg://user@host/db``
            (``postgresql://`` and ``postgres://`` are read as ``postgresql+psycopg://``).

    Returns:
        The open store; close it (or use it as a context manager) when done.

    Raises:
        StoreError: The target is not a usable database (unwritable path, not a database
            file, unsupported or unreachable URL) or was written by a newer callcoach.
        MissingDependencyError: A PostgreSQL URL without psycopg installed.
    """
    url, shown = _resolve_target(target)
    engine = _create_engine(url, shown)
    try:
        version = _migrate(engine, shown)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, shown, version)


def _resolve_target(target: Union[str, Path]) -> tuple[URL, str]:
    """Return the SQLAlchemy URL for `target` and how to name it in messages."""
    if isinstance(target, Path) or "://" not in str(target):
        text = str(target).strip()
        if not text:
            raise StoreError("no results database given; pass a file path or a database URL")
        return _sqlite_url(Path(text).expanduser(), text)
    text = str(target).strip()
    try:
        url = make_url(text)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises ArgumentError or ValueError
        raise StoreError(
            "is not a valid database URL; use a file path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB",
            path=_hide_password(text),
        ) from None
    shown = url.render_as_string(hide_password=True)
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise StoreError(f"unsupported SQLite driver '{driver}'; use sqlite:///FILE", path=shown)
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise StoreError("the results database must be a file; use sqlite:///path/to/results.db", path=shown)
        return _sqlite_url(Path(database).expanduser(), shown, query=url.query)
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise StoreError(
                f"unsupported PostgreSQL driver '{driver}'; use postgresql+psycopg://USER@HOST/DB", path=shown
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise MissingDependencyError("psycopg", "postgres", f"The results database {shown}") from None
        url = url.set(drivername="postgresql+psycopg")
        return url, url.render_as_string(hide_password=True)
    raise StoreError(
        f"unsupported database '{backend}'; use a file path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB",
        path=shown,
    )


def _sqlite_url(path: Path, shown: str, query: Optional[Mapping[str, Any]] = None) -> tuple[URL, str]:
    """Check that `path` can hold an SQLite database (creating its folder) and return its URL."""
    path = path.absolute()
    if path.is_dir():
        raise StoreError("is a folder; give the path of a database file inside it, e.g. results.db", path=shown)
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise StoreError(f"cannot be created: {blocker} is a file, not a folder; choose another path", path=shown)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for the results database: {exc.strerror or exc}; "
            "choose a path in a writable folder",
            path=shown,
        ) from None
    url = URL.create("sqlite", database=str(path), query=dict(query or {}))
    return url, str(path) if "://" not in shown else url.render_as_string(hide_password=True)


def _hide_password(text: str) -> str:
    """Mask the password in something that looked like a URL but did not parse."""
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else text


def _create_engine(url: URL, shown: str) -> Engine:
    """Create the engine, with SQLite's pragmas and transaction control installed."""
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": _PG_CONNECT_TIMEOUT_S, "application_name": "callcoach"},
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: take over BEGIN from sqlite3, WAL, synchronous=NORMAL, foreign keys on."""
    # sqlite3's legacy transaction control would not BEGIN before SELECT or DDL; we emit BEGIN
    # ourselves (see _sqlite_on_begin), so migrations are transactional and reads are snapshots.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(_SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")  # persistent in the file; reads the header first
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode: see the module docstring
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """Emit BEGIN IMMEDIATE for writes (take the write lock up front), BEGIN for reads."""
    mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("callcoach_write") else "BEGIN"
    conn.exec_driver_sql(mode)


def _migrate(engine: Engine, shown: str) -> int:
    """Bring the database to SCHEMA_VERSION, one migration per transaction; return the version."""
    with _db_errors(shown, "open" if engine.dialect.name == "sqlite" else "connect"):
        version = _read_version_outside(engine)
        _check_not_newer(version, shown)
        while version < SCHEMA_VERSION:
            with engine.connect().execution_options(callcoach_write=True) as conn, conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                version = _read_version(conn)  # again, under the lock: another process may have migrated
                _check_not_newer(version, shown)
                if version >= SCHEMA_VERSION:
                    break
                try:
                    MIGRATIONS[version](conn)
                except sa.exc.SQLAlchemyError as exc:
                    raise StoreError(
                        f"cannot migrate the results database from schema version {version} to {version + 1}: "
                        f"{_reason(exc)}",
                        path=shown,
                    ) from None
                version += 1
                _write_version(conn, version)
    return version


def _read_version_outside(engine: Engine) -> int:
    with engine.connect() as conn, conn.begin():
        return _read_version(conn)


def _read_version(conn: Connection) -> int:
    """Return the schema version recorded in the database; 0 for a database without one."""
    if not sa.inspect(conn).has_table("schema_meta"):
        return 0
    value = conn.execute(sa.select(_schema_meta.c.value).where(_schema_meta.c.key == "schema_version")).scalar()
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return -1


def _write_version(conn: Connection, version: int) -> None:
    now = _utc_text(datetime.now(timezone.utc))
    for key, value in (("schema_version", str(version)), ("migrated_at", now)):
        updated = conn.execute(sa.update(_schema_meta).where(_schema_meta.c.key == key).values(value=value))
        if updated.rowcount == 0:
            conn.execute(sa.insert(_schema_meta).values(key=key, value=value))


def _check_not_newer(version: int, shown: str) -> None:
    if version < 0:
        raise StoreError("has an unreadable schema version in its schema_meta table", path=shown)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"was written with results-database schema version {version}, but this callcoach knows "
            f"versions up to {SCHEMA_VERSION}; upgrade callcoach to open it",
            path=shown,
        )


def _reason(exc: BaseException) -> str:
    """The database's own reason for an error: its first line, without SQL or parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:300]


_ADVICE = {
    "open": "check that the file is a callcoach results database in a writable folder",
    "connect": "check the URL, that the server is running and accepts connections, and the credentials",
    "read": "check that the database is reachable",
    "write": "check that the database is writable and has free space; nothing of this save was kept",
}


@contextlib.contextmanager
def _db_errors(shown: str, action: str) -> Iterator[None]:
    """Turn SQLAlchemy/driver errors into StoreError naming the database, never the data."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot {'open' if action == 'connect' else action} the results database: {_reason(exc)}; {_ADVICE.get(action, '')}".rstrip("; "),
            path=shown,
        ) from None


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    """Fixed-width UTC text that sorts like the time; naive datetimes are taken as UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _bound_text(value: Union[datetime, str, None], name: str) -> Optional[str]:
    """Turn a since/until bound (datetime or ISO 8601 text) into UTC text; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise StoreError(f"{name} must be an ISO 8601 date-time such as 2024-05-01T00:00:00+08:00") from None
    if not isinstance(value, datetime):
        raise StoreError(f"{name} must be a datetime, got {type(value).__name__}")
    return _utc_text(value)


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class Store:
    """An open results database; create it with :func:`open_store`.

    Attributes:
        url: The database URL (for SQLite given as a path: the absolute file path), with any
            password hidden. Use it in messages; reopen from the original target.
    """

    url: str

    def __init__(self, engine: Engine, url: str, schema_version: int) -> None:
        self._engine = engine
        self.url = url
        self._schema_version = schema_version
        self._closed = False

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close all connections. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the database (equal to :data:`SCHEMA_VERSION` once open)."""
        with self._read() as conn:
            return _read_version(conn)

    @property
    def dialect(self) -> str:
        """The back end: ``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        self._check_open()
        with _db_errors(self.url, "read"), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        self._check_open()
        with _db_errors(self.url, "write"):
            with self._engine.connect().execution_options(callcoach_write=True) as conn, conn.begin():
                yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the results database was closed; open it again with open_store()", path=self.url)

    # -- calls and results -------------------------------------------------------------------

    @staticmethod
    def content_key(data: bytes) -> str:
        """Return the call key of an input: the SHA-256 (hex) of its bytes."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("content_key() needs the input's bytes")
        return hashlib.sha256(bytes(data)).hexdigest()

    def has_result(self, call_key: str, scoring_version: str) -> bool:
        """True when the call already has a result of this scoring version (no need to re-score)."""
        with self._read() as conn:
            found = conn.execute(
                sa.select(_results.c.id).where(
                    _results.c.call_key == call_key, _results.c.scoring_version == scoring_version
                )
            ).first()
        return found is not None

    def get_transcript(self, call_key: str) -> Optional[Transcript]:
        """Return the stored transcript of a call (None when the call is unknown).

        It is the transcript as saved (same metadata, turns, words, source and source format),
        so a call can be re-scored without reading or transcribing its input again.
        """
        from callcoach.io import loads_transcript

        with self._read() as conn:
            row = conn.execute(
                sa.select(_calls.c.transcript_json, _calls.c.source, _calls.c.source_format).where(
                    _calls.c.call_key == call_key
                )
            ).first()
        if row is None:
            return None
        transcript = loads_transcript(row.transcript_json, format="json", source=f"{self.url}#{call_key}")
        return dataclasses.replace(transcript, source=row.source, source_format=row.source_format)

    def save_call(
        self,
        call_key: str,
        transcript: Transcript,
        result: CallResult,
        *,
        source: str,
        scoring_version: str,
        scored_at: Optional[datetime] = None,
    ) -> None:
        """Save a scored call in one transaction.

        Upserts the call row (metadata from `transcript`, and the transcript itself), inserts
        the result of `scoring_version` with its findings, replacing an earlier result of the
        same version and keeping those of other versions.

        Args:
            call_key: The call's :meth:`content_key`.
            transcript: The transcript that was scored.
            result: Its result.
            source: Where the input came from (a path or URL), shown in reports.
            scoring_version: Normally ``scoring_version(result.provenance)``.
            scored_at: When it was scored; now by default. The latest result of a call is the
                one with the most recent ``scored_at``.

        Raises:
            StoreError: Bad arguments, or the database cannot be written (nothing is kept).
        """
        if not isinstance(call_key, str) or not call_key.strip() or len(call_key) > 128:
            raise StoreError("call_key must be a non-empty string of at most 128 characters (see Store.content_key)")
        if not isinstance(scoring_version, str) or not scoring_version.strip() or len(scoring_version) > 64:
            raise StoreError("scoring_version must be a non-empty string of at most 64 characters")
        meta = transcript.metadata
        if result.metadata.call_id != meta.call_id:
            raise StoreError(
                f"the result is of call '{result.metadata.call_id}' but the transcript is of call '{meta.call_id}'",
                path=self.url,
            )
        now = _utc_text(datetime.now(timezone.utc))
        scored = _utc_text(scored_at) if scored_at is not None else now
        doc = result.to_dict()
        call_row: dict[str, Any] = {
            "call_key": call_key,
            "call_id": meta.call_id,
            "agent_id": meta.agent_id,
            "team": meta.team,
            "started_at": meta.started_at.isoformat() if meta.started_at else None,
            "started_at_utc": _utc_text(meta.started_at) if meta.started_at else None,
            "customer_ref": meta.customer_ref,
            "days_overdue": meta.days_overdue,
            "product": meta.product,
            "source": source,
            "source_format": transcript.source_format,
            "transcript_json": json.dumps(transcript.to_dict(), ensure_ascii=False),
            "updated_at": now,
        }
        result_row: dict[str, Any] = {
            "call_key": call_key,
            "scoring_version": scoring_version,
            "scored_at": scored,
            "score": float(result.score),
            "passed": bool(result.passed),
            "n_findings": len(doc["findings"]),
            "result_json": json.dumps(doc, ensure_ascii=False),
        }
        finding_rows = [_finding_row(i, f) for i, f in enumerate(doc["findings"])]
        with self._write() as conn:
            _upsert_call(conn, call_row, created_at=now)
            old = sa.select(_results.c.id).where(
                _results.c.call_key == call_key, _results.c.scoring_version == scoring_version
            )
            conn.execute(sa.delete(_findings).where(_findings.c.result_id.in_(old.scalar_subquery())))
            conn.execute(
                sa.delete(_results).where(
                    _results.c.call_key == call_key, _results.c.scoring_version == scoring_version
                )
            )
            result_id = conn.execute(sa.insert(_results).values(result_row).returning(_results.c.id)).scalar_one()
            if finding_rows:
                conn.execute(sa.insert(_findings), [{**r, "result_id": result_id} for r in finding_rows])

    def latest_results(
        self,
        *,
        agent_id: Optional[str] = None,
        team: Optional[str] = None,
        since: Union[datetime, str, None] = None,
        until: Union[datetime, str, None] = None,
        call_ids: Optional[Iterable[str]] = None,
    ) -> list[dict[str, Any]]:
        """Return the latest result of each call, as :meth:`CallResult.to_dict` returned it.

        Filters are on the call's metadata: `since` <= started_at < `until` (datetimes, or ISO
        8601 text; naive means UTC; calls without a start time are left out when either is
        given), `call_ids` any of those call ids. Ordered by started_at (calls without one
        last), then call_id.
        """
        ids = _id_list(call_ids)
        latest = self._latest_subquery()
        query = (
            sa.select(latest.c.result_json, _calls.c.call_id)
            .join_from(latest, _calls, _calls.c.call_key == latest.c.call_key)
            .where(latest.c.rn == 1)
        )
        query = self._call_filters(query, agent_id=agent_id, team=team, since=since, until=until, call_ids=ids)
        query = query.order_by(*_call_order())
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [json.loads(r.result_json) for r in rows if ids is None or r.call_id in ids]

    def findings(
        self,
        *,
        severity: Optional[str] = None,
        category: Optional[str] = None,
        agent_id: Optional[str] = None,
        team: Optional[str] = None,
        since: Union[datetime, str, None] = None,
        until: Union[datetime, str, None] = None,
        rule_id: Optional[str] = None,
    ) -> list[dict[str, Any]]:
        """Return the findings of each call's latest result, one dict per finding.

        `severity` means "at least" (``"major"`` gives major and critical). Each row has
        call_id, call_key, agent_id, team, started_at, scoring_version, rule_id, category,
        severity, speaker, turn_index, start_s, end_s, quote, message, suggestion and rationale.
        Ordered by started_at, call_id, then the order of the findings in the result.
        """
        latest = self._latest_subquery()
        query = (
            sa.select(
                _calls.c.call_id,
                _calls.c.call_key,
                _calls.c.agent_id,
                _calls.c.team,
                _calls.c.started_at,
                latest.c.scoring_version,
                _findings.c.rule_id,
                _findings.c.category,
                _findings.c.severity,
                _findings.c.speaker,
                _findings.c.turn_index,
                _findings.c.start_s,
                _findings.c.end_s,
                _findings.c.quote,
                _findings.c.message,
                _findings.c.suggestion,
                _findings.c.rationale,
            )
            .select_from(latest)
            .join(_calls, _calls.c.call_key == latest.c.call_key)
            .join(_findings, _findings.c.result_id == latest.c.id)
            .where(latest.c.rn == 1)
        )
        if severity is not None:
            query = query.where(_findings.c.severity_rank >= _rank(severity))
        if category is not None:
            query = query.where(_findings.c.category == category)
        if rule_id is not None:
            query = query.where(_findings.c.rule_id == rule_id)
        query = self._call_filters(query, agent_id=agent_id, team=team, since=since, until=until, call_ids=None)
        query = query.order_by(*_call_order(), _findings.c.position)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def calls(self) -> list[dict[str, Any]]:
        """Return the metadata of every call, ordered by started_at (for cross-call compliance).

        Each dict: call_key, call_id, agent_id, team, started_at (ISO 8601 with the call's own
        offset), started_at_utc, customer_ref, days_overdue, product, source.
        """
        query = sa.select(
            _calls.c.call_key,
            _calls.c.call_id,
            _calls.c.agent_id,
            _calls.c.team,
            _calls.c.started_at,
            _calls.c.started_at_utc,
            _calls.c.customer_ref,
            _calls.c.days_overdue,
            _calls.c.product,
            _calls.c.source,
        ).order_by(*_call_order())
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def _latest_subquery(self) -> sa.Subquery:
        """Results numbered per call, newest first: ``rn == 1`` is each call's latest result."""
        rn = (
            sa.func.row_number()
            .over(partition_by=_results.c.call_key, order_by=(_results.c.scored_at.desc(), _results.c.id.desc()))
            .label("rn")
        )
        return sa.select(
            _results.c.id, _results.c.call_key, _results.c.scoring_version, _results.c.result_json, rn
        ).subquery("latest")

    @staticmethod
    def _call_filters(
        query: Any,
        *,
        agent_id: Optional[str],
        team: Optional[str],
        since: Union[datetime, str, None],
        until: Union[datetime, str, None],
        call_ids: Optional[set[str]],
    ) -> Any:
        """Add the call-metadata filters to `query` (a SELECT joined to calls)."""
        if agent_id is not None:
            query = query.where(_calls.c.agent_id == agent_id)
        if team is not None:
            query = query.where(_calls.c.team == team)
        lower = _bound_text(since, "since")
        upper = _bound_text(until, "until")
        if lower is not None:
            query = query.where(_calls.c.started_at_utc >= lower)
        if upper is not None:
            query = query.where(_calls.c.started_at_utc < upper)
        if call_ids is not None and len(call_ids) <= _MAX_BOUND_IDS:
            query = query.where(_calls.c.call_id.in_(sorted(call_ids)))
        return query

    # -- reviews -----------------------------------------------------------------------------

    def add_review(
        self,
        call_id: str,
        *,
        reviewer: str,
        decision: str,
        note: str = "",
        rule_id: Optional[str] = None,
    ) -> None:
        """Record a reviewer's decision on a call (or on one rule's findings in it).

        When several stored calls share `call_id` (the input changed), the review is attached
        to the most recently saved one.

        Raises:
            StoreError: Unknown call_id, unknown decision or empty reviewer.
        """
        if decision not in DECISIONS:
            raise StoreError(f"unknown review decision '{decision}'; use one of {', '.join(DECISIONS)}")
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise StoreError("a review needs the reviewer's name")
        now = _utc_text(datetime.now(timezone.utc))
        with self._write() as conn:
            call_key = conn.execute(
                sa.select(_calls.c.call_key)
                .where(_calls.c.call_id == call_id)
                .order_by(_calls.c.updated_at.desc(), _calls.c.created_at.desc())
                .limit(1)
            ).scalar()
            if call_key is None:
                raise StoreError(f"no call '{call_id}' in the results database; save it before reviewing it", path=self.url)
            conn.execute(
                sa.insert(_reviews).values(
                    call_key=call_key,
                    call_id=call_id,
                    rule_id=rule_id,
                    reviewer=reviewer.strip(),
                    decision=decision,
                    note=note or "",
                    created_at=now,
                )
            )

    def reviews(self, call_id: Optional[str] = None) -> list[dict[str, Any]]:
        """Return reviewer decisions (of one call, or all), oldest first.

        Each dict: id, call_id, call_key, rule_id, reviewer, decision, note, created_at (UTC).
        """
        query = sa.select(
            _reviews.c.id,
            _reviews.c.call_id,
            _reviews.c.call_key,
            _reviews.c.rule_id,
            _reviews.c.reviewer,
            _reviews.c.decision,
            _reviews.c.note,
            _reviews.c.created_at,
        ).order_by(_reviews.c.created_at, _reviews.c.id)
        if call_id is not None:
            query = query.where(_reviews.c.call_id == call_id)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- cross-call findings -----------------------------------------------------------------

    def save_crosscall_findings(self, scoring_version: str, findings: Sequence[Mapping[str, Any]]) -> None:
        """Replace the cross-call findings of `scoring_version` with `findings`, in one transaction.

        Each finding is a dict with at least call_id, rule_id, category, severity and message
        (suggestion, rationale, start_s … are kept as given: any JSON-serialisable keys).

        Raises:
            StoreError: A finding lacks a required key or has an unknown severity.
        """
        if not isinstance(scoring_version, str) or not scoring_version.strip() or len(scoring_version) > 64:
            raise StoreError("scoring_version must be a non-empty string of at most 64 characters")
        now = _utc_text(datetime.now(timezone.utc))
        rows = []
        for i, finding in enumerate(findings):
            missing = [k for k in ("call_id", "rule_id", "category", "severity", "message") if not finding.get(k)]
            if missing:
                raise StoreError(f"cross-call finding {i} lacks {', '.join(missing)}")
            try:
                text = json.dumps(dict(finding), ensure_ascii=False)
            except (TypeError, ValueError) as exc:
                raise StoreError(f"cross-call finding {i} is not JSON-serialisable: {exc}") from None
            rows.append(
                {
                    "scoring_version": scoring_version,
                    "saved_at": now,
                    "position": i,
                    "call_id": str(finding["call_id"]),
                    "rule_id": str(finding["rule_id"]),
                    "category": str(finding["category"]),
                    "severity": str(finding["severity"]),
                    "severity_rank": _rank(str(finding["severity"])),
                    "message": str(finding["message"]),
                    "finding_json": text,
                }
            )
        with self._write() as conn:
            conn.execute(sa.delete(_crosscall).where(_crosscall.c.scoring_version == scoring_version))
            if rows:
                conn.execute(sa.insert(_crosscall), rows)

    def crosscall_findings(
        self, call_id: Optional[str] = None, *, scoring_version: Optional[str] = None
    ) -> list[dict[str, Any]]:
        """Return cross-call findings (of one call, or all), as saved plus their scoring_version.

        By default the set of the scoring version saved most recently (sets of older versions
        are kept but would repeat the same findings); pass `scoring_version` to read another.
        """
        with self._read() as conn:
            if scoring_version is None:
                scoring_version = conn.execute(
                    sa.select(_crosscall.c.scoring_version)
                    .order_by(_crosscall.c.saved_at.desc(), _crosscall.c.id.desc())
                    .limit(1)
                ).scalar()
                if scoring_version is None:
                    return []
            query = (
                sa.select(_crosscall.c.finding_json, _crosscall.c.scoring_version)
                .where(_crosscall.c.scoring_version == scoring_version)
                .order_by(_crosscall.c.position)
            )
            if call_id is not None:
                query = query.where(_crosscall.c.call_id == call_id)
            rows = conn.execute(query).all()
        return [{**json.loads(r.finding_json), "scoring_version": r.scoring_version} for r in rows]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _rank(severity: str) -> int:
    if severity not in SEVERITIES:
        raise StoreError(f"unknown severity '{severity}'; use one of {', '.join(SEVERITIES)}")
    return SEVERITIES.index(severity)


def _finding_row(position: int, f: Mapping[str, Any]) -> dict[str, Any]:
    """A findings row from one finding of the public result JSON."""
    return {
        "position": position,
        "rule_id": f["rule_id"],
        "category": f["category"],
        "severity": f["severity"],
        "severity_rank": _rank(f["severity"]),
        "speaker": f.get("speaker"),
        "turn_index": f.get("turn_index"),
        "start_s": f.get("start_s"),
        "end_s": f.get("end_s"),
        "quote": f.get("quote") or "",
        "message": f.get("message") or "",
        "suggestion": f.get("suggestion"),
        "rationale": f.get("rationale"),
        "scorer": f.get("scorer"),
    }


def _upsert_call(conn: Connection, row: Mapping[str, Any], *, created_at: str) -> None:
    """Insert the call row, or update everything but its created_at (INSERT … ON CONFLICT)."""
    insert: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(_calls).values({**row, "created_at": created_at})
    updates = {k: stmt.excluded[k] for k in row if k != "call_key"}
    conn.execute(stmt.on_conflict_do_update(index_elements=[_calls.c.call_key], set_=updates))


def _call_order() -> tuple[Any, ...]:
    """started_at ascending with calls without one last, then call_id and call_key."""
    return (
        sa.case((_calls.c.started_at_utc.is_(None), 1), else_=0),
        _calls.c.started_at_utc,
        _calls.c.call_id,
        _calls.c.call_key,
    )


def _id_list(call_ids: Optional[Iterable[str]]) -> Optional[set[str]]:
    if call_ids is None:
        return None
    if isinstance(call_ids, str):
        return {call_ids}
    return {str(c) for c in call_ids}

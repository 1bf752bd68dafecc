"""Engines and transaction scopes for SQLite and PostgreSQL.

SQLite: WAL journal (readers never block the writer), ``synchronous=NORMAL`` (a commit survives
a process crash; only an OS crash may lose the last commits), ``busy_timeout`` so concurrent
writers wait instead of failing, foreign keys on. The ``sqlite3`` module's own transaction
handling is switched off and we emit ``BEGIN`` ourselves, because a write transaction must start
with ``BEGIN IMMEDIATE``: a deferred transaction that later upgrades its read lock to a write
lock fails with ``SQLITE_BUSY`` without waiting, whatever the busy timeout.

PostgreSQL: psycopg 3, ``READ COMMITTED``; row locks (``FOR UPDATE SKIP LOCKED``) and
conditional updates give the serialisation that SQLite gets from its single writer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

Clock = Callable[[], datetime]

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
)
_WRITE = "batchyard_write"


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> sa.URL:
    """Parse a store URL; ``postgresql://`` (and ``postgres://``) use the psycopg 3 driver."""
    parsed = sa.make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported store URL {url!r}: use sqlite:///PATH or postgresql://...")
    return parsed


def create_engine(url: sa.URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=16,
        )
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_size=8, max_overflow=16)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see module docstring
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engine plus what differs between dialects; shared by every repository."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.dialect: str = engine.dialect.name
        self.is_postgresql = self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot on SQLite's WAL)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def insert(self, table: sa.Table) -> Any:
        """``INSERT`` that supports ``on_conflict_do_nothing/update`` on either dialect."""
        if self.is_postgresql:
            return postgresql.insert(table)
        return sqlite.insert(table)

    def insert_if_absent(self, conn: Connection, table: sa.Table, row: dict[str, Any]) -> bool:
        """Insert ``row`` unless it collides with a unique key; ``True`` if it was inserted.

        ``ON CONFLICT DO NOTHING`` keeps the transaction usable after a collision (a failed
        statement would abort a PostgreSQL transaction). ``RETURNING`` tells whether the row
        landed: psycopg reports no row count for SQLAlchemy's INSERTs.
        """
        key = next(iter(table.primary_key.columns))
        stmt = self.insert(table).values(row).on_conflict_do_nothing().returning(key)
        return conn.execute(stmt).first() is not None

    def lock_rows(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """Lock the selected rows for this transaction, skipping rows others hold.

        SQLite needs nothing: the write transaction (``BEGIN IMMEDIATE``) is already exclusive.
        """
        if self.is_postgresql:
            return query.with_for_update(skip_locked=True)
        return query

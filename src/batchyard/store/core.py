"""``open_store(url) -> Store``: batchyard's durable state behind one small API.

Design (after huey's storage layer): one :class:`Store` whose repositories — one per concern —
speak plain SQL through SQLAlchemy Core (no ORM: no identity map, no unit of work, nothing
between the engine and the statements), return frozen dataclasses, and behave identically on
SQLite and PostgreSQL; a single contract test suite runs against both.

Atomicity has two levels. Each repository call through ``store.<repo>`` is its own
transaction. ``with store.transaction() as tx:`` gives the same repositories bound to one
transaction (``tx.history.append(...)``, ``tx.timers.delete(...)``, ``tx.executions.save(...)``)
that commits at the end of the block and rolls back if it raises.

Exactly-once rests on the database, never on check-then-act in Python: unique keys refuse the
second writer (execution names, history event ids, timer keys, work items), and updates of
shared rows are conditional (``WHERE version = :seen``, ``WHERE lease_owner = :me AND
lease_version = :v``, ``WHERE status = 'WAITING'``), so only one contender can win.

Time: every method that depends on the clock takes an optional ``now``; by default the store's
clock (``open_store(url, clock=...)``) is read, so tests can drive leases and timers without
sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from batchyard.store import migrate
from batchyard.store.callbacks import Activities, TaskTokens
from batchyard.store.connection import Clock, Database, create_engine, normalize_url, utc_now
from batchyard.store.errors import ServiceUnavailable
from batchyard.store.executions import Executions
from batchyard.store.history import History
from batchyard.store.map_runs import MapRuns, Tags
from batchyard.store.state_machines import StateMachines
from batchyard.store.timers import Timers
from batchyard.store.versions import Aliases, Versions
from batchyard.store.work import Work


class _Repositories:
    """The repositories, bound to the store (a transaction per call) or to one transaction."""

    def __init__(self, db: Database, conn: Connection | None) -> None:
        self.state_machines = StateMachines(db, conn)
        self.versions = Versions(db, conn)
        self.aliases = Aliases(db, conn)
        self.executions = Executions(db, conn)
        self.history = History(db, conn)
        self.timers = Timers(db, conn)
        self.task_tokens = TaskTokens(db, conn)
        self.activities = Activities(db, conn)
        self.map_runs = MapRuns(db, conn)
        self.tags = Tags(db, conn)
        self.work = Work(db, conn)


class Transaction(_Repositories):
    """The repositories inside one database transaction (see :meth:`Store.transaction`)."""

    def __init__(self, db: Database, conn: Connection) -> None:
        super().__init__(db, conn)
        self.connection = conn


class Store(_Repositories):
    """batchyard's durable state. Thread-safe; one per process is enough."""

    def __init__(self, db: Database, url: str) -> None:
        super().__init__(db, None)
        self._db = db
        self.url = url

    @property
    def db(self) -> Database:
        """The database, for packages that keep their own repositories (ECS, functions,
        scheduler): ``MyRepo(store.db)`` per call, ``MyRepo(store.db, tx.connection)`` inside
        ``store.transaction()``."""
        return self._db

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._db.dialect

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction over every repository; commits on exit, rolls back on error.

        Keep it short: on SQLite it holds the single write lock until it ends.
        """
        with self._db.write() as conn:
            yield Transaction(self._db, conn)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at."""
        return migrate.current_revision(self._db)

    def close(self) -> None:
        """Close every pooled connection."""
        self._db.engine.dispose()


def open_store(url: str, *, clock: Clock = utc_now, migrate_schema: bool = True) -> Store:
    """Open (and by default migrate to the latest schema) the store at ``url``.

    ``sqlite:///path/state.db`` (WAL, the default for one process) or ``postgresql://...``
    (psycopg 3; several replicas may share it). Raises :class:`ServiceUnavailable` if the
    database cannot be reached.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite store is not durable: use sqlite:///PATH")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    db = Database(engine, clock)
    if migrate_schema:
        try:
            migrate.upgrade(db)
        except (OperationalError, InterfaceError) as exc:
            engine.dispose()
            raise ServiceUnavailable(f"cannot open store {_redact(url)}: {exc.orig}") from exc
        except BaseException:
            engine.dispose()
            raise
    return Store(db, url)


def default_url(data_dir: str | Path) -> str:
    """The store URL of a data directory: ``sqlite:///DATA_DIR/state.db``."""
    return f"sqlite:///{Path(data_dir) / 'state.db'}"


def _redact(url: str) -> str:
    return normalize_url(url).render_as_string(hide_password=True)

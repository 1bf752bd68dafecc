"""Bring a database's schema to the latest Alembic revision, safely from several replicas.

The upgrade runs in one transaction (both SQLite and PostgreSQL have transactional DDL). On
PostgreSQL that transaction first takes an advisory lock, so replicas starting together run the
migrations one after the other and the later ones find nothing left to do; on SQLite the
``BEGIN IMMEDIATE`` write transaction serialises them the same way.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from batchyard.store.connection import Database
from batchyard.store.errors import ServiceUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant works; this one spells "batchyard" so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x62617463687961


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str | None:
    return _scripts().get_current_head()


def current_revision(db: Database) -> str | None:
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> None:
    """Run every pending migration (a no-op when the schema is at head)."""
    config = alembic_config()
    with db.write() as conn:
        if db.is_postgresql:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        current = MigrationContext.configure(conn).get_current_revision()
        known = _scripts()
        if current == known.get_current_head():
            return  # the common case: every start after the first
        if current is not None and current not in {s.revision for s in known.walk_revisions()}:
            # A newer batchyard migrated this database; running against it would corrupt it.
            raise ServiceUnavailable(
                f"the store's schema is at revision {current!r}, unknown to this version of "
                f"batchyard (latest known: {known.get_current_head()!r}); upgrade batchyard"
            )
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

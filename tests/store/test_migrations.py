"""Upgrading databases made by earlier revisions (real SQLite files and PostgreSQL schemas)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import batchyard.ecs.tables
import batchyard.functions.repository
import batchyard.scheduler.tables
import batchyard.web.saved_queries
from batchyard.store import open_store
from batchyard.store.connection import Database, create_engine, normalize_url, utc_now
from batchyard.store.migrate import alembic_config, head_revision
from batchyard.store.schema import metadata

# The packages that keep their own tables in the shared metadata (migrations 0003-0006):
# referenced so that the comparison with the migrated database sees every table.
OWN_TABLES = (
    batchyard.ecs.tables,
    batchyard.functions.repository,
    batchyard.scheduler.tables,
    batchyard.web.saved_queries,
)

# What the engine created itself before revision 0002 (``metadata.create_all`` at start-up).
_legacy = sa.MetaData()
_legacy_inputs = sa.Table(
    "engine_inputs",
    _legacy,
    sa.Column("execution_arn", sa.String(2048), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text, nullable=False),
)
sa.Table(
    "engine_inbox",
    _legacy,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("execution_arn", sa.String(2048), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_engine_inbox_execution", "execution_arn", "id"),
)


def _at_0001(url: str, *, engine_tables: bool) -> None:
    """Build a database as batchyard left it at revision 0001."""
    engine = create_engine(normalize_url(url))
    try:
        db = Database(engine, utc_now)
        with db.write() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            if engine_tables:
                _legacy.create_all(conn)
                conn.execute(
                    _legacy_inputs.insert().values(execution_arn="arn:x", seq=0, body="{}")
                )
    finally:
        engine.dispose()


def _check_upgraded(url: str, *, kept_rows: int) -> None:
    store = open_store(url)
    try:
        assert store.schema_revision() == head_revision()
        with store.transaction() as tx:
            assert compare_metadata(MigrationContext.configure(tx.connection), metadata) == []
            count = tx.connection.execute(sa.text("SELECT count(*) FROM engine_inputs"))
            assert count.scalar_one() == kept_rows
            tx.connection.execute(
                sa.text("INSERT INTO engine_inbox (execution_arn, body) VALUES ('arn:y', '{}')")
            )
    finally:
        store.close()


def test_a_0001_database_without_engine_tables_upgrades(empty_url: str) -> None:
    _at_0001(empty_url, engine_tables=False)
    _check_upgraded(empty_url, kept_rows=0)


def test_a_0001_database_whose_engine_made_its_tables_keeps_their_rows(empty_url: str) -> None:
    _at_0001(empty_url, engine_tables=True)
    _check_upgraded(empty_url, kept_rows=1)

"""Alembic environment: always run on the connection the store hands over.

``batchyard.store.migrate.upgrade`` opens the transaction (and takes the PostgreSQL advisory
lock); this file only configures Alembic on that connection. Developers create a revision with
``alembic -c src/batchyard/store/migrations/alembic.ini revision --autogenerate -m "..."``
against a scratch database URL in ``BATCHYARD_STORE``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from batchyard.store.connection import create_engine, normalize_url
from batchyard.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line, for authoring revisions
    engine = create_engine(normalize_url(os.environ["BATCHYARD_STORE"]))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
else:
    assert isinstance(connection, sa.Connection)
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()

"""Functions and their code in the durable store (SQLite or PostgreSQL).

Two tables: ``lambda_functions`` (one row per function: the configuration as JSON, its code's
hash and a revision id that changes on every update) and ``lambda_code`` (zip archives by
SHA-256, shared by functions with the same code). Code lives in the database, not on one
machine's disk, so every replica on a shared PostgreSQL can run every function; each replica
unpacks it into its own cache (``code.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from batchyard.store.repository import Repository
from batchyard.store.schema import UtcMillis, metadata

lambda_functions = sa.Table(
    "lambda_functions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("revision_id", sa.String(36), nullable=False),
    sa.Column("code_sha256", sa.String(64), nullable=False),
    sa.Column("last_modified", UtcMillis(), nullable=False),
    sa.Column("config", sa.Text(), nullable=False),
)

lambda_code = sa.Table(
    "lambda_code",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("zip", sa.LargeBinary(), nullable=False),
)


@dataclass(frozen=True)
class FunctionRecord:
    """One function's ``$LATEST``: what CreateFunction and the updates set."""

    name: str
    revision_id: str
    code_sha256: str  # hex digest of the zip
    last_modified: datetime
    config: dict[str, Any] = field(default_factory=dict)  # Runtime, Handler, Timeout, ...


class FunctionExists(Exception):
    """A function of that name already exists."""


class RevisionMismatch(Exception):
    """The function changed since the revision the caller read."""


class Functions(Repository):
    """Function rows: create, read, list in name order, update at a revision, delete."""

    def create(self, record: FunctionRecord) -> None:
        row = _row(record)
        with self._write() as conn:
            if not self._db.insert_if_absent(conn, lambda_functions, row):
                raise FunctionExists(record.name)

    def get(self, name: str) -> FunctionRecord | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(lambda_functions).where(lambda_functions.c.name == name)
            ).first()
        return _record(row) if row is not None else None

    def page(self, after: str | None, limit: int) -> list[FunctionRecord]:
        query = sa.select(lambda_functions).order_by(lambda_functions.c.name).limit(limit)
        if after is not None:
            query = query.where(lambda_functions.c.name > after)
        with self._read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def names(self) -> list[str]:
        with self._read() as conn:
            query = sa.select(lambda_functions.c.name).order_by(lambda_functions.c.name)
            return [str(name) for name in conn.execute(query).scalars()]

    def update(self, record: FunctionRecord, expected_revision: str) -> None:
        """Replace the row if it is still at ``expected_revision`` (no lost updates)."""
        row = _row(record)
        del row["name"]
        with self._write() as conn:
            result = conn.execute(
                sa.update(lambda_functions)
                .where(lambda_functions.c.name == record.name)
                .where(lambda_functions.c.revision_id == expected_revision)
                .values(row)
                .returning(lambda_functions.c.name)
            )
            if result.first() is None:
                raise RevisionMismatch(record.name)

    def delete(self, name: str) -> bool:
        with self._write() as conn:
            result = conn.execute(
                sa.delete(lambda_functions)
                .where(lambda_functions.c.name == name)
                .returning(lambda_functions.c.name)
            )
            return result.first() is not None


class Code(Repository):
    """Zip archives by SHA-256 (hex)."""

    def put(self, sha256: str, archive: bytes) -> None:
        with self._write() as conn:
            self._db.insert_if_absent(
                conn, lambda_code, {"sha256": sha256, "size": len(archive), "zip": archive}
            )

    def get(self, sha256: str) -> bytes | None:
        with self._read() as conn:
            found = conn.execute(
                sa.select(lambda_code.c.zip).where(lambda_code.c.sha256 == sha256)
            ).scalar()
        return bytes(found) if found is not None else None

    def collect(self) -> int:
        """Delete archives no function uses any more; how many went."""
        used = sa.select(lambda_functions.c.code_sha256)
        with self._write() as conn:
            result = conn.execute(
                sa.delete(lambda_code)
                .where(lambda_code.c.sha256.not_in(used))
                .returning(lambda_code.c.sha256)
            )
            return len(result.all())


def _row(record: FunctionRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "revision_id": record.revision_id,
        "code_sha256": record.code_sha256,
        "last_modified": record.last_modified,
        "config": json.dumps(record.config, sort_keys=True),
    }


def _record(row: Any) -> FunctionRecord:
    return FunctionRecord(
        name=row.name,
        revision_id=row.revision_id,
        code_sha256=row.code_sha256,
        last_modified=row.last_modified,
        config=json.loads(row.config),
    )

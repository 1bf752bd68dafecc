"""Saved Logs Insights queries, kept in the state store (migration 0006).

A saved query is a name, the query text and the log groups it reads; saving under an
existing name replaces it (the console's "Save" is idempotent, like a file save).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from batchyard.store.repository import Repository
from batchyard.store.schema import UtcMillis, metadata

MAX_NAME = 255
MAX_QUERY = 10_000

console_saved_queries = sa.Table(
    "console_saved_queries",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False, unique=True),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("log_groups", sa.Text, nullable=False),  # JSON array of names
    sa.Column("created", UtcMillis(), nullable=False),
    sa.Column("updated", UtcMillis(), nullable=False),
)


class InvalidQuery(ValueError):
    """A saved query the console refuses (the message names the problem)."""


@dataclass(frozen=True)
class SavedQuery:
    id: str
    name: str
    query: str
    log_groups: list[str]
    created: datetime
    updated: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "logGroups": self.log_groups,
            "updated": self.updated.isoformat(),
        }


def _record(row: sa.Row[tuple[object, ...]]) -> SavedQuery:
    m = row._mapping
    return SavedQuery(
        id=m["id"],
        name=m["name"],
        query=m["query"],
        log_groups=list(json.loads(m["log_groups"])),
        created=m["created"],
        updated=m["updated"],
    )


class SavedQueries(Repository):
    """The saved queries, by name."""

    def all(self) -> list[SavedQuery]:
        query = sa.select(console_saved_queries).order_by(console_saved_queries.c.name)
        with self._read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def save(self, name: str, query: str, log_groups: list[str]) -> SavedQuery:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidQuery(f"A saved query needs a name of 1 to {MAX_NAME} characters.")
        if not query.strip() or len(query) > MAX_QUERY:
            raise InvalidQuery(f"A saved query needs a query of 1 to {MAX_QUERY} characters.")
        now = self._now(None)
        table = console_saved_queries
        groups = json.dumps(list(log_groups))
        with self._write() as conn:
            updated = conn.execute(
                table.update()
                .where(table.c.name == name)
                .values(query=query, log_groups=groups, updated=now)
            )
            if updated.rowcount == 0:
                conn.execute(
                    table.insert().values(
                        id=uuid.uuid4().hex,
                        name=name,
                        query=query,
                        log_groups=groups,
                        created=now,
                        updated=now,
                    )
                )
            row = conn.execute(sa.select(table).where(table.c.name == name)).one()
        return _record(row)

    def delete(self, query_id: str) -> bool:
        table = console_saved_queries
        with self._write() as conn:
            return bool(conn.execute(table.delete().where(table.c.id == query_id)).rowcount)

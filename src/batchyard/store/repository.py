"""The base of every repository: where its statements run.

A repository reached through :class:`~batchyard.store.Store` runs each call in its own
transaction; the same repository reached through a :class:`~batchyard.store.Transaction` runs in
that transaction's connection, so several calls commit or roll back together.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from batchyard.store.connection import Database

R = TypeVar("R")


class Repository:
    def __init__(self, db: Database, conn: Connection | None = None) -> None:
        self._db = db
        self._conn = conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
        else:
            with self._db.write() as conn:
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
        else:
            with self._db.read() as conn:
                yield conn

    def _now(self, now: datetime | None) -> datetime:
        return now if now is not None else self._db.clock()


def to_record(record_type: type[R], row: sa.Row[Any]) -> R:
    return record_type(**row._mapping)


def to_records(record_type: type[R], rows: Any) -> list[R]:
    return [record_type(**row._mapping) for row in rows]


def encode_token(*values: Any) -> str:
    """An opaque pagination token holding the sort key of the last item returned."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_token(token: str) -> list[Any]:
    """The sort key inside a token; ``ValueError`` if the token was not made by us."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid pagination token {token!r}") from exc
    if not isinstance(values, list):
        raise ValueError(f"invalid pagination token {token!r}")
    return values


def past(
    first: sa.ColumnElement[Any], second: sa.ColumnElement[Any], values: list[Any], *, desc: bool
) -> sa.ColumnElement[bool]:
    """Rows strictly after ``(first, second) = values`` in the listing order (keyset paging).

    Spelled as ``a > x OR (a = x AND b > y)`` rather than a row-value comparison so that each
    value is bound with its column's type (``UtcMillis`` must turn a datetime into millis).
    """
    x, y = values
    if desc:
        return sa.or_(first < x, sa.and_(first == x, second < y))
    return sa.or_(first > x, sa.and_(first == x, second > y))

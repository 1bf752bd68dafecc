"""Driver-level statements for the engine's hottest writes.

SQLAlchemy Core costs tens of microseconds per row in type processing (bind processors for
every column of every row). History appends and execution saves happen on every transition, so
for those we render the SQL once per dialect and hand plain tuples to the driver's
``executemany``, converting values with one small function per column taken from the table's
own types (instants to epoch millis, JSON to text), so the two paths cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from batchyard.store.schema import UtcMillis, to_millis

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
Convert = Callable[[Any], Any]


def _millis(value: Any) -> Any:
    return None if value is None else to_millis(value)


def _json(value: Any) -> Any:
    # None becomes SQL NULL; the JSON type reads NULL back as None, so records round-trip.
    return None if value is None else _dumps(value)


def _same(value: Any) -> Any:
    return value


def converter(column: sa.Column[Any]) -> Convert:
    if isinstance(column.type, UtcMillis):
        return _millis
    if isinstance(column.type, sa.JSON):
        return _json
    return _same


def placeholder(column: sa.Column[Any], postgresql: bool) -> str:
    if not postgresql:
        return "?"
    # psycopg sends str as text; PostgreSQL will not cast text to json implicitly.
    return "%s::json" if isinstance(column.type, sa.JSON) else "%s"


class FastInsert:
    """``INSERT INTO table (all columns)`` from records whose fields are the column names."""

    def __init__(self, table: sa.Table, suffix: str = "") -> None:
        self.names = tuple(c.name for c in table.columns)
        self.converters = tuple(converter(c) for c in table.columns)
        columns = ", ".join(self.names)
        self.sql = {
            pg: f"INSERT INTO {table.name} ({columns}) VALUES "
            f"({', '.join(placeholder(c, pg) for c in table.columns)}){suffix}"
            for pg in (False, True)
        }

    def rows(self, records: Sequence[Any]) -> list[tuple[Any, ...]]:
        pairs = tuple(zip(self.names, self.converters, strict=True))
        return [tuple(conv(getattr(r, name)) for name, conv in pairs) for r in records]


class FastUpdate:
    """``UPDATE table SET <columns> WHERE <key columns>``; key values come last in each row."""

    def __init__(self, table: sa.Table, set_names: Sequence[str], key_names: Sequence[str]):
        self.set_columns = tuple(table.c[name] for name in set_names)
        self.converters = tuple(converter(c) for c in self.set_columns)
        keys = tuple(table.c[name] for name in key_names)
        self.sql = {
            pg: f"UPDATE {table.name} SET "
            + ", ".join(f"{c.name} = {placeholder(c, pg)}" for c in self.set_columns)
            + " WHERE "
            + " AND ".join(f"{c.name} = {placeholder(c, pg)}" for c in keys)
            for pg in (False, True)
        }

    def row(self, record: Any, *keys: Any) -> tuple[Any, ...]:
        values = [
            conv(getattr(record, c.name))
            for c, conv in zip(self.set_columns, self.converters, strict=True)
        ]
        return (*values, *keys)

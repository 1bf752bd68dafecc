"""Where events live: a small interface, one DuckDB-table implementation.

The log store keeps its metadata (groups, streams, the field catalog, lookup tables) in DuckDB
tables and hands event storage to an ``EventBackend``. Every event row has the same base
columns -- ``seq`` (global, increasing), ``group_id``, ``stream_id``, ``ts``, ``ingestion``,
``bytes`` (UTF-8 size, for ``bytesScanned``), ``message`` -- plus one nullable VARCHAR column ``f_<n>`` per discovered JSON field.

``DuckDBTableBackend`` keeps them in one table of the store's database. A backend for several
replicas (Parquet segments on shared storage, scanned by DuckDB with ``union_by_name``) is a
second implementation of the same four methods: ``append`` writes a segment with
``COPY (select) TO``, ``relation`` returns ``read_parquet([...])``, ``delete`` rewrites the few
segments a predicate touches; the ingestion pipeline and the query path stay as they are,
because both only speak SQL over ``relation()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

BASE_COLUMNS = ("seq", "group_id", "stream_id", "ts", "ingestion", "bytes", "message")


class EventBackend(Protocol):
    def add_columns(self, columns: Sequence[str]) -> None:
        """Make room for new field columns (all VARCHAR, NULL for older events)."""

    def append(self, columns: Sequence[str], select_sql: str) -> None:
        """Store the rows of ``select_sql`` whose output columns are ``columns``."""

    def relation(self) -> str:
        """A SQL relation (FROM-able) with the base columns and every field column."""

    def delete(self, predicate_sql: str, parameters: Sequence[Any] = ()) -> int:
        """Delete the events matching ``predicate_sql``; return how many went."""


class DuckDBTableBackend:
    """All events in one DuckDB table, ``events``, in the store's own database."""

    table = "events"

    def __init__(self, con: Any) -> None:
        # Messages are long and repetitive: zstd writes them faster than DuckDB's default
        # analysis (FSST, dictionaries) and 3-4x smaller; message scans get faster too.
        self._con = con
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "seq BIGINT, group_id INTEGER, stream_id INTEGER, ts BIGINT, ingestion BIGINT,"
            " bytes INTEGER, message VARCHAR USING COMPRESSION zstd)"
        )

    def add_columns(self, columns: Sequence[str]) -> None:
        for column in columns:
            self._con.execute(
                f'ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS "{column}" VARCHAR'
            )

    def append(self, columns: Sequence[str], select_sql: str) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        self._con.execute(f"INSERT INTO {self.table} ({names}) {select_sql}")

    def relation(self) -> str:
        return self.table

    def delete(self, predicate_sql: str, parameters: Sequence[Any] = ()) -> int:
        row = self._con.execute(
            f"DELETE FROM {self.table} WHERE {predicate_sql}", list(parameters)
        ).fetchone()
        return int(row[0]) if row else 0

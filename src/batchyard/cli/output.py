"""Rows out of the CLI: one Rich table for people, JSON or CSV for scripts.

Commands build a list of flat dicts and hand it to :func:`emit_rows`; the same rows become a
table (colours only when stdout is a terminal -- Rich decides, and honours ``NO_COLOR``), a
JSON array, or CSV with a header line.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from rich.console import Console
from rich.markup import escape
from rich.table import Table


class OutputFormat(StrEnum):
    """How a listing is printed."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def format_time(value: datetime | None) -> str:
    """A timestamp as UTC ISO 8601 with milliseconds (empty when absent)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def columns_of(rows: Sequence[Mapping[str, object]]) -> list[str]:
    """Every key of the rows, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def emit_rows(
    rows: Sequence[Mapping[str, object]],
    output: OutputFormat,
    *,
    title: str | None = None,
    columns: list[str] | None = None,
    colour: Mapping[str, Callable[[str], str]] | None = None,
    console: Console | None = None,
) -> None:
    """Print ``rows`` as a table, a JSON array or CSV.

    ``colour`` maps a column to a function returning Rich markup for a cell of it (tables
    only); every other cell is printed literally, never read as markup.
    """
    columns = columns if columns is not None else columns_of(rows)
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps([dict(row) for row in rows], indent=2, default=str) + "\n")
        return
    if output is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
        sys.stdout.write(buffer.getvalue())
        return
    console = console or Console()
    if not rows:
        console.print(f"no {title.lower() if title else 'rows'}")
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    styles = colour or {}
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            text = "" if value is None else str(value)
            cells.append(styles[column](text) if column in styles else escape(text))
        table.add_row(*cells)
    console.print(table)

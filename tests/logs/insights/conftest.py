"""A tiny in-memory event table with the store's column layout, and a query runner over it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pytest

from batchyard.logs import insights

BASE = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC


def flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            key = "@" + key if key.startswith("@") else key  # JSON keys starting with @ get another
            flatten(f"{prefix}.{key}" if prefix else key, item, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            flatten(f"{prefix}.{i}", item, out)
    elif value is not None:
        out[prefix] = json.dumps(value) if isinstance(value, bool) else str(value)


class Events:
    """Events as the store lays them out: system columns plus one VARCHAR per JSON field."""

    def __init__(self, messages: Sequence[str | Mapping[str, Any]], *, step_ms: int = 1000) -> None:
        self.con = duckdb.connect()
        rows: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        for i, message in enumerate(messages):
            text = message if isinstance(message, str) else json.dumps(message)
            row: dict[str, Any] = {
                "@timestamp": BASE + i * step_ms,
                "@ingestionTime": BASE + i * step_ms + 1000,
                "@message": text,
                "@logStream": f"stream-{i % 2}",
                "@log": "123456789012:/test/group",
                "@ptr": f"ptr-{i}",
            }
            if not isinstance(message, str):
                flat: dict[str, str] = {}
                flatten("", message, flat)
                for key, value in flat.items():
                    column = names.setdefault(key, f"f_{len(names)}")
                    row[column] = value
            rows.append(row)
        self.fields = {name: f'"{column}"' for name, column in names.items()}
        columns = ['"@timestamp" BIGINT', '"@ingestionTime" BIGINT', '"@message" VARCHAR',
                   '"@logStream" VARCHAR', '"@log" VARCHAR', '"@ptr" VARCHAR']  # fmt: skip
        columns += [f'"{c}" VARCHAR' for c in names.values()]
        self.con.execute(f"CREATE TABLE events ({', '.join(columns)})")
        order = [
            "@timestamp",
            "@ingestionTime",
            "@message",
            "@logStream",
            "@log",
            "@ptr",
            *names.values(),
        ]
        marks = ", ".join("?" for _ in order)
        self.con.executemany(
            f"INSERT INTO events VALUES ({marks})", [[r.get(c) for c in order] for r in rows]
        )

    def query(self, text: str, **kwargs: Any) -> list[dict[str, str]]:
        compiled = insights.compile(text, fields=self.fields, **kwargs)
        rows = self.con.execute(compiled.sql("events")).fetchall()
        return insights.render_rows(compiled, rows)

    def matched(self, text: str) -> int:
        compiled = insights.compile(text, fields=self.fields)
        result = self.con.execute(compiled.matched_sql("events")).fetchone()
        assert result is not None
        return int(result[0])

    def values(self, text: str, column: str) -> list[str | None]:
        return [row.get(column) for row in self.query(text)]


@pytest.fixture
def make_events() -> type[Events]:
    return Events

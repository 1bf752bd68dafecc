"""Typed SQL fragments and the value coercions of Logs Insights.

Every compiled expression is an :class:`Sql`: DuckDB text plus a static :class:`Kind`.  Fields
read from events are text (``STR``) — JSON numbers arrive as their JSON text — so numeric
contexts coerce with ``TRY_CAST(... AS DOUBLE)`` (a non-numeric value becomes NULL, i.e. the
event does not take part), and only where a value is used numerically: a string column that is
merely filtered, grouped or displayed is never cast.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    STR = "string"
    NUM = "number"
    TS = "timestamp"  # BIGINT epoch milliseconds, presented as "YYYY-MM-DD HH:MM:SS.mmm"
    BOOL = "boolean"
    JSON = "json"  # a MAP/LIST from jsonParse (DuckDB JSON)
    NULL = "null"  # a field that does not exist: always missing


@dataclass(frozen=True, slots=True)
class Sql:
    text: str
    kind: Kind

    def __str__(self) -> str:
        return self.text


NULL = Sql("NULL", Kind.NULL)
NUMERIC = (Kind.NUM, Kind.TS)


def ident(name: str) -> str:
    """A DuckDB quoted identifier for any text."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A DuckDB string literal for any text (standard SQL strings: no backslash escapes)."""
    quoted = "'" + value.replace("'", "''") + "'"
    # DuckDB 1.x ends a literal at a NUL byte: spell it as chr(0) there.
    if "\x00" not in value:
        return quoted
    return "(" + quoted.replace("\x00", "' || chr(0) || '") + ")"


def number(value: float, is_integer: bool) -> str:
    if is_integer and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    # DuckDB reads 0.1 as DECIMAL; Logs Insights computes in doubles (0.1 + 0.2 != 0.3).
    return f"CAST({value!r} AS DOUBLE)" if value == value and abs(value) != float("inf") else "NULL"


def json_text(sql: Sql) -> str:
    """Text of a JSON value as Logs Insights shows it: strings unquoted, the rest as JSON."""
    return (
        f"(CASE WHEN json_type({sql}) = 'VARCHAR' THEN json_extract_string({sql}, '$') "
        f"ELSE CAST({sql} AS VARCHAR) END)"
    )


def as_num(sql: Sql) -> Sql:
    if sql.kind in NUMERIC or sql.kind is Kind.NULL:
        return Sql(sql.text, Kind.NUM) if sql.kind is not Kind.NULL else sql
    if sql.kind is Kind.BOOL:
        return Sql(f"CAST({sql} AS INTEGER)", Kind.NUM)
    if sql.kind is Kind.JSON:
        return Sql(f"TRY_CAST({json_text(sql)} AS DOUBLE)", Kind.NUM)
    return Sql(f"TRY_CAST({sql} AS DOUBLE)", Kind.NUM)


def as_ts(sql: Sql) -> Sql:
    """Epoch milliseconds of a value (timestamps as they are, numbers and numeric text as ms)."""
    if sql.kind is Kind.TS or sql.kind is Kind.NULL:
        return sql
    num = as_num(sql)
    return Sql(f"CAST(floor({num}) AS BIGINT)", Kind.TS)


def as_str(sql: Sql) -> Sql:
    if sql.kind in (Kind.STR, Kind.NULL):
        return sql
    if sql.kind is Kind.JSON:
        return Sql(json_text(sql), Kind.STR)
    if sql.kind is Kind.TS:
        return Sql(
            f"strftime(make_timestamp(CAST({sql} AS BIGINT) * 1000), '%Y-%m-%d %H:%M:%S.%g')",
            Kind.STR,
        )
    if sql.kind is Kind.NUM:
        return Sql(
            f"(CASE WHEN {sql} = trunc({sql}) AND abs({sql}) < 1e15 "
            f"THEN CAST(CAST({sql} AS BIGINT) AS VARCHAR) ELSE CAST({sql} AS VARCHAR) END)",
            Kind.STR,
        )
    return Sql(f"CAST({sql} AS VARCHAR)", Kind.STR)


def as_bool(sql: Sql) -> Sql:
    if sql.kind is Kind.BOOL:
        return sql
    if sql.kind is Kind.NULL:
        return Sql("CAST(NULL AS BOOLEAN)", Kind.BOOL)
    if sql.kind in NUMERIC:
        return Sql(f"({sql} <> 0)", Kind.BOOL)
    text = as_str(sql)
    return Sql(f"(lower({text}) = 'true' OR TRY_CAST({text} AS DOUBLE) <> 0)", Kind.BOOL)

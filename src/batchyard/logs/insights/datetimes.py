"""Date/time functions: ``bin``, ``datefloor``, ``dateceil``, ``fromMillis``, ``toMillis``, ``now``.

Timestamps are BIGINT epoch milliseconds; arithmetic on them is in milliseconds (so
``latest(@timestamp) - earliest(@timestamp)`` is a duration in ms).  Buckets of fixed-length
units (ms … weeks) align to the Unix epoch in UTC — a ``1w`` bin starts on a Thursday, like the
epoch.  Calendar units (months, quarters, years) align to calendar boundaries in UTC, counted
from January 1970, so ``bin(1q)`` starts on January/April/July/October 1st.  ``now()`` is the
query's start time in epoch seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast
from .spec import FunctionSpec
from .values import NULL, Kind, Sql, as_ts

if TYPE_CHECKING:
    from .expressions import ExprCompiler

_EPOCH = "TIMESTAMP '1970-01-01'"


def _period(c: ExprCompiler, node: ast.Expr) -> ast.Period:
    if not isinstance(node, ast.Period):
        raise c.error(node, "expecting a time period such as 5m or 1h")
    if node.millis == 0 and node.months == 0:
        raise c.error(node, "a time period must not be zero")
    return node


def _months_since_epoch(ts: Sql) -> str:
    return f"datediff('month', {_EPOCH}, make_timestamp({ts} * 1000))"


def _month_start(months: str) -> str:
    return f"epoch_ms({_EPOCH} + to_months(CAST({months} AS INTEGER)))"


def floor_to(ts: Sql, period: ast.Period) -> Sql:
    if ts.kind is Kind.NULL:
        return NULL
    if period.millis:
        return Sql(f"({ts} // {period.millis} * {period.millis})", Kind.TS)
    n = period.months
    return Sql(_month_start(f"floor({_months_since_epoch(ts)} / {n}) * {n}"), Kind.TS)


def ceil_to(ts: Sql, period: ast.Period) -> Sql:
    if ts.kind is Kind.NULL:
        return NULL
    if period.millis:
        p = period.millis
        return Sql(
            f"(CASE WHEN {ts} % {p} = 0 THEN {ts} ELSE ({ts} // {p} + 1) * {p} END)", Kind.TS
        )
    floor = floor_to(ts, period)
    n = period.months
    later = _month_start(f"floor({_months_since_epoch(ts)} / {n}) * {n} + {n}")
    return Sql(f"(CASE WHEN {floor} = {ts} THEN {ts} ELSE {later} END)", Kind.TS)


def _bin(c: ExprCompiler, call: ast.Call) -> Sql:
    return floor_to(as_ts(c.timestamp()), _period(c, call.args[0]))


def _datefloor(c: ExprCompiler, call: ast.Call) -> Sql:
    return floor_to(as_ts(c.compile(call.args[0])), _period(c, call.args[1]))


def _dateceil(c: ExprCompiler, call: ast.Call) -> Sql:
    return ceil_to(as_ts(c.compile(call.args[0])), _period(c, call.args[1]))


def _from_millis(c: ExprCompiler, call: ast.Call) -> Sql:
    return as_ts(c.compile(call.args[0]))


def _to_millis(c: ExprCompiler, call: ast.Call) -> Sql:
    value = as_ts(c.compile(call.args[0]))
    return Sql(value.text, Kind.NUM) if value.kind is not Kind.NULL else value


def _now(c: ExprCompiler, call: ast.Call) -> Sql:
    return Sql(str(c.now_ms // 1000), Kind.NUM)


DATETIME_FUNCTIONS: dict[str, FunctionSpec] = {
    "bin": FunctionSpec(1, 1, _bin),
    "datefloor": FunctionSpec(2, 2, _datefloor),
    "dateceil": FunctionSpec(2, 2, _dateceil),
    "frommillis": FunctionSpec(1, 1, _from_millis),
    "tomillis": FunctionSpec(1, 1, _to_millis),
    "now": FunctionSpec(0, 0, _now),
}

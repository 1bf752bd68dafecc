"""The aggregation table of ``stats``: name → arity and SQL generator.

Decisions where the documentation is silent: ``pct`` is the nearest-rank percentile (the value
at rank ⌈p/100·n⌉ of the sorted values — DuckDB's ``quantile_disc``); ``stddev`` is the sample
standard deviation; ``count(f)`` counts events where ``f`` is present and ``count_distinct`` is
exact; ``min``/``max`` over text compare numerically when any value reads as a number (values
that do not are ignored) and as text otherwise, and return the original text; ``earliest``/
``latest`` take the value from the earliest/latest event that has the field; ``sortsFirst``/
``sortsLast`` use the natural sort order of :mod:`natural`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast
from .natural import first_last
from .spec import FunctionSpec
from .values import NULL, NUMERIC, Kind, Sql, as_num

if TYPE_CHECKING:
    from .expressions import ExprCompiler


def _numeric(template: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        value = c.compile(call.args[0])
        if value.kind is Kind.NULL:
            return NULL
        return Sql(template.format(as_num(value)), Kind.NUM)

    return FunctionSpec(1, 1, compile)


def _count(c: ExprCompiler, call: ast.Call) -> Sql:
    if call.star or not call.args:
        return Sql("count(*)", Kind.NUM)
    value = c.compile(call.args[0])
    return Sql("0" if value.kind is Kind.NULL else f"count({value})", Kind.NUM)


def _count_distinct(c: ExprCompiler, call: ast.Call) -> Sql:
    value = c.compile(call.args[0])
    return Sql("0" if value.kind is Kind.NULL else f"count(DISTINCT {value})", Kind.NUM)


def _extreme(which: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        value = c.compile(call.args[0])
        if value.kind is Kind.NULL:
            return NULL
        if value.kind in NUMERIC or value.kind is Kind.BOOL:
            return Sql(f"{which}({value})", value.kind)
        text = value.text if value.kind is Kind.STR else f"CAST({value} AS VARCHAR)"
        return Sql(
            f"coalesce(arg_{which}({text}, TRY_CAST({text} AS DOUBLE)), {which}({text}))", Kind.STR
        )

    return FunctionSpec(1, 1, compile)


def _pct(c: ExprCompiler, call: ast.Call) -> Sql:
    value = c.compile(call.args[0])
    p = call.args[1]
    if not isinstance(p, ast.Number) or not 0 <= p.value <= 100:
        raise c.error(p, "the percentile must be a number from 0 to 100")
    if value.kind is Kind.NULL:
        return NULL
    kind = Kind.TS if value.kind is Kind.TS else Kind.NUM
    return Sql(f"quantile_disc({as_num(value)}, {p.value / 100!r})", kind)


def _at_time(which: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        value = c.compile(call.args[0])
        ts = c.timestamp()
        if value.kind is Kind.NULL or ts.kind is Kind.NULL:
            return NULL
        if value.text == ts.text:  # earliest(@timestamp)
            return Sql(f"{which}({ts})", value.kind)
        # arg_min skips rows whose value is NULL: the earliest event that has the field.
        return Sql(f"arg_{which}({value}, {ts})", value.kind)

    return FunctionSpec(1, 1, compile)


def _sorts(last: bool) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        value = c.compile(call.args[0])
        return NULL if value.kind is Kind.NULL else first_last(value, last)

    return FunctionSpec(1, 1, compile)


AGGREGATES: dict[str, FunctionSpec] = {
    "avg": _numeric("avg({0})"),
    "sum": _numeric("sum({0})"),
    "stddev": _numeric("stddev_samp({0})"),
    "count": FunctionSpec(0, 1, _count, star=True),
    "count_distinct": FunctionSpec(1, 1, _count_distinct),
    "min": _extreme("min"),
    "max": _extreme("max"),
    "pct": FunctionSpec(2, 2, _pct),
    "earliest": _at_time("min"),
    "latest": _at_time("max"),
    "sortsfirst": _sorts(last=False),
    "sortslast": _sorts(last=True),
}

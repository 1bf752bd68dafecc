"""The scalar function table: Logs Insights name (lower case) → arity and SQL generator.

String functions follow the documented examples: ``substr`` is 0-based, ``ltrim/rtrim/trim``
with a second argument strip any of its characters, ``strcontains`` returns 1/0, ``strlen``
counts code points.  ``concat`` treats a missing argument as empty text (decision).
``log`` of a non-positive number and ``sqrt`` of a negative one are missing values rather
than errors (decision).  ``unmask`` returns its argument: batchyard never masks data.
Date/time and IP functions live in :mod:`datetimes` and :mod:`ip`; aggregations in
:mod:`aggregates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast
from .datetimes import DATETIME_FUNCTIONS
from .ip import IP_FUNCTIONS
from .spec import VARIADIC, FunctionSpec
from .values import NULL, Kind, Sql, as_num, as_str

if TYPE_CHECKING:
    from .expressions import ExprCompiler


def _args(c: ExprCompiler, call: ast.Call) -> list[Sql]:
    return [c.compile(a) for a in call.args]


def _numeric(template: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        return Sql(template.format(*(as_num(a) for a in _args(c, call))), Kind.NUM)

    return FunctionSpec(1, 1, compile)


def _variadic_numeric(sql_name: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        return Sql(f"{sql_name}({', '.join(as_num(a).text for a in _args(c, call))})", Kind.NUM)

    return FunctionSpec(1, VARIADIC, compile)


def _string(template: str, kind: Kind = Kind.STR, lo: int = 1, hi: int = 1) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        return Sql(template.format(*(as_str(a) for a in _args(c, call))), kind)

    return FunctionSpec(lo, hi, compile)


def _trim(sql_name: str) -> FunctionSpec:
    def compile(c: ExprCompiler, call: ast.Call) -> Sql:
        args = [as_str(a).text for a in _args(c, call)]
        if len(args) == 1:  # whitespace, not only spaces
            pattern = {"ltrim": "^\\s+", "rtrim": "\\s+$", "trim": "^\\s+|\\s+$"}[sql_name]
            return Sql(f"regexp_replace({args[0]}, '{pattern}', '', 'g')", Kind.STR)
        return Sql(f"{sql_name}({args[0]}, {args[1]})", Kind.STR)

    return FunctionSpec(1, 2, compile)


def _substr(c: ExprCompiler, call: ast.Call) -> Sql:
    args = _args(c, call)
    text, start = as_str(args[0]), f"CAST(floor({as_num(args[1])}) AS BIGINT)"
    if len(args) == 2:
        return Sql(f"substring({text}, {start} + 1)", Kind.STR)
    length = f"CAST(floor({as_num(args[2])}) AS BIGINT)"
    return Sql(f"substring({text}, {start} + 1, {length})", Kind.STR)


def _concat(c: ExprCompiler, call: ast.Call) -> Sql:
    return Sql(f"concat({', '.join(as_str(a).text for a in _args(c, call))})", Kind.STR)


def _ispresent(c: ExprCompiler, call: ast.Call) -> Sql:
    value = c.compile(call.args[0])
    return Sql("false" if value.kind is Kind.NULL else f"({value} IS NOT NULL)", Kind.BOOL)


def _coalesce(c: ExprCompiler, call: ast.Call) -> Sql:
    args = [a for a in _args(c, call) if a.kind is not Kind.NULL]
    if not args:
        return NULL
    kinds = {a.kind for a in args}
    if len(kinds) == 1:
        return Sql(f"coalesce({', '.join(a.text for a in args)})", kinds.pop())
    return Sql(f"coalesce({', '.join(as_str(a).text for a in args)})", Kind.STR)


def _identity(c: ExprCompiler, call: ast.Call) -> Sql:
    return c.compile(call.args[0])


def _json_parse(c: ExprCompiler, call: ast.Call) -> Sql:
    value = c.compile(call.args[0])
    if value.kind is Kind.JSON:
        return value
    text = as_str(value)
    return Sql(f"(CASE WHEN json_valid({text}) THEN CAST({text} AS JSON) END)", Kind.JSON)


def _json_stringify(c: ExprCompiler, call: ast.Call) -> Sql:
    value = c.compile(call.args[0])
    if value.kind is Kind.JSON:
        return Sql(f"CAST(json({value}) AS VARCHAR)", Kind.STR)
    if value.kind is Kind.NULL:
        return NULL
    return Sql(f"CAST(to_json({value}) AS VARCHAR)", Kind.STR)


FUNCTIONS: dict[str, FunctionSpec] = {
    # numeric
    "abs": _numeric("abs({0})"),
    "ceil": _numeric("ceil({0})"),
    "floor": _numeric("floor({0})"),
    "log": _numeric("(CASE WHEN {0} > 0 THEN ln({0}) END)"),
    "sqrt": _numeric("(CASE WHEN {0} >= 0 THEN sqrt({0}) END)"),
    "greatest": _variadic_numeric("greatest"),
    "least": _variadic_numeric("least"),
    # string
    "concat": FunctionSpec(1, VARIADIC, _concat),
    "ltrim": _trim("ltrim"),
    "rtrim": _trim("rtrim"),
    "trim": _trim("trim"),
    "strlen": _string("length({0})", Kind.NUM),
    "toupper": _string("upper({0})"),
    "tolower": _string("lower({0})"),
    "substr": FunctionSpec(2, 3, _substr),
    "replace": _string("replace({0}, {1}, {2})", lo=3, hi=3),
    "strcontains": _string("CAST(contains({0}, {1}) AS INTEGER)", Kind.NUM, 2, 2),
    "isempty": _string("({0} IS NULL OR {0} = '')", Kind.BOOL),
    "isblank": _string("({0} IS NULL OR regexp_full_match({0}, '\\s*'))", Kind.BOOL),
    # general
    "ispresent": FunctionSpec(1, 1, _ispresent),
    "coalesce": FunctionSpec(1, VARIADIC, _coalesce),
    "unmask": FunctionSpec(1, 1, _identity),
    # JSON
    "jsonparse": FunctionSpec(1, 1, _json_parse),
    "jsonstringify": FunctionSpec(1, 1, _json_stringify),
    **DATETIME_FUNCTIONS,
    **IP_FUNCTIONS,
}

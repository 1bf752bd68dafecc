"""Expressions → typed DuckDB SQL (:class:`values.Sql`), dispatched by node type.

Null semantics (decision; the documentation is silent): a missing field is NULL; a comparison
with a missing operand is not true, so ``filter x != 1`` drops events without ``x``; the
explicit negations ``not like``, ``not in`` and ``not (...)`` invert a predicate that treats
"missing" as false, so ``filter x not like "a"`` keeps events without ``x``.

Comparisons: numbers (and timestamps) against numbers compare numerically; a number against
text reads the text as a number (``statusCode = 200`` matches the JSON text ``"200"``); text
against a string literal compares as text; two text fields compare numerically when both read
as numbers, else as text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import ast
from .errors import MalformedQueryException, UnsupportedQueryError
from .regex import translate
from .tokens import position
from .values import (
    NULL,
    NUMERIC,
    Kind,
    Sql,
    as_bool,
    as_num,
    as_str,
    ident,
    json_text,
    literal,
    number,
)

SYSTEM_FIELDS: dict[str, Kind] = {
    "@timestamp": Kind.TS,
    "@ingestionTime": Kind.TS,
    "@message": Kind.STR,
    "@logStream": Kind.STR,
    "@log": Kind.STR,
    "@ptr": Kind.STR,
}

SQL_COMPARISON = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SQL_ARITHMETIC = {"+": "+", "-": "-", "*": "*", "/": "/", "%": "%"}


@dataclass
class Scope:
    """Field name → the SQL that reads it in the current stage's input relation."""

    columns: dict[str, Sql] = field(default_factory=dict)

    @classmethod
    def for_source(cls, fields: Mapping[str, str]) -> Scope:
        columns = {name: Sql(ident(name), kind) for name, kind in SYSTEM_FIELDS.items()}
        for name, expr in fields.items():
            if name not in columns:
                columns[name] = Sql(expr, Kind.STR)
        return cls(columns)

    def resolve(self, name: str, parts: tuple[str, ...] = ()) -> Sql:
        found = self.columns.get(name)
        if found is not None:
            return found
        # `parsed.a.b` reads into a JSON value produced by jsonParse.
        parts = parts or tuple(name.split("."))
        for cut in range(len(parts) - 1, 0, -1):
            base = self.columns.get(".".join(parts[:cut]))
            if base is not None and base.kind is Kind.JSON:
                path = "$" + "".join('."' + p.replace('"', '\\"') + '"' for p in parts[cut:])
                return Sql(f"json_extract({base}, {literal(path)})", Kind.JSON)
        return NULL


class ExprCompiler:
    def __init__(
        self,
        text: str,
        scope: Scope,
        *,
        now_ms: int = 0,
        group_keys: Mapping[str, Sql] | None = None,
    ) -> None:
        self.text = text
        self.scope = scope
        self.now_ms = now_ms
        # Set in `stats`: aggregates are allowed, and bare fields must be group keys.
        self.group_keys = group_keys
        self.in_aggregate = False

    # -- errors -----------------------------------------------------------------------------
    def error(self, node: ast.Node, reason: str) -> MalformedQueryException:
        line, col = position(self.text, node.start)
        return MalformedQueryException(reason, line=line, column=col, text=node.text)

    # -- dispatch ---------------------------------------------------------------------------
    def compile(self, expr: ast.Expr) -> Sql:
        if isinstance(expr, _NAMED_BY_TEXT) and not self.aggregating:
            # A column named by its expression text (`sort count(*) desc` after `stats count(*)`).
            named = self.scope.columns.get(expr.text)
            if named is not None:
                return named
        return _COMPILERS[type(expr)](self, expr)

    @property
    def aggregating(self) -> bool:
        return self.group_keys is not None and not self.in_aggregate

    def timestamp(self) -> Sql:
        return self.scope.resolve("@timestamp")

    # -- nodes ------------------------------------------------------------------------------
    def field(self, node: ast.Field) -> Sql:
        if self.aggregating:
            assert self.group_keys is not None
            key = self.group_keys.get(node.name)
            if key is None:
                raise self.error(
                    node,
                    f"field '{node.name}' must be used in an aggregate function or the 'by' clause",
                )
            return key
        return self.scope.resolve(node.name, node.parts)

    def string(self, node: ast.String) -> Sql:
        return Sql(literal(node.value), Kind.STR)

    def number(self, node: ast.Number) -> Sql:
        return Sql(number(node.value, node.is_integer), Kind.NUM)

    def misplaced(self, node: ast.Expr) -> Sql:
        kind = {
            ast.Regex: "a regular expression",
            ast.Period: "a time period",
            ast.ListLit: "a list",
        }
        raise self.error(node, f"{kind[type(node)]} is not allowed here")

    def unary(self, node: ast.Unary) -> Sql:
        operand = self.compile(node.operand)
        if node.op == "-":
            return Sql(f"(- {as_num(operand)})", Kind.NUM)
        return Sql(f"(NOT coalesce({as_bool(operand)}, false))", Kind.BOOL)

    def binary(self, node: ast.Binary) -> Sql:
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op in ("and", "or"):
            return Sql(f"({as_bool(left)} {node.op.upper()} {as_bool(right)})", Kind.BOOL)
        if node.op in SQL_COMPARISON:
            return self.compare(node.op, left, right, literal_side=_literal_side(node))
        if node.op == "^":
            return Sql(f"power({as_num(left)}, {as_num(right)})", Kind.NUM)
        nonzero = isinstance(node.right, ast.Number) and node.right.value != 0
        if node.op in ("/", "%") and not nonzero:  # dividing by zero gives a missing value
            return Sql(
                f"(CAST({as_num(left)} AS DOUBLE) {node.op} NULLIF({as_num(right)}, 0))", Kind.NUM
            )
        # In doubles, as Logs Insights computes: integer arithmetic must not overflow.
        left_num = as_num(left)
        return Sql(
            f"(CAST({left_num} AS DOUBLE) {SQL_ARITHMETIC[node.op]} {as_num(right)})", Kind.NUM
        )

    def compare(self, op: str, left: Sql, right: Sql, *, literal_side: bool) -> Sql:
        sql_op = SQL_COMPARISON[op]
        if Kind.NULL in (left.kind, right.kind):
            return Sql("CAST(NULL AS BOOLEAN)", Kind.BOOL)
        if left.kind is Kind.JSON:
            left = Sql(json_text(left), Kind.STR)
        if right.kind is Kind.JSON:
            right = Sql(json_text(right), Kind.STR)
        textual = (left.kind is Kind.STR, right.kind is Kind.STR)
        if textual == (True, True):
            if literal_side:
                return Sql(f"({left} {sql_op} {right})", Kind.BOOL)
            numeric = f"(TRY_CAST({left} AS DOUBLE) {sql_op} TRY_CAST({right} AS DOUBLE))"
            return Sql(f"coalesce({numeric}, {left} {sql_op} {right})", Kind.BOOL)
        return Sql(f"({as_num(left)} {sql_op} {as_num(right)})", Kind.BOOL)

    def like(self, node: ast.Like) -> Sql:
        operand = as_str(self.compile(node.operand))
        if isinstance(node.pattern, ast.Regex):
            test = f"regexp_matches({operand}, {literal(self.regex(node.pattern))})"
        else:
            test = f"contains({operand}, {as_str(self.compile(node.pattern))})"
        if operand.kind is Kind.NULL:
            test = "CAST(NULL AS BOOLEAN)"
        return Sql(f"(NOT coalesce({test}, false))" if node.negated else test, Kind.BOOL)

    def regex(self, node: ast.Regex) -> str:
        try:
            return translate(node.pattern, extract=False).pattern
        except (UnsupportedQueryError, MalformedQueryException):
            raise
        except Exception as exc:  # re.error & co: the pattern itself is malformed
            raise self.error(node, f"invalid regular expression ({exc})") from None

    def in_(self, node: ast.In) -> Sql:
        operand = self.compile(node.operand)
        if operand.kind is Kind.JSON:
            operand = Sql(json_text(operand), Kind.STR)
        tests: list[str] = []
        numbers = [self.compile(i) for i in node.items if isinstance(i, ast.Number)]
        strings = [self.compile(i) for i in node.items if isinstance(i, ast.String)]
        others = [i for i in node.items if not isinstance(i, ast.Number | ast.String)]
        if operand.kind in NUMERIC or operand.kind is Kind.BOOL:
            numbers += [as_num(s) for s in strings]
            strings = []
        if numbers:
            tests.append(f"{as_num(operand)} IN ({', '.join(n.text for n in numbers)})")
        if strings:
            tests.append(f"{as_str(operand)} IN ({', '.join(s.text for s in strings)})")
        for other in others:
            tests.append(self.compare("=", operand, self.compile(other), literal_side=False).text)
        test = "(" + " OR ".join(tests) + ")" if tests else "false"
        if operand.kind is Kind.NULL:
            test = "CAST(NULL AS BOOLEAN)"
        return Sql(f"(NOT coalesce({test}, false))" if node.negated else test, Kind.BOOL)

    def call(self, node: ast.Call) -> Sql:
        from .aggregates import AGGREGATES
        from .functions import FUNCTIONS

        name = node.name.lower()
        spec = FUNCTIONS.get(name) or AGGREGATES.get(name)
        if spec is None:
            raise self.error(node, f"unknown function '{node.name}'")
        if name in AGGREGATES and not self.aggregating:
            raise self.error(node, f"aggregate function '{node.name}' is only allowed in stats")
        if node.star and not spec.star:
            raise self.error(node, f"'*' is not an argument of '{node.name}'")
        count = len(node.args)
        if not node.star and not spec.min_args <= count <= spec.max_args:
            expected = (
                str(spec.min_args)
                if spec.min_args == spec.max_args
                else f"{spec.min_args} to {spec.max_args}"
            )
            if spec.max_args > 99:
                expected = f"at least {spec.min_args}"
            raise self.error(node, f"'{node.name}' takes {expected} argument(s), got {count}")
        if name in AGGREGATES:
            saved = self.in_aggregate
            self.in_aggregate = True
            try:
                return spec.compile(self, node)
            finally:
                self.in_aggregate = saved
        return spec.compile(self, node)

    def index(self, node: ast.Index) -> Sql:
        base = self.compile(node.operand)
        if not isinstance(node.index, ast.Number) or not node.index.is_integer:
            raise self.error(node.index, "a list index must be a whole number")
        if base.kind is Kind.NULL:
            return NULL
        if base.kind is not Kind.JSON:
            raise self.error(node, "only lists from jsonParse can be indexed")
        return Sql(f"json_extract({base}, '$[{int(node.index.value)}]')", Kind.JSON)


# Expressions whose unaliased result column is named by their text (literals never are).
_NAMED_BY_TEXT = (ast.Call, ast.Binary, ast.Unary, ast.Index, ast.Like, ast.In)


def _literal_side(node: ast.Binary) -> bool:
    return isinstance(node.left, ast.String) or isinstance(node.right, ast.String)


_COMPILERS: dict[type, Callable[[ExprCompiler, ast.Expr], Sql]] = {
    ast.Field: ExprCompiler.field,  # type: ignore[dict-item]
    ast.String: ExprCompiler.string,  # type: ignore[dict-item]
    ast.Number: ExprCompiler.number,  # type: ignore[dict-item]
    ast.Regex: ExprCompiler.misplaced,
    ast.Period: ExprCompiler.misplaced,
    ast.ListLit: ExprCompiler.misplaced,
    ast.Unary: ExprCompiler.unary,  # type: ignore[dict-item]
    ast.Binary: ExprCompiler.binary,  # type: ignore[dict-item]
    ast.Like: ExprCompiler.like,  # type: ignore[dict-item]
    ast.In: ExprCompiler.in_,  # type: ignore[dict-item]
    ast.Call: ExprCompiler.call,  # type: ignore[dict-item]
    ast.Index: ExprCompiler.index,  # type: ignore[dict-item]
}

"""The syntax tree of a Logs Insights query: expressions and pipe commands.

Every node keeps ``text`` (its exact source text) and ``start`` (offset in the query): the text
names unaliased columns (``count(*)``, ``bin(5m)``) and positions feed error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Node:
    text: str
    start: int


# -- expressions -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Field(Node):
    name: str
    parts: tuple[str, ...] = ()  # segments as written (backticked ones may contain dots)


@dataclass(frozen=True, slots=True)
class String(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Number(Node):
    value: float
    is_integer: bool


@dataclass(frozen=True, slots=True)
class Regex(Node):
    pattern: str


@dataclass(frozen=True, slots=True)
class Period(Node):
    """A time period literal: ``millis`` for fixed units, ``months`` for calendar units."""

    millis: int = 0
    months: int = 0


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # + - * / % ^ = != < <= > >= and or
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Like(Node):
    operand: Expr
    pattern: Expr  # String (substring) or Regex; anything else is compared as a substring
    negated: bool


@dataclass(frozen=True, slots=True)
class In(Node):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str  # as written; lookups are case-insensitive
    args: tuple[Expr, ...]
    star: bool = False  # count(*)


@dataclass(frozen=True, slots=True)
class Index(Node):
    operand: Expr
    index: Expr


Expr = (
    Field | String | Number | Regex | Period | ListLit | Unary | Binary | Like | In | Call | Index
)


@dataclass(frozen=True, slots=True)
class Projection:
    """``expr [as alias]``; ``name`` is the alias or else the expression's text."""

    expr: Expr
    alias: str | None

    @property
    def name(self) -> str:
        if self.alias is not None:
            return self.alias
        if isinstance(self.expr, Field):
            return self.expr.name
        return self.expr.text


# -- commands ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Command:
    keyword: str  # as written, for messages
    start: int


@dataclass(frozen=True, slots=True)
class Fields(Command):
    items: tuple[Projection, ...]


@dataclass(frozen=True, slots=True)
class Display(Command):
    items: tuple[Projection, ...]


@dataclass(frozen=True, slots=True)
class Filter(Command):
    condition: Expr


@dataclass(frozen=True, slots=True)
class Stats(Command):
    aggregates: tuple[Projection, ...]
    by: tuple[Projection, ...]


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: Expr
    descending: bool


@dataclass(frozen=True, slots=True)
class Sort(Command):
    keys: tuple[SortKey, ...]


@dataclass(frozen=True, slots=True)
class Limit(Command):
    count: int


@dataclass(frozen=True, slots=True)
class Parse(Command):
    source: Expr | None  # None: @message
    pattern: String | Regex
    names: tuple[str, ...]  # glob: the `as` names; regex: the named groups in order


@dataclass(frozen=True, slots=True)
class Dedup(Command):
    fields: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Unnest(Command):
    operand: Expr
    into: str


@dataclass(frozen=True, slots=True)
class LookupKey:
    table_field: str
    log_field: str


@dataclass(frozen=True, slots=True)
class Lookup(Command):
    table: str
    table_start: int
    table_text: str  # as written (maybe in backticks), for error messages
    keys: tuple[LookupKey, ...]
    outputs: tuple[Projection, ...]  # OUTPUT columns (Field) with optional alias


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """``SOURCE logGroups(namePrefix: [...], class: [...], accountIdentifiers: [...])``.

    No ``name_prefixes`` means every log group (``SOURCE logGroups()``)."""

    name_prefixes: tuple[str, ...] = ()
    log_class: str | None = None
    account_identifiers: tuple[str, ...] = ()


@dataclass(slots=True)
class Query:
    text: str
    commands: list[Command] = field(default_factory=list)
    source: SourceSpec | None = None

    @property
    def limit(self) -> int | None:
        """The smallest ``limit`` in the pipeline (``None`` without one)."""
        limits = [c.count for c in self.commands if isinstance(c, Limit)]
        return min(limits) if limits else None

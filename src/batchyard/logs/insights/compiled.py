"""The compiler's output: :class:`CompiledQuery` (SQL per stage, output columns) and the types
the store passes in or reads back.

``sql(source)`` chains the stages as CTEs over the relation ``source``; ``matched_sql(source)``
chains only the stages that decide which events match (``recordsMatched``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast
from .values import Kind

DEFAULT_LIMIT = 10_000
PREFIX = "__by_"


@dataclass(frozen=True, slots=True)
class LookupTableInfo:
    """A lookup table the store created: its SQL name (as it must appear in FROM) and columns."""

    sql_name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutputColumn:
    name: str
    kind: Kind


@dataclass(slots=True)
class Stage:
    select: str = "*"
    where: str | None = None
    group_by: str | None = None
    having: str | None = None
    qualify: str | None = None
    order_by: list[str] | None = None
    limit: int | None = None
    join: str | None = None
    matched: bool = False  # part of the recordsMatched count
    expands: bool = False  # may give several rows per input row (unnest)

    def keeps_rows(self) -> bool:
        """One output row per input row, whatever the values (a pure projection)."""
        return not (
            self.where or self.group_by or self.having or self.qualify or self.join
            or self.limit is not None or self.expands
        )  # fmt: skip

    def render(self, prev: str) -> str:
        sql = f"SELECT {self.select} FROM {prev}"
        if self.join:
            sql = f"SELECT {self.select} FROM {prev} AS {PREFIX}t {self.join}"
        for keyword, value in (("WHERE", self.where), ("GROUP BY", self.group_by),
                               ("HAVING", self.having), ("QUALIFY", self.qualify)):  # fmt: skip
            if value:
                sql += f" {keyword} {value}"
        if self.order_by:
            sql += " ORDER BY " + ", ".join(self.order_by)
        if self.limit is not None:
            sql += f" LIMIT {self.limit}"
        return sql


@dataclass
class CompiledQuery:
    query: ast.Query
    columns: list[OutputColumn]
    limit: int
    has_ptr: bool
    stages: list[Stage] = field(repr=False)
    final: Stage = field(repr=False)

    def _chain(self, stages: list[Stage], source: str) -> tuple[list[str], str]:
        ctes: list[str] = []
        prev = source
        for n, stage in enumerate(stages, 1):
            name = f"{PREFIX}s{n}"
            ctes.append(f"{name} AS ({stage.render(prev)})")
            prev = name
        return ctes, prev

    def sql(self, source: str) -> str:
        """DuckDB SQL over relation ``source``: the result rows, columns in display order (then
        ``@ptr`` when :attr:`has_ptr`)."""
        ctes, last = self._chain(self.stages, source)
        body = self.final.render(last)
        return f"WITH {', '.join(ctes)} {body}" if ctes else body

    def matched_sql(self, source: str) -> str:
        """DuckDB SQL returning one row: the number of events the query matched."""
        stages = [s for s in self.stages if s.matched]
        # Trailing stages that only add columns (parse, fields, ...) cannot change the count;
        # DuckDB would still compute them (a regex per event), so they are left out.
        while stages and stages[-1].keeps_rows():
            stages.pop()
        ctes, last = self._chain(stages, source)
        body = f"SELECT count(*) FROM {last}"
        return f"WITH {', '.join(ctes)} {body}" if ctes else body

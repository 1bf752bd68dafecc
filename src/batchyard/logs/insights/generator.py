"""The SQL generator: a parsed query → DuckDB SQL, one CTE per pipe stage.

Design
------
Each stage reads the previous CTE and usually keeps all of its columns (``SELECT *, ...``), so
the source relation's columns — and with them the field expressions the store passed in — stay
readable until a ``stats`` replaces the row set.  New fields get fresh physical names
(``__by_v1`` …); a :class:`expressions.Scope` maps every field name to the SQL that reads it,
so field names may contain any character and redefining a field just repoints the scope.
Sorting is carried as ORDER BY terms and applied where order matters (``limit``, ``dedup``, the
final SELECT), because SQL does not keep order across CTEs.

Output columns (decisions where the documentation is silent): without any ``fields``,
``stats`` or ``display`` the result shows ``@timestamp`` and ``@message`` (as the documentation
describes for a bare ``filter``) followed by the fields that ``parse``, ``unnest`` and
``lookup`` created; every ``fields`` command adds its fields (created fields then show only if
listed); ``stats`` shows its ``by`` fields and then its aggregates, until a later ``fields``
command chooses the columns anew; the last ``display`` wins.  Event rows carry ``@ptr`` as an
extra trailing SQL column (not in :attr:`CompiledQuery.columns`).

Order: without ``sort``, events come newest first (``@timestamp desc``, as ``dedup`` assumes)
and ``stats`` rows in plain (code point / numeric) order of their ``by`` fields.  ``stats``
without ``by`` over no events returns no row.  ``recordsMatched`` counts the events that pass
the event-level stages before the first ``stats`` (``limit`` and ``dedup`` do not reduce it).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import ast
from .compiled import PREFIX, CompiledQuery, LookupTableInfo, OutputColumn, Stage
from .errors import MalformedQueryException
from .expressions import ExprCompiler, Scope
from .natural import order_terms
from .regex import (
    can_match_empty,
    glob_to_regex,
    glob_with_anchors,
    groups_never_empty,
    translate,
)
from .tokens import position
from .values import NULL, Kind, Sql, as_bool, as_str, ident, json_text, literal


class Generator:
    def __init__(
        self,
        query: ast.Query,
        fields: Mapping[str, str],
        lookup_tables: Mapping[str, LookupTableInfo],
        now_ms: int,
        default_limit: int,
    ) -> None:
        self.query = query
        self.lookup_tables = lookup_tables
        self.now_ms = now_ms
        self.default_limit = default_limit
        self.scope = Scope.for_source(fields)
        self.stages: list[Stage] = []
        self.counter = 0
        self.order: list[str] | None = None
        self.aggregated = False
        self.group_order: list[str] = []
        self.visible: list[str] = []
        self.created: list[str] = []  # fields made by parse/unnest/lookup
        self.fields_seen = False
        self.showing_stats = False
        self.display: list[str] | None = None

    # -- helpers ----------------------------------------------------------------------------
    def fresh(self) -> str:
        self.counter += 1
        return f"{PREFIX}v{self.counter}"

    def compiler(self, scope: Scope | None = None) -> ExprCompiler:
        return ExprCompiler(self.query.text, scope or self.scope, now_ms=self.now_ms)

    def error(self, start: int, text: str, reason: str) -> MalformedQueryException:
        line, col = position(self.query.text, start)
        return MalformedQueryException(reason, line=line, column=col, text=text)

    def show(self, *names: str) -> None:
        for name in names:
            if name not in self.visible:
                self.visible.append(name)

    def created_fields(self, *names: str) -> None:
        for name in names:
            if name not in self.created:
                self.created.append(name)

    def add_stage(self, stage: Stage) -> None:
        stage.matched = stage.matched and not self.aggregated
        self.stages.append(stage)

    def current_order(self) -> list[str]:
        if self.order is not None:
            return self.order
        if self.aggregated:
            return self.group_order
        ts = self.scope.resolve("@timestamp")
        return [f"{ts} DESC NULLS LAST"] if ts.kind is not Kind.NULL else []

    def define(self, items: list[tuple[str, ast.Expr]]) -> None:
        """Add computed fields in one stage; later items see earlier ones (inlined)."""
        local = Scope(dict(self.scope.columns))
        select: list[str] = []
        new: dict[str, Sql] = {}
        for name, expr in items:
            if isinstance(expr, ast.Field) and expr.name == name and name in local.columns:
                continue  # `fields a`: nothing to compute
            value = self.compiler(local).compile(expr)
            if value.kind is Kind.NULL:
                local.columns[name] = new[name] = NULL
                continue
            column = self.fresh()
            select.append(f"{value} AS {column}")
            local.columns[name] = Sql(f"({value})", value.kind)
            new[name] = Sql(column, value.kind)
        if select:
            self.add_stage(Stage(select="*, " + ", ".join(select), matched=True))
        self.scope.columns.update(new)

    # -- commands ---------------------------------------------------------------------------
    def fields(self, cmd: ast.Fields) -> None:
        self.define([(p.name, p.expr) for p in cmd.items])
        if self.showing_stats:  # the first `fields` after `stats` chooses the columns anew
            self.visible = []
            self.showing_stats = False
        self.show(*(p.name for p in cmd.items))
        self.fields_seen = True

    def display_(self, cmd: ast.Display) -> None:
        self.define([(p.name, p.expr) for p in cmd.items])
        self.display = list(dict.fromkeys(p.name for p in cmd.items))

    def filter(self, cmd: ast.Filter) -> None:
        condition = as_bool(self.compiler().compile(cmd.condition))
        self.add_stage(Stage(where=condition.text, matched=True))

    def stats(self, cmd: ast.Stats) -> None:
        keys = [(p.name, self.compiler().compile(p.expr)) for p in cmd.by]
        group_keys = {name: value for name, value in keys}
        aggs = []
        for p in cmd.aggregates:
            compiler = ExprCompiler(
                self.query.text, self.scope, now_ms=self.now_ms, group_keys=group_keys
            )
            aggs.append((p.name, compiler.compile(p.expr)))
        select: list[str] = []
        scope: dict[str, Sql] = {}
        for name, value in [*keys, *aggs]:
            column = self.fresh()
            select.append(f"{value} AS {column}")
            scope[name] = Sql(column, value.kind)
        stage = Stage(select=", ".join(select))
        if keys:
            stage.group_by = ", ".join(str(n) for n in range(1, len(keys) + 1))
        else:
            stage.having = "count(*) > 0"  # no events, no row (like a group-by with no groups)
        self.add_stage(stage)
        self.aggregated = True
        self.scope = Scope(scope)
        self.order = None
        # Unsorted stats rows come in plain order of their keys: deterministic and cheap.
        self.group_order = [f"{scope[name]} ASC NULLS LAST" for name, _ in keys]
        self.visible = list(dict.fromkeys(name for name, _ in [*keys, *aggs]))
        self.showing_stats = True
        self.fields_seen = True

    def sort(self, cmd: ast.Sort) -> None:
        compiler = self.compiler()
        self.order = [
            t for k in cmd.keys for t in order_terms(compiler.compile(k.expr), k.descending)
        ]

    def limit(self, cmd: ast.Limit) -> None:
        self.add_stage(Stage(order_by=self.current_order() or None, limit=cmd.count))

    def dedup(self, cmd: ast.Dedup) -> None:
        keys = [self.compiler().compile(e) for e in cmd.fields]
        order = self.current_order()
        window = f"PARTITION BY {', '.join(k.text for k in keys)}"
        if order:
            window += " ORDER BY " + ", ".join(order)
        nulls = " OR ".join(f"{k} IS NULL" for k in keys)
        self.add_stage(Stage(qualify=f"row_number() OVER ({window}) = 1 OR {nulls}"))
        self.order = order

    def parse(self, cmd: ast.Parse) -> None:
        source = as_str(
            self.compiler().compile(cmd.source or ast.Field("@message", cmd.start, "@message"))
        )
        self.created_fields(*cmd.names)
        if source.kind is Kind.NULL:
            self.scope.columns.update({name: NULL for name in cmd.names})
            return
        trims: tuple[str, ...] = ()
        if isinstance(cmd.pattern, ast.String):
            glob = glob_with_anchors(cmd.pattern.value)
            pattern = glob.pattern if glob else glob_to_regex(cmd.pattern.value)
            trims = glob.trims if glob else ()
        else:
            pattern = translate(cmd.pattern.pattern, extract=True).pattern
        if trims or groups_never_empty(pattern):
            # An empty capture can only mean "no match": extract directly, as one would by hand.
            cut = {"last": "left({}, -1)", "first": "substr({}, 2)"}
            shape = [cut[t] for t in trims] or ["{}"] * len(cmd.names)
            if len(cmd.names) == 1:
                value = shape[0].format(
                    f"nullif(regexp_extract({source}, {literal(pattern)}, 1), '')"
                )
                column = self.fresh()
                self.add_stage(Stage(select=f"*, {value} AS {column}", matched=True))
                self.scope.columns[cmd.names[0]] = Sql(column, Kind.STR)
                return
            match = self.fresh()
            names = [f"g{i}" for i in range(len(cmd.names))]
            extract = f"regexp_extract({source}, {literal(pattern)}, {names!r})"
            self.add_stage(Stage(select=f"*, {extract} AS {match}", matched=True))
            values = [shape[i].format(f"nullif({match}.g{i}, '')") for i in range(len(cmd.names))]
            self._bind_groups(cmd.names, values)
            return
        flags = ""
        if pattern.startswith("(?s)"):
            flags, pattern = "(?s)", pattern[4:]
        guarded = can_match_empty(pattern)
        match = self.fresh()
        names = ["m", *(f"g{i}" for i in range(len(cmd.names)))]
        extract = f"regexp_extract({source}, {literal(flags + '(' + pattern + ')')}, {names!r})"
        if guarded:  # an empty match is possible: test for a match explicitly
            extract = (
                f"CASE WHEN regexp_matches({source}, {literal(flags + pattern)}) THEN {extract} END"
            )
        self.add_stage(Stage(select=f"*, {extract} AS {match}", matched=True))
        self._bind_groups(
            cmd.names,
            [f"{match}.g{i}" if guarded else f"CASE WHEN {match}.m <> '' THEN {match}.g{i} END"
             for i in range(len(cmd.names))],
        )  # fmt: skip

    def _bind_groups(self, names: tuple[str, ...], values: list[str]) -> None:
        select = []
        for name, value in zip(names, values, strict=True):
            column = self.fresh()
            select.append(f"{value} AS {column}")
            self.scope.columns[name] = Sql(column, Kind.STR)
        self.add_stage(Stage(select="*, " + ", ".join(select), matched=True))

    def unnest(self, cmd: ast.Unnest) -> None:
        value = self.compiler().compile(cmd.operand)
        self.created_fields(cmd.into)
        column = self.fresh()
        if value.kind is Kind.JSON:
            items = (f"CASE WHEN {value} IS NULL THEN [] WHEN json_type({value}) = 'ARRAY' "
                     f"THEN CAST(json_extract({value}, '$[*]') AS JSON[]) ELSE [{value}] END")  # fmt: skip
        elif value.kind is Kind.NULL:
            items = "[]"
        else:
            items = f"CASE WHEN {value} IS NULL THEN [] ELSE [{value}] END"
        self.add_stage(Stage(select=f"*, unnest({items}) AS {column}", matched=True, expands=True))
        self.scope.columns[cmd.into] = Sql(
            column, value.kind if value.kind is not Kind.NULL else Kind.STR
        )

    def lookup(self, cmd: ast.Lookup) -> None:
        table = self.lookup_tables.get(cmd.table)
        if table is None:
            raise self.error(
                cmd.table_start, cmd.table_text, f"lookup table '{cmd.table}' does not exist"
            )
        known = set(table.columns)
        keys = {k.table_field for k in cmd.keys}
        outputs = list(cmd.outputs) or [
            ast.Projection(ast.Field(c, cmd.start, c), None) for c in table.columns if c not in keys
        ]
        for name in [*keys, *(p.expr.name for p in outputs if isinstance(p.expr, ast.Field))]:
            if name not in known:
                raise self.error(
                    cmd.table_start,
                    cmd.table_text,
                    f"lookup table '{cmd.table}' has no field '{name}'",
                )
        inner = [f"{ident(k.table_field)} AS {PREFIX}k{i}" for i, k in enumerate(cmd.keys)]
        inner += [f"{ident(p.expr.name)} AS {PREFIX}o{i}" for i, p in enumerate(outputs)
                  if isinstance(p.expr, ast.Field)]  # fmt: skip
        key_list = ", ".join(f"{PREFIX}k{i}" for i in range(len(cmd.keys)))
        conditions = " AND ".join(
            f"{PREFIX}l.{PREFIX}k{i} = {as_str(self.scope.resolve(k.log_field))}"
            for i, k in enumerate(cmd.keys)
        )
        select = [f"{PREFIX}t.*"]
        for i, p in enumerate(outputs):
            column = self.fresh()
            select.append(f"{PREFIX}l.{PREFIX}o{i} AS {column}")
            self.scope.columns[p.name] = Sql(column, Kind.STR)
            self.created_fields(p.name)
        join = (f"LEFT JOIN (SELECT DISTINCT ON ({key_list}) {', '.join(inner)} FROM {table.sql_name}) "
                f"AS {PREFIX}l ON {conditions}")  # fmt: skip
        self.add_stage(Stage(select=", ".join(select), join=join, matched=True))

    # -- assembly ---------------------------------------------------------------------------
    def build(self) -> CompiledQuery:
        for cmd in self.query.commands:
            handler = getattr(self, _HANDLERS[type(cmd)])
            handler(cmd)
        names = self.display if self.display is not None else self.visible
        if self.display is None and not self.fields_seen:
            names = list(dict.fromkeys(["@timestamp", "@message", *self.created]))
        select: list[str] = []
        columns: list[OutputColumn] = []
        for name in names:
            value = self.scope.resolve(name)
            if value.kind is Kind.JSON:
                value = Sql(json_text(value), Kind.STR)
            select.append(
                f"{value} AS {ident(name)}"
                if value.kind is not Kind.NULL
                else f"NULL AS {ident(name)}"
            )
            columns.append(OutputColumn(name, value.kind))
        ptr = self.scope.resolve("@ptr")
        has_ptr = not self.aggregated and ptr.kind is not Kind.NULL
        if has_ptr:
            select.append(f"{ptr} AS {PREFIX}ptr")
        limit = self.query.limit or self.default_limit
        final = Stage(
            select=", ".join(select) or "NULL", order_by=self.current_order() or None, limit=limit
        )
        return CompiledQuery(self.query, columns, limit, has_ptr, self.stages, final)


_HANDLERS: dict[type, str] = {
    ast.Fields: "fields",
    ast.Display: "display_",
    ast.Filter: "filter",
    ast.Stats: "stats",
    ast.Sort: "sort",
    ast.Limit: "limit",
    ast.Dedup: "dedup",
    ast.Parse: "parse",
    ast.Unnest: "unnest",
    ast.Lookup: "lookup",
}

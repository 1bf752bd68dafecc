"""Logs Insights query language → DuckDB SQL: a pure compiler (no I/O, no other batchyard imports).

Public API::

    query = insights.parse(text)                     # raises MalformedQueryException
    compiled = insights.compile(query_or_text, fields=..., lookup_tables=..., now_ms=...)
    rows = con.execute(compiled.sql("events")).fetchall()
    result = insights.render_rows(compiled, rows)    # GetQueryResults presentation

Stages: :mod:`tokens` → :mod:`parser` (commands in :mod:`commands`) → :mod:`ast` →
:mod:`generator` (expressions in :mod:`expressions`, function tables in :mod:`functions`,
:mod:`datetimes`, :mod:`ip`, :mod:`aggregates`, sort order in :mod:`natural`, regexes in
:mod:`regex`) → :mod:`render`.  The decisions taken where the AWS documentation is silent are
listed in the docstrings of those modules; :data:`DECISIONS` collects them for the docs.
"""

from __future__ import annotations

from collections.abc import Mapping

from .ast import Query, SourceSpec
from .compiled import DEFAULT_LIMIT, CompiledQuery, LookupTableInfo, OutputColumn
from .decisions import DECISIONS
from .errors import MalformedQueryException, UnsupportedQueryError
from .generator import Generator
from .parser import parse
from .render import render_rows
from .values import Kind

__all__ = [
    "DECISIONS",
    "DEFAULT_LIMIT",
    "CompiledQuery",
    "Kind",
    "LookupTableInfo",
    "MalformedQueryException",
    "OutputColumn",
    "Query",
    "SourceSpec",
    "UnsupportedQueryError",
    "compile",
    "parse",
    "render_rows",
]


def compile(
    query: Query | str,
    *,
    fields: Mapping[str, str],
    lookup_tables: Mapping[str, LookupTableInfo] | None = None,
    now_ms: int = 0,
    default_limit: int = DEFAULT_LIMIT,
) -> CompiledQuery:
    """Compile a query (text or parsed) against the fields discovered in the source relation.

    ``fields`` maps each discovered field name to the SQL expression that reads it;
    ``default_limit`` is the row cap when the query has no ``limit`` (StartQuery's ``limit``).
    """
    parsed = parse(query) if isinstance(query, str) else query
    try:
        return Generator(parsed, fields, lookup_tables or {}, now_ms, default_limit).build()
    except RecursionError:
        raise MalformedQueryException(
            "expression nested too deeply", line=1, column=1, text=parsed.text[:1]
        ) from None

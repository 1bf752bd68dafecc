"""``LogStore.query``: run a Logs Insights query through the compiler in ``insights/``.

The compiler reads a relation named ``src`` with the system fields (``@timestamp``,
``@ingestionTime``, ``@message``, ``@logStream``, ``@log``, ``@ptr``) and one column per
discovered JSON field; this module builds that relation as a CTE over the event backend,
restricted to the query's groups and time range (epoch seconds, both ends inclusive), so DuckDB
prunes by zone maps and reads only the columns the query touches. ``@ptr`` is the event's
``seq`` in hex: ``LogStore.get_log_record`` resolves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from batchyard.logs import insights
from batchyard.logs.errors import InvalidParameterException, ResourceNotFoundException

if TYPE_CHECKING:
    from batchyard.logs.store import LogStore

MAX_LIMIT = 10_000


@dataclass
class QueryResult:
    """What GetQueryResults gives back once the query is ``Complete``."""

    rows: list[dict[str, str]]
    statistics: dict[str, float] = field(default_factory=dict)
    status: str = "Complete"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def select_groups(store: LogStore, parsed: insights.Query, log_groups: Sequence[str]) -> list[str]:
    """The groups a query reads: its ``SOURCE logGroups(...)`` if it has one, else ``log_groups``.

    ``SOURCE logGroups()`` without ``namePrefix`` selects every group; every group here is of
    the STANDARD class, so ``class: ...`` naming another class selects none.
    """
    source = parsed.source
    if source is None:
        return list(log_groups)
    if source.log_class is not None and source.log_class.upper() != "STANDARD":
        return []
    prefixes = source.name_prefixes or ("",)
    return [g for g in store.group_names() if g.startswith(prefixes)]


def source_sql(
    store: LogStore, group_ids: dict[str, int], start_ms: int, end_ms: int, sql_text: str
) -> str:
    """The ``src`` relation; joins for ``@logStream`` only when the query reads it."""
    columns = store.field_columns()
    log_case = " ".join(
        f"WHEN {gid} THEN {_literal(f'{store.account_id}:{name}')}"
        for name, gid in group_ids.items()
    )
    projections = [
        'e.ts AS "@timestamp"',
        'e.ingestion AS "@ingestionTime"',
        'e.message AS "@message"',
        f'CASE e.group_id {log_case} END AS "@log"' if group_ids else 'NULL AS "@log"',
        "printf('%016x', e.seq) AS \"@ptr\"",
        *(f"e.{_quote(col)}" for col in columns.values()),
    ]
    join = ""
    if '"@logStream"' in sql_text:
        projections.append('s.name AS "@logStream"')
        join = " LEFT JOIN log_streams s ON s.stream_id = e.stream_id"
    ids = ", ".join(str(g) for g in group_ids.values()) or "NULL"
    return (
        f"SELECT {', '.join(projections)} FROM {store.events_relation} e{join}"
        f" WHERE e.group_id IN ({ids}) AND e.ts BETWEEN {start_ms} AND {end_ms}"
    )


def run_query(
    store: LogStore,
    text: str,
    log_groups: Sequence[str],
    start_time: int,
    end_time: int,
    limit: int | None = None,
    now_ms: int | None = None,
) -> QueryResult:
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameterException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_LIMIT}"
        )
    parsed = insights.parse(text)
    names = select_groups(store, parsed, log_groups)
    with store.lock:
        store.flush()
        known = set(store.group_names())
        missing = [n for n in names if n not in known]
        if missing:
            raise ResourceNotFoundException(f"Log group '{missing[0]}' does not exist")
        group_ids = store.group_ids(names)
        fields = {name: _quote(col) for name, col in store.field_columns().items()}
        compiled = insights.compile(
            parsed,
            fields=fields,
            lookup_tables=store.lookup_table_infos(),
            now_ms=store.now_ms() if now_ms is None else now_ms,
            default_limit=limit or insights.DEFAULT_LIMIT,
        )
        body = compiled.sql("src")
        src = source_sql(store, group_ids, start_time * 1000, end_time * 1000, body)
        con = store.connection
        rows = con.execute(_with_source(src, body)).fetchall()
        # The statistics in one statement: each statement costs milliseconds of planning.
        scanned = (
            f"SELECT count(*), coalesce(sum(bytes), 0) FROM {store.events_relation} e"
            f" WHERE e.group_id IN ({', '.join(str(g) for g in group_ids.values()) or 'NULL'})"
            f" AND e.ts BETWEEN {start_time * 1000} AND {end_time * 1000}"
        )
        matched = _with_source(src, compiled.matched_sql("src"))
        counts = con.execute(f"SELECT ({matched}), * FROM ({scanned})").fetchone()
    statistics = {
        "recordsMatched": float(_first(counts)),
        "recordsScanned": float(counts[1]) if counts else 0.0,
        "bytesScanned": float(counts[2]) if counts else 0.0,
    }
    return QueryResult(insights.render_rows(compiled, rows, include_ptr=True), statistics)


def _first(row: Any) -> int:
    return int(row[0]) if row and row[0] is not None else 0


def _with_source(src: str, body: str) -> str:
    """Put ``src`` in front of the compiled SQL as the first CTE (it may have its own WITH)."""
    head = body.lstrip()
    if head[:5].upper() == "WITH ":
        return f"WITH src AS ({src}), {head[5:]}"
    return f"WITH src AS ({src}) {head}"

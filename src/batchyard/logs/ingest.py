"""Ingestion: JSON shredding of a batch of log events, done in bulk inside DuckDB.

A batch arrives as an Arrow table (the journal's, see ``journal.py``) that DuckDB scans in
place, so no event is touched one by one in Python. Then:

1. *Discovery* -- ``json_structure`` of each chunk of 4,096 object messages joined into one
   JSON array gives their merged shape (``discover_batch``); a chunk whose merge meets a
   conflict falls back to ``SELECT DISTINCT json_structure(message)``, one shape per message.
   Each shape is walked in Python (cheap: a batch has a handful of shapes) into leaf fields, named the way Logs Insights names discovered
   fields: nested keys joined with dots (``details.output``), array elements by index
   (``tags.0``), and a top-level key starting with ``@`` gets one more ``@`` so that it never
   hides a system field (``@x`` -> ``@@x``). Array lengths are asked of DuckDB
   (``max(json_array_length(...))``), round by round for arrays inside arrays.
2. *Extraction* -- every leaf is read with one ``json_extract_string(message, [pointers])`` per
   event (the message is parsed once), and the list is spread into the physical columns.

Values are kept as text the way a JSON reader prints them: strings unquoted, numbers as DuckDB
prints the parsed number (``1.50`` -> ``1.5``), booleans ``true``/``false``, JSON ``null`` as
SQL NULL. Where a path is an object in some events and a scalar in others, the scalar reading
is guarded by ``json_type`` so that an object never leaks into a scalar field as JSON text.

Limits: as Logs Insights, at most ``MAX_FIELDS_PER_EVENT`` (1000) fields are discovered from one
JSON shape, in document order; the rest of a very wide event stays readable in ``@message``.
Field names are case-sensitive; physical columns are ``f_<n>`` so DuckDB's case-insensitive
identifiers never matter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

MAX_FIELDS_PER_EVENT = 1000


class Connection(Protocol):
    """The slice of a DuckDB connection this module needs."""

    def execute(self, query: str, parameters: object = ..., /) -> Any: ...


@dataclass(frozen=True)
class Leaf:
    """One discovered field of a batch: its Insights name and its JSON pointer."""

    name: str
    pointer: str


def escape_pointer_part(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def field_name(parts: list[str]) -> str:
    name = ".".join(parts)
    # Insights shows a JSON key starting with '@' with one more '@' (@x -> @@x).
    return "@" + name if parts and parts[0].startswith("@") else name


def walk_shape(
    shape: Any, lengths: dict[str, int], missing: set[str], limit: int = MAX_FIELDS_PER_EVENT
) -> list[Leaf]:
    """Leaves of one ``json_structure`` shape in document order, at most ``limit``.

    Arrays whose length is not yet in ``lengths`` are recorded in ``missing`` (by pointer) and
    skipped; the caller asks DuckDB for their lengths and walks again.
    """
    out: list[Leaf] = []

    def visit(node: Any, pointer: str, parts: list[str]) -> None:
        if len(out) >= limit:
            return
        if isinstance(node, dict):
            for key, child in node.items():
                visit(child, f"{pointer}/{escape_pointer_part(key)}", [*parts, key])
        elif isinstance(node, list):
            if pointer not in lengths:
                missing.add(pointer)
                return
            element = node[0] if node else "NULL"
            for index in range(lengths[pointer]):
                visit(element, f"{pointer}/{index}", [*parts, str(index)])
        elif parts:
            out.append(Leaf(field_name(parts), pointer))

    visit(shape, "", [])
    return out


def discover(con: Connection, batch: str, where: str = "TRUE") -> list[Leaf]:
    """Discover the leaf fields of the JSON-object messages in ``batch`` (distinct, ordered)."""
    leaves = _walk_all(con, batch, where, _shapes(con, batch, where))
    return list(dict.fromkeys(leaf for shape_leaves in leaves for leaf in shape_leaves))


CHUNK_ROWS = 4096
_CONFLICT = "JSON"  # json_structure's type where merged values disagree


def discover_batch(con: Connection, batch: str) -> tuple[list[Leaf], bool]:
    """``discover`` over a whole batch (with a ``seq`` column), at about half the cost; and
    whether every message of the batch is a JSON object (then extraction may skip its guard,
    which parses every message once more; a JSON array must not answer ``/1``).

    ``json_structure`` of one JSON array holding ``CHUNK_ROWS`` object messages gives their
    merged structure at half the cost of one structure per message. Merged and per-message
    discovery find the same leaves (array lengths are the batch's maximum either way) unless
    the merge hits a conflict -- a path that is an object in one event and text in another,
    or numbers in one and strings in another: ``json_structure`` then says ``"JSON"`` -- or
    the 1000-field limit, which counts per shape. Those chunks are discovered message by
    message, as ``discover`` does. Only messages that are valid JSON on their own are joined,
    so no two can merge into one document.
    """
    rows = con.execute(
        "SELECT k, all_objects, objects, try(json_structure(joined)) FROM ("
        " SELECT k, bool_and(obj) AS all_objects, count(*) FILTER (WHERE obj) AS objects,"
        " '[' || string_agg(message, ',') FILTER (WHERE obj) || ']' AS joined"
        f" FROM (SELECT seq // {CHUNK_ROWS} AS k, message, ok,"
        " ok AND ltrim(message, ' \t\n\r') LIKE '{%' AS obj"
        f" FROM (SELECT seq, message, json_valid(message) AS ok FROM {batch}))"
        " GROUP BY k) ORDER BY k"
    ).fetchall()
    all_objects = all(ok for _, ok, _, _ in rows)
    merged: dict[int, Any] = {}
    per_message: list[int] = []
    for chunk, _, objects, text in rows:
        if not objects:
            continue
        element = json.loads(text)[0] if text else None
        if isinstance(element, dict) and not _has_conflict(element):
            merged[chunk] = element
        else:
            per_message.append(chunk)
    while True:
        shapes = list(merged.values())
        if per_message:
            where = f"seq // {CHUNK_ROWS} IN ({', '.join(map(str, per_message))})"
            shapes += _shapes(con, batch, where)
        leaves_by_shape = _walk_all(con, batch, "TRUE", shapes)
        full = [k for k, leaves in zip(merged, leaves_by_shape, strict=False)
                if len(leaves) >= MAX_FIELDS_PER_EVENT]  # fmt: skip
        if not full:
            break
        for chunk in full:
            del merged[chunk]
            per_message.append(chunk)
    unique = list(dict.fromkeys(leaf for leaves in leaves_by_shape for leaf in leaves))
    return unique, all_objects


def _has_conflict(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_has_conflict(child) for child in node.values())
    if isinstance(node, list):
        return bool(node) and _has_conflict(node[0])
    return bool(node == _CONFLICT)


def _shapes(con: Connection, batch: str, where: str) -> list[Any]:
    """The distinct ``json_structure`` of the object messages of ``batch`` matching ``where``."""
    rows = con.execute(
        f"SELECT DISTINCT try(json_structure(message)) FROM {batch} WHERE {where}"
    ).fetchall()
    # Only JSON objects are discovered; other messages (text, arrays, scalars) have no fields.
    return [shape for (text,) in rows if text and isinstance(shape := json.loads(text), dict)]


def _walk_all(con: Connection, batch: str, where: str, shapes: list[Any]) -> list[list[Leaf]]:
    """The leaves of each shape; array lengths are asked of DuckDB, round by round."""
    lengths: dict[str, int] = {}
    while True:
        missing: set[str] = set()
        leaves = [walk_shape(shape, lengths, missing) for shape in shapes]
        if not missing:
            break
        pointers = sorted(missing)
        selects = ", ".join(
            f"coalesce(max(try(json_array_length(message, {sql_string(p)}))), 0)" for p in pointers
        )
        (found,) = con.execute(f"SELECT [{selects}] FROM {batch} WHERE {where}").fetchone()
        lengths.update(zip(pointers, (int(n) for n in found), strict=True))
    return leaves


def conflicting(leaves: Iterable[Leaf]) -> set[str]:
    """Pointers that are a scalar somewhere and a container elsewhere (type changes)."""
    pointers = sorted({leaf.pointer for leaf in leaves})
    prefixes = set()
    for pointer in pointers:
        cut = pointer.rfind("/")
        while cut > 0:
            prefixes.add(pointer[:cut])
            cut = pointer.rfind("/", 0, cut)
    return {p for p in pointers if p in prefixes}


def extraction_columns(leaves: list[Leaf], columns: dict[str, str]) -> Iterator[tuple[str, str]]:
    """``(physical column, SQL expression)`` pairs reading each leaf from ``_l`` / ``message``.

    Expects a sub-select that provides ``_l = json_extract_string(message, [pointers])`` in the
    order of ``leaves``. Two pointers that flatten to the same name (``{"a.b":1,"a":{"b":2}}``)
    share one column, the later one winning where both exist.
    """
    clash = conflicting(leaves)
    by_column: dict[str, list[str]] = {}
    for index, leaf in enumerate(leaves, start=1):
        expression = f"_l[{index}]"
        if leaf.pointer in clash:
            expression = (
                f"CASE WHEN try(json_type(message, {sql_string(leaf.pointer)})) "
                f"NOT IN ('OBJECT', 'ARRAY') THEN {expression} END"
            )
        by_column.setdefault(columns[leaf.name], []).append(expression)
    for column, expressions in by_column.items():
        if len(expressions) == 1:
            yield column, expressions[0]
        else:
            yield column, f"coalesce({', '.join(reversed(expressions))})"


def pointer_list(leaves: list[Leaf]) -> str:
    return "[" + ", ".join(sql_string(leaf.pointer) for leaf in leaves) + "]::VARCHAR[]"

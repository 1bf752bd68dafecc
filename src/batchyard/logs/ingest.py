"""Ingestion: JSON shredding of a batch of log events, done in bulk inside DuckDB.

A batch arrives as an Arrow table (the journal's, see ``journal.py``) that DuckDB scans in
place, so no event is touched one by one in Python. Then:

1. *Discovery* -- ``SELECT DISTINCT json_structure(message)`` over the batch gives the few distinct shapes of the batch. Each shape is walked in Python (cheap: a batch
   has a handful of shapes) into leaf fields, named the way Logs Insights names discovered
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
    return _discover(con, batch, where)[2]


def discover_batch(con: Connection, batch: str) -> tuple[list[Leaf], bool]:
    """``discover`` over the whole batch, and whether every message of it is valid JSON.

    When all are, extraction may skip its ``json_valid`` guard (a second parse per event):
    ``try(json_structure(...))`` is NULL exactly where ``json_valid`` is false, one parser.
    """
    _, _, leaves, all_json = _discover_rows(con, batch, "TRUE")
    return leaves, all_json


def _discover(
    con: Connection, batch: str, where: str
) -> tuple[list[Any], dict[str, int], list[Leaf]]:
    shapes, lengths, leaves, _ = _discover_rows(con, batch, where)
    return shapes, lengths, leaves


def _discover_rows(
    con: Connection, batch: str, where: str
) -> tuple[list[Any], dict[str, int], list[Leaf], bool]:
    rows = con.execute(
        f"SELECT DISTINCT try(json_structure(message)) FROM {batch} WHERE {where}"
    ).fetchall()
    all_json = all(text is not None for (text,) in rows)
    # Only JSON objects are discovered; other messages (text, arrays, scalars) have no fields.
    shapes = [shape for (text,) in rows if text and isinstance(shape := json.loads(text), dict)]
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
    unique = list(dict.fromkeys(leaf for shape_leaves in leaves for leaf in shape_leaves))
    return shapes, lengths, unique, all_json


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

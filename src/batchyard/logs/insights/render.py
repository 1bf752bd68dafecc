"""Result rows → ``GetQueryResults`` presentation: every value a string, missing values omitted.

Timestamps print as ``YYYY-MM-DD HH:MM:SS.mmm`` in UTC.  Numbers print as integers when they
are whole (``count(*)`` → ``"5"``, ``sum`` of whole numbers → ``"15"``) and otherwise in the
shortest form that reads back to the same double (``avg`` → ``"2.5"``,
``"3.3333333333333335"``) — a decision: AWS does not document its number format.  Booleans
print as ``true``/``false``.  Fields appear in display order; a field with no value in a row is
left out of that row, as GetQueryResults does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .values import Kind

if TYPE_CHECKING:
    from .compiled import CompiledQuery

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def format_timestamp(value: Any) -> str:
    ms = int(value)
    moment = _EPOCH + dt.timedelta(milliseconds=ms)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


def format_number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return repr(number)


def format_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


_FORMATS: dict[Kind, Callable[[Any], str]] = {
    Kind.TS: format_timestamp,
    Kind.NUM: format_number,
    Kind.STR: format_text,
    Kind.BOOL: format_text,
    Kind.JSON: format_text,
    Kind.NULL: format_text,
}


def render_rows(
    compiled: CompiledQuery, rows: Sequence[Sequence[Any]], *, include_ptr: bool = False
) -> list[dict[str, str]]:
    """Present SQL result rows (from :meth:`CompiledQuery.sql`) as GetQueryResults does.

    ``include_ptr`` appends ``@ptr`` to event rows, as the AWS API does on every row of a
    non-aggregating query.
    """
    formats = [(c.name, _FORMATS[c.kind]) for c in compiled.columns]
    ptr = include_ptr and compiled.has_ptr
    width = len(formats)
    out: list[dict[str, str]] = []
    for row in rows:
        shown: dict[str, str] = {}
        for (name, fmt), value in zip(formats, row[:width], strict=True):
            if value is not None:
                shown[name] = fmt(value)
        if ptr and row[width] is not None:
            shown["@ptr"] = str(row[width])
        out.append(shown)
    return out

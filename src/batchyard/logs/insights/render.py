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
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .values import Kind

if TYPE_CHECKING:
    from .compiled import CompiledQuery

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_GMTIME = 253_402_300_800  # 10000-01-01: beyond it strftime's %Y is no longer 4 digits


def format_timestamp(value: Any) -> str:
    ms = int(value)
    seconds, millis = divmod(ms, 1000)
    if 0 <= seconds < _MAX_GMTIME:  # the fast path (time.gmtime is ~5x quicker than datetime)
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(seconds))}.{millis:03d}"
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
    ptr = include_ptr and compiled.has_ptr
    width = len(compiled.columns)
    out: list[dict[str, str]] = [{} for _ in rows]
    # Column by column: one formatter per column, and each distinct value formatted once.
    for index, column in enumerate(compiled.columns):
        fmt = _FORMATS[column.kind]
        cache: dict[Any, str] = {}
        name = column.name
        for shown, row in zip(out, rows, strict=True):
            value = row[index]
            if value is None:
                continue
            try:
                text = cache.get(value)
            except TypeError:  # unhashable (defensive: output columns are scalars)
                text = fmt(value)
            if text is None:
                text = cache[value] = fmt(value)
            shown[name] = text
    if ptr:
        for shown, row in zip(out, rows, strict=True):
            if row[width] is not None:
                shown["@ptr"] = str(row[width])
    return out

"""Logs Insights' natural sort order, as DuckDB expressions evaluated natively.

The Sort page defines the ascending order: values that are numbers come after all other
values and compare numerically; other values are split into runs of digits and of non-digits,
non-digit characters compare by code point, and digit runs by length and then by value.

Runs compare run by run, so a non-digit run that is a prefix of another sorts first
(``"Jul 10"`` before ``"Jul  1"``: the run ``"Jul "`` before ``"Jul  "``).

Encoding: every digit run becomes ``'0' || lpad(length, 6) || digits`` and every other run is
followed by ``chr(1)``, which sorts below any character a run may continue with — that ends
the run's comparison where it ends.  The marker ``'0'`` decides a digit run against a
non-digit run by its first character (digits sit between ``/`` and ``:`` in code point order,
and no non-digit lies in that range), the fixed-width length orders digit runs by length, and
equal-length digit strings compare lexicographically exactly as their values do.  DuckDB
compares VARCHAR bytewise, which for UTF-8 is code point order.

Decision: "number" means JSON-number-shaped text (``-12``, ``3.5``, ``1e3``), not only digits,
because discovered JSON fields store numbers as text and ``sort latency`` must order them
numerically.  Missing values sort last in both directions.
"""

from __future__ import annotations

from .values import NUMERIC, Kind, Sql, as_str

NUMBER_RE = r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"


def is_number(text: Sql) -> str:
    return f"regexp_full_match({text}, '{NUMBER_RE}')"


def run_key(text: Sql) -> str:
    """The run-encoded key of a non-number value (cheap when the value has no digit: then it is
    one run and its key is the value itself plus the terminator)."""
    encoded = (
        "array_to_string(list_transform(regexp_extract_all("
        f"{text}, '[0-9]+|[^0-9]+'), lambda p: CASE WHEN p[1] BETWEEN '0' AND '9' "
        "THEN '0' || lpad(CAST(length(p) AS VARCHAR), 6, '0') || p ELSE p || chr(1) END), '')"
    )
    return f"(CASE WHEN regexp_matches({text}, '[0-9]') THEN {encoded} ELSE {text} || chr(1) END)"


def order_terms(value: Sql, descending: bool) -> list[str]:
    """ORDER BY terms that sort ``value`` in natural order."""
    direction = "DESC" if descending else "ASC"
    if value.kind in NUMERIC or value.kind is Kind.BOOL:
        return [f"{value} {direction} NULLS LAST"]
    if value.kind is Kind.NULL:
        return []
    text = as_str(value)
    return [
        f"{is_number(text)} {direction} NULLS LAST",
        f"(CASE WHEN {is_number(text)} THEN TRY_CAST({text} AS DOUBLE) END) {direction} NULLS LAST",
        f"(CASE WHEN NOT {is_number(text)} THEN {run_key(text)} END) {direction} NULLS LAST",
        f"{text} {direction} NULLS LAST",  # equal numbers: "01" before "1"
    ]


def first_last(value: Sql, last: bool) -> Sql:
    """Aggregate: the value that sorts first (``sortsFirst``) or last (``sortsLast``)."""
    if value.kind in NUMERIC or value.kind is Kind.BOOL:
        return Sql(f"{'max' if last else 'min'}({value})", value.kind)
    text = as_str(value)
    numeric = f"(CASE WHEN {is_number(text)} THEN TRY_CAST({text} AS DOUBLE) END)"
    other = f"(CASE WHEN NOT {is_number(text)} THEN {run_key(text)} END)"
    if last:  # numbers sort after everything else
        return Sql(f"coalesce(arg_max({text}, {numeric}), arg_max({text}, {other}))", Kind.STR)
    return Sql(f"coalesce(arg_min({text}, {other}), arg_min({text}, {numeric}))", Kind.STR)

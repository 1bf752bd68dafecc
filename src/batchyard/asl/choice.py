"""Choice rules of JSONPath mode: ``Variable`` + one comparison operator, or ``And``/``Or``/``Not``.

Every operator is a table entry: the family decides which JSON type the variable must have
(``String*`` strings, ``Numeric*`` numbers, ``Boolean*`` booleans, ``Timestamp*`` RFC 3339
strings), and a value of any other type simply makes the comparison false, as on AWS. ``...Path``
variants read the right-hand side from a path (``$.x``, ``$$.x`` or ``$var``).

A ``Variable`` (or an operand path) that selects nothing fails the execution with ``States.Runtime``
and AWS's cause, ``Invalid path '$.x': The choice state's condition path references an invalid
value.`` (the interpreter adds the ``An error occurred while executing the state ...`` prefix).
``IsPresent`` is the one operator that never fails on a missing path: that is its purpose.
``And`` and ``Or`` stop at the first rule that decides them, so ``IsPresent`` can guard a comparison.
"""

from __future__ import annotations

import calendar
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from batchyard.asl.errors import StatesError
from batchyard.asl.paths import PathNotFound, get_path

__all__ = ["OPERATORS", "evaluate_rule", "is_timestamp", "parse_timestamp"]

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


def parse_timestamp(text: Any) -> tuple[int, int] | None:
    """``(epoch seconds, nanoseconds)`` of an RFC 3339 timestamp, or None when ``text`` is not one.

    AWS wants the full form: a ``T``, seconds, and a ``Z`` or ``±hh:mm`` offset (upper case).
    """
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    offset = 0
    zone = match.group(8)
    if zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * 60 * (1 if zone[0] == "+" else -1)
    seconds = calendar.timegm((year, month, day, hour, minute, second)) - offset
    nanos = int((match.group(7) or "").ljust(9, "0"))
    return seconds, nanos


def is_timestamp(value: Any) -> bool:
    return parse_timestamp(value) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utf16(value: str) -> bytes:
    # Java compares strings by UTF-16 code units; big-endian bytes sort the same way.
    return value.encode("utf-16-be", "surrogatepass")


def _string_matches(value: str, pattern: str) -> bool:
    return _wildcard(pattern).fullmatch(value) is not None


_WILDCARDS: dict[str, re.Pattern[str]] = {}


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` is a literal star, ``\\\\`` a backslash."""
    compiled = _WILDCARDS.get(pattern)
    if compiled is None:
        parts: list[str] = []
        i = 0
        while i < len(pattern):
            char = pattern[i]
            if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
                parts.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            parts.append(".*" if char == "*" else re.escape(char))
            i += 1
        compiled = re.compile("".join(parts), re.DOTALL)
        if len(_WILDCARDS) < 10_000:
            _WILDCARDS[pattern] = compiled
    return compiled


_Compare = Callable[[Any, Any], bool]
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}


def _family(accepts: Callable[[Any], bool], key: Callable[[Any], Any], order: _Compare) -> _Compare:
    def compare(value: Any, expected: Any) -> bool:
        if not (accepts(value) and accepts(expected)):
            return False
        return order(key(value), key(expected))

    return compare


def _build_operators() -> dict[str, _Compare]:
    families: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
        "String": (lambda v: isinstance(v, str), _utf16),
        "Numeric": (_is_number, lambda v: v),
        "Timestamp": (is_timestamp, parse_timestamp),
    }
    table: dict[str, _Compare] = {}
    for family, (accepts, key) in families.items():
        for suffix, order in _ORDER.items():
            table[family + suffix] = _family(accepts, key, order)
    table["BooleanEquals"] = _family(lambda v: isinstance(v, bool), lambda v: v, operator.eq)
    table["StringMatches"] = lambda v, p: (
        isinstance(v, str) and isinstance(p, str) and (_string_matches(v, p))
    )
    return table


# Comparison operators (each but StringMatches also exists as "<name>Path").
OPERATORS: dict[str, _Compare] = _build_operators()

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": is_timestamp,
}

_MISSING: Any = object()


def evaluate_rule(
    rule: Mapping[str, Any],
    data: Any,
    *,
    context: Any,
    variables: Mapping[str, Any] | None,
) -> bool:
    """Whether one Choice rule (its ``Next`` ignored) matches ``data``. Raises :class:`StatesError`."""
    if "And" in rule:
        return all(
            evaluate_rule(r, data, context=context, variables=variables) for r in rule["And"]
        )
    if "Or" in rule:
        return any(evaluate_rule(r, data, context=context, variables=variables) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, context=context, variables=variables)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise StatesError("States.Runtime", "The choice state's rule has no Variable.")
    value = _resolve(variable, data, context, variables)
    for name, expected in rule.items():
        if name in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if name == "IsPresent":
            return (value is not _MISSING) is bool(expected)
        if value is _MISSING:
            raise _invalid_path(variable)
        if name in _TYPE_TESTS:
            return _TYPE_TESTS[name](value) is bool(expected)
        compare = OPERATORS.get(name)
        if compare is not None:
            return compare(value, expected)
        if name.endswith("Path") and name[:-4] in OPERATORS and name != "StringMatchesPath":
            other = (
                _resolve(expected, data, context, variables)
                if isinstance(expected, str)
                else _MISSING
            )
            if other is _MISSING:
                raise _invalid_path(str(expected))
            return OPERATORS[name[:-4]](value, other)
        raise StatesError("States.Runtime", f"Unsupported choice operator: {name}")
    raise StatesError("States.Runtime", "The choice state's rule has no comparison operator.")


def _resolve(path: str, data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
    try:
        return get_path(path, data, context=context, variables=variables)
    except PathNotFound:
        return _MISSING


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        "States.Runtime",
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )

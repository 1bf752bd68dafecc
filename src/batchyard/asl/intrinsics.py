"""The 18 intrinsic functions of JSONPath mode (``States.Format``, ``States.ArrayRange``, ...).

Each function is one registry entry: its arity and a Python function over already-evaluated
arguments. A function rejects bad arguments by raising :class:`_Invalid`; the evaluator turns every
failure into one :class:`StatesError` named ``States.Runtime`` whose cause has AWS's shape::

    The function 'States.Format('{}', $.nope)' had the following error: The JsonPath argument for
    the field '$.nope' could not be found in the input '{"other":1}'

The quoted expression is the whole top-level text as written, even when a nested call failed.
(The interpreter adds the ``An error occurred while executing the state ...`` prefix.)

Numeric arguments follow AWS, which runs on Java: ``ArrayRange``, ``ArrayPartition``,
``ArrayGetItem`` and ``MathRandom`` truncate fractions toward zero, ``MathAdd`` rounds them with
Java's ``Math.round`` (half up), and numbers are printed as Java prints doubles (``1.0``, ``1.0E10``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from batchyard.asl.errors import StatesError
from batchyard.asl.intrinsics_parser import (
    Call,
    IntrinsicSyntaxError,
    Literal,
    PathArg,
    parse_intrinsic,
)
from batchyard.asl.paths import PathNotFound, get_path, json_compact

__all__ = ["evaluate_intrinsic", "is_intrinsic", "java_json", "java_number"]

_MAX_INPUT_CHARS = 10_000  # Base64Encode/Base64Decode/Hash input limit
_MAX_RANGE_ITEMS = 1_000
_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class _Invalid(Exception):
    """Raised by a function body; becomes ``Invalid arguments in <function>``."""


def is_intrinsic(text: str) -> bool:
    """True when a ``.$`` value is an intrinsic function call rather than a path."""
    return isinstance(text, str) and text.lstrip().startswith("States.")


def evaluate_intrinsic(
    text: str, data: Any, *, context: Any, variables: Mapping[str, Any] | None
) -> Any:
    """Evaluate ``text``; raises :class:`StatesError` (``States.Runtime``) with AWS's cause."""
    try:
        call = parse_intrinsic(text)
    except IntrinsicSyntaxError as exc:
        raise _failure(text, exc.message) from None
    return _Evaluator(text, data, context, variables).call(call)


def _failure(text: str, detail: str) -> StatesError:
    return StatesError("States.Runtime", f"The function '{text}' had the following error: {detail}")


class _Evaluator:
    def __init__(
        self, text: str, data: Any, context: Any, variables: Mapping[str, Any] | None
    ) -> None:
        self.text, self.data, self.context, self.variables = text, data, context, variables

    def call(self, call: Call) -> Any:
        entry = _FUNCTIONS.get(call.name)
        if entry is None:
            raise _failure(self.text, f"Unsupported intrinsic function: {call.name}")
        low, high, body = entry
        if not low <= len(call.args) <= (high if high >= 0 else len(call.args)):
            raise _failure(self.text, f"Invalid arguments in {call.name}")
        if call.name == "States.Format":
            args = [self._format_template(call.args[0])] + [self.arg(a) for a in call.args[1:]]
        else:
            args = [self.arg(a) for a in call.args]
        try:
            return body(*args)
        except _Invalid:
            raise _failure(self.text, f"Invalid arguments in {call.name}") from None

    def arg(self, arg: Literal | PathArg | Call) -> Any:
        if isinstance(arg, Literal):
            return arg.value
        if isinstance(arg, Call):
            return self.call(arg)
        try:
            return get_path(arg.path, self.data, context=self.context, variables=self.variables)
        except PathNotFound:
            # A ``$$.`` argument is reported rewritten against the context, beside the state input.
            shown = "$" + arg.path[2:] if arg.path.startswith("$$") else arg.path
            raise _failure(
                self.text,
                f"The JsonPath argument for the field '{shown}' could not be found in the input "
                f"'{json_compact(self.data)}'",
            ) from None

    def _format_template(self, arg: Literal | PathArg | Call) -> _Template:
        if isinstance(arg, Literal):
            if not isinstance(arg.value, str):
                return _Template(None)
            return _Template(arg.raw if arg.raw is not None else arg.value)
        value = self.arg(arg)
        return _Template(value if isinstance(value, str) else None)


# ------------------------------------------------------------------------------- formatting


def java_number(value: int | float) -> str:
    """A number as Java prints it (``Double.toString`` for doubles): ``1.0``, ``1.5E-5``, ``1.0E10``."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    power = len(mantissa) - 1 + exponent
    fraction = mantissa[1:].rstrip("0") or "0"
    return f"{'-' if sign else ''}{mantissa[0]}.{fraction}E{power}"


def java_json(value: Any) -> str:
    """Compact JSON as AWS writes it (``States.JsonToString``): key order kept, Java doubles."""
    if isinstance(value, float):
        return java_number(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(k, ensure_ascii=False)}:{java_json(v)}" for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(java_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class _Template:
    """A ``States.Format`` template: literal text with ``\\{`` ``\\}`` ``\\'`` ``\\\\`` escapes."""

    def __init__(self, raw: str | None) -> None:
        self.raw = raw

    def render(self, args: tuple[Any, ...]) -> str:
        if self.raw is None:
            raise _Invalid
        out: list[str] = []
        raw, i, used = self.raw, 0, 0
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw):
                out.append(raw[i + 1])
                i += 2
            elif raw.startswith("{}", i):
                if used >= len(args):
                    raise _Invalid
                out.append(_format_value(args[used]))
                used += 1
                i += 2
            elif char in "{}":
                raise _Invalid  # a lone brace must be escaped
            else:
                out.append(char)
                i += 1
        if used != len(args):
            raise _Invalid
        return "".join(out)


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return java_number(value)
    return _java_string(value)


def _java_string(value: Any) -> str:
    """``String.valueOf`` of the Java object AWS holds: ``{Arg1=1, Arg2=[a, null]}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_string(v) for v in value) + "]"
    return _format_value(value)


# ---------------------------------------------------------------------------- argument checks


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid
    return value


def _truncated(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float) and not math.isfinite(number):
        raise _Invalid
    return int(number)


def _java_round(value: Any) -> int:
    number = _number(value)
    if isinstance(number, int):
        return number
    if not math.isfinite(number):
        raise _Invalid
    return math.floor(number + 0.5)  # Java's Math.round: half up, also for negatives


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid
    return value


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid
    return value


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, objects compare by content, ``1`` equals ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------- functions


def _format(template: _Template, *args: Any) -> str:
    return template.render(args)


def _string_to_json(text: Any) -> Any:
    source = _string(text)
    if not source.strip():
        return None  # AWS answers null for "" and " "
    try:
        return json.loads(source)
    except ValueError:
        raise _Invalid from None


def _array_partition(array: Any, size: Any) -> list[list[Any]]:
    items, chunk = _array(array), _truncated(size)
    if chunk <= 0:
        raise _Invalid
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    first, last, stride = _truncated(start), _truncated(end), _truncated(step)
    if stride == 0:
        raise _Invalid
    count = (last - first) // stride + 1
    if count > _MAX_RANGE_ITEMS:
        raise _Invalid
    return list(range(first, last + (1 if stride > 0 else -1), stride)) if count > 0 else []


def _array_get_item(array: Any, index: Any) -> Any:
    items, position = _array(array), _truncated(index)
    if not 0 <= position < len(items):
        raise _Invalid
    return items[position]


def _array_unique(array: Any) -> list[Any]:
    unique: list[Any] = []
    for item in _array(array):
        if not any(_same(item, seen) for seen in unique):
            unique.append(item)
    return unique


def _limited(value: Any) -> str:
    text = _string(value)
    if len(text) > _MAX_INPUT_CHARS:
        raise _Invalid
    return text


def _base64_encode(value: Any) -> str:
    return base64.b64encode(_limited(value).encode("utf-8")).decode("ascii")


def _base64_decode(value: Any) -> str:
    text = _limited(value)
    if len(text) % 4 == 1:
        raise _Invalid
    try:  # Java's decoder accepts missing padding; Python's wants it
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid from None
    return raw.decode("utf-8", errors="replace")


def _hash(value: Any, algorithm: Any) -> str:
    name = _HASHES.get(algorithm) if isinstance(algorithm, str) else None
    text = _limited(value)
    if name is None:
        raise _Invalid
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def _json_merge(first: Any, second: Any, deep: Any) -> dict[str, Any]:
    if not isinstance(deep, bool) or deep:
        raise _Invalid  # AWS supports only the shallow mode: deep must be false
    return {**_object(first), **_object(second)}


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    low, high = _truncated(start), _truncated(end)
    if low >= high:
        raise _Invalid
    if seed is None:
        return random.randrange(low, high)
    return _JavaRandom(_truncated(seed)).next_int(high - low) + low


def _math_add(a: Any, b: Any) -> int:
    # Java ints: operands and sum must fit in 32 bits.
    total = _int32(_java_round(a)) + _int32(_java_round(b))
    return _int32(total)


def _int32(value: int) -> int:
    if not -(2**31) <= value < 2**31:
        raise _Invalid
    return value


def _string_split(value: Any, delimiters: Any) -> list[str]:
    text, separators = _string(value), _string(delimiters)
    # Like Java's StringTokenizer: every delimiter character splits, empty tokens are dropped.
    tokens: list[str] = []
    current: list[str] = []
    for char in text:
        if char in separators:
            if current:
                tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


class _JavaRandom:
    """``java.util.Random`` (48-bit LCG), so a seeded ``MathRandom`` is reproducible like Java's."""

    _MULTIPLIER, _MASK = 0x5DEECE66D, (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self.seed = (self.seed * self._MULTIPLIER + 0xB) & self._MASK
        result = self.seed >> (48 - bits)
        return result - (1 << bits) if result >= 1 << (bits - 1) else result

    def next_int(self, bound: int) -> int:
        if bound & -bound == bound:
            return (bound * self._next(31)) >> 31
        while True:
            bits = self._next(31)
            value = bits % bound
            if bits - value + (bound - 1) < 1 << 31:
                return value


# name -> (minimum arguments, maximum arguments or -1 for any, body)
_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "States.Format": (1, -1, _format),
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (1, 1, java_json),
    "States.Array": (0, -1, lambda *args: list(args)),
    "States.ArrayPartition": (2, 2, _array_partition),
    "States.ArrayContains": (
        2,
        2,
        lambda array, value: any(_same(x, value) for x in _array(array)),
    ),
    "States.ArrayRange": (3, 3, _array_range),
    "States.ArrayGetItem": (2, 2, _array_get_item),
    "States.ArrayLength": (1, 1, lambda array: len(_array(array))),
    "States.ArrayUnique": (1, 1, _array_unique),
    "States.Base64Encode": (1, 1, _base64_encode),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.MathRandom": (2, 3, _math_random),
    "States.MathAdd": (2, 2, _math_add),
    "States.StringSplit": (2, 2, _string_split),
    "States.UUID": (0, 0, lambda: str(uuid.uuid4())),
}

FUNCTION_NAMES = frozenset(_FUNCTIONS)

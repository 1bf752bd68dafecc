"""JSONata evaluation for JSONata-mode states, with Step Functions' own additions and limits.

Field values of the form ``"{% expr %}"`` are expressions; objects and arrays are walked; anything
else is literal. Expressions see the variables in ``bindings`` (``states`` = ``{input, result?,
errorOutput?, context}``, plus workflow variables), and no context item of their own.

Step Functions changes the JSONata library it ships (2.0.6) in three ways, all reproduced here:

* six functions are added: ``$partition``, ``$range``, ``$hash``, ``$random([seed])``, ``$uuid()``
  and ``$parse`` (``$random`` replaces JSONata's own, to accept a seed);
* ``$eval`` is removed, so calling it fails with ``T1006`` like any non-function;
* an expression that returns nothing (undefined) is an error, not an absent value; an explicit
  ``null`` is a value.

Every failure is :class:`JsonataError`, a :class:`StatesError` named
``States.QueryEvaluationError`` whose cause has AWS's wording when the field is known::

    The JSONata expression '$states.input.absent' specified for the field 'Output/v' returned
    nothing (undefined).
    The JSONata expression '$range('0',4,1)' specified for the field 'Output' threw an error
    during evaluation. T0410: Argument 1 of function "range" does not match function signature
    The JSONata expression '$f := function($x){$x}' specified for the field 'Items' returned an
    unsupported result type.

Field names are relative to the state: ``/`` before each object key, ``[i]`` for array items.
Compiled expressions are cached by text. The python engine marks JSON ``null`` with a sentinel of
its own, so bindings are translated on the way in and results on the way out.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.utils import Utils

from batchyard.asl.errors import StatesError

__all__ = ["JsonataError", "evaluate_expression", "evaluate_template", "is_expression"]

_NULL = Utils.NULL_VALUE
_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
_RANGE_LIMIT = 360_145  # the largest $range AWS builds before its memory limit refuses


class JsonataError(StatesError):
    """``States.QueryEvaluationError``: ``expression`` failed (or returned nothing) in ``field``."""

    def __init__(
        self,
        expression: str,
        field: str | None,
        detail: str,
        *,
        undefined: bool,
        unsupported: bool = False,
    ) -> None:
        if unsupported:
            detail = "returned an unsupported result type."
        if field is None:
            cause = detail
        elif unsupported:
            cause = (
                f"The JSONata expression '{expression}' specified for the field '{field}' {detail}"
            )
        elif undefined:
            cause = f"The JSONata expression '{expression}' specified for the field '{field}' returned nothing (undefined)."
        else:
            cause = (
                f"The JSONata expression '{expression}' specified for the field '{field}' threw an "
                f"error during evaluation. {detail}"
            )
        super().__init__("States.QueryEvaluationError", cause)
        self.expression = expression
        self.field = field
        self.detail = detail
        self.undefined = undefined


class _FunctionError(Exception):
    """A Step Functions extra function refused its arguments; the text is the cause's detail."""


def is_expression(value: Any) -> bool:
    """True for a JSONata field value: a string ``{% ... %}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def evaluate_template(value: Any, bindings: Mapping[str, Any], *, field: str | None = None) -> Any:
    """Evaluate every ``{% %}`` string in ``value`` (objects and arrays walked); the rest is literal.

    ``field`` names the field ``value`` came from (``Output``, ``Arguments``, ``Assign/x``...); it
    is extended with ``/key`` and ``[i]`` as the walk goes down, for the error cause.
    """
    if not _has_expression(value):
        return value
    return _walk(value, _engine_bindings(bindings), field)


def evaluate_expression(expr: str, bindings: Mapping[str, Any], *, field: str | None = None) -> Any:
    """Evaluate one expression (the text inside ``{% %}``). Raises :class:`JsonataError`."""
    return _evaluate(expr.strip(), _engine_bindings(bindings), field)


def _has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return is_expression(value)
    if isinstance(value, dict):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return False


def _walk(value: Any, bindings: dict[str, Any], field: str | None) -> Any:
    if isinstance(value, str):
        return _evaluate(value[2:-2].strip(), bindings, field) if is_expression(value) else value
    if isinstance(value, dict):
        return {
            key: _walk(item, bindings, None if field is None else f"{field}/{key}")
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _walk(item, bindings, None if field is None else f"{field}[{index}]")
            for index, item in enumerate(value)
        ]
    return value


# ------------------------------------------------------------------------------ evaluation

_COMPILED: dict[str, Jsonata | JsonataError] = {}
_ENGINE_LOCK = threading.Lock()


def _compile(expr: str, field: str | None) -> Jsonata:
    compiled = _COMPILED.get(expr)
    if isinstance(compiled, Jsonata):
        return compiled
    if compiled is not None:
        raise JsonataError(expr, field, compiled.detail, undefined=False)
    try:
        engine = Jsonata(expr)
    except JException as exc:
        error = JsonataError(expr, field, f"{exc.error}: {exc}", undefined=False)
        if len(_COMPILED) < 20_000:
            _COMPILED[expr] = error
        raise error from None
    except Exception as exc:  # the parser can fail with plain Python errors on odd input
        raise JsonataError(expr, field, str(exc), undefined=False) from None
    engine.output_convert_nulls = False
    if len(_COMPILED) < 20_000:
        _COMPILED[expr] = engine
    return engine


def _evaluate(expr: str, bindings: dict[str, Any], field: str | None) -> Any:
    engine = _compile(expr, field)
    try:
        with _ENGINE_LOCK:  # the engine keeps per-call state on itself; one evaluation at a time
            result = engine.evaluate(None, bindings)
    except JException as exc:
        raise JsonataError(expr, field, f"{exc.error}: {exc}", undefined=False) from None
    except _FunctionError as exc:
        raise JsonataError(expr, field, str(exc), undefined=False) from None
    except RecursionError:
        raise JsonataError(
            expr, field, "Stack overflow error: expression nested too deeply", undefined=False
        ) from None
    except Exception as exc:  # the engine lets Python errors through (1/0, $number("x"), ...)
        raise JsonataError(expr, field, str(exc), undefined=False) from None
    if result is None:
        raise JsonataError(
            expr, field, "JSONata expression returned nothing (undefined)", undefined=True
        )
    try:
        return _from_engine(result)
    except _Unsupported:
        raise JsonataError(expr, field, "", undefined=False, unsupported=True) from None


def _to_engine(value: Any) -> Any:
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {k: _to_engine(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_engine(v) for v in value]
    return value


class _Unsupported(Exception):
    """The result holds something JSON cannot (a function)."""


def _from_engine(value: Any) -> Any:
    if value is _NULL:
        return None
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, dict):
        return {k: _from_engine(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_engine(v) for v in value if v is not None]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if not isinstance(value, int | float):
        raise _Unsupported
    return value


def _engine_bindings(bindings: Mapping[str, Any]) -> dict[str, Any]:
    engine = {name: _to_engine(value) for name, value in bindings.items()}
    engine.update(_FUNCTIONS)
    return engine


# --------------------------------------------------------------- Step Functions' functions


def _signature_error(function: str, index: int) -> _FunctionError:
    return _FunctionError(
        f'T0410: Argument {index} of function "{function}" does not match function signature'
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any, function: str, index: int) -> int:
    if not _number(value) or not math.isfinite(value):
        raise _signature_error(function, index)
    return int(value)  # AWS truncates toward zero


def _partition(array: Any = None, size: Any = None, *extra: Any) -> Any:
    if extra:
        raise _signature_error("partition", 3)
    if array is None or size is None:
        return None
    if not isinstance(array, list):
        raise _signature_error("partition", 1)
    chunk = _integer(size, "partition", 2)
    if chunk <= 0 or not array:
        return None
    return [array[i : i + chunk] for i in range(0, len(array), chunk)]


def _range(start: Any = None, end: Any = None, step: Any = None, *extra: Any) -> Any:
    if extra:
        raise _signature_error("range", 4)
    for index, value in enumerate((start, end, step), start=1):
        if value is not None and not _number(value):
            raise _signature_error("range", index)
    if start is None or end is None or step is None:
        return None
    first, last, stride = (_integer(v, "range", i) for i, v in enumerate((start, end, step), 1))
    if stride == 0 or (stride > 0 and first > last) or (stride < 0 and first < last):
        return None
    count = (last - first) // stride + 1
    if count > _RANGE_LIMIT:
        raise _FunctionError("Expression evaluation memory limit exceeded")
    if count == 1:
        return first  # a single value, not a one-element array, as JSONata sequences do
    return list(range(first, last + (1 if stride > 0 else -1), stride))


def _hash(data: Any = None, algorithm: Any = None, *extra: Any) -> Any:
    if extra:
        raise _signature_error("hash", 3)
    if data is None or algorithm is None:
        return None
    if not isinstance(data, str):
        raise _signature_error("hash", 1)
    if not isinstance(algorithm, str):
        raise _signature_error("hash", 2)
    name = _HASHES.get(algorithm)
    if name is None:
        raise _FunctionError(
            f"Unsupported hash algorithm '{algorithm}'. Supported: {', '.join(_HASHES)}"
        )
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def _random(seed: Any = None, *extra: Any) -> float:
    if extra:
        raise _signature_error("random", 2)
    if seed is None:
        return random.random()
    return random.Random(_integer(seed, "random", 1)).random()


def _uuid(*extra: Any) -> str:
    if extra:
        raise _signature_error("uuid", 1)
    return str(uuid.uuid4())


def _parse(text: Any = None, *extra: Any) -> Any:
    if extra:
        raise _signature_error("parse", 2)
    if text is None:
        return None
    if not isinstance(text, str):
        raise _signature_error("parse", 1)
    try:
        return _to_engine(json.loads(text))
    except ValueError as exc:
        raise _FunctionError(f"Unable to parse the JSON string: {exc}") from None


def _count(value: Any = None, *extra: Any) -> int:
    # JSONata counts a JSON null as one value; the Python engine's own $count says 0.
    if extra:
        raise _signature_error("count", 2)
    if value is None:
        return 0
    return len(value) if isinstance(value, list) else 1


_FUNCTIONS: dict[str, Any] = {
    "count": Jsonata.JLambda(_count),
    "partition": Jsonata.JLambda(_partition),
    "range": Jsonata.JLambda(_range),
    "hash": Jsonata.JLambda(_hash),
    "random": Jsonata.JLambda(_random),
    "uuid": Jsonata.JLambda(_uuid),
    "parse": Jsonata.JLambda(_parse),
    "eval": None,  # AWS removes $eval: calling it is calling a non-function (T1006)
}

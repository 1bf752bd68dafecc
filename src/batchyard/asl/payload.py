"""Payload templates of JSONPath mode: ``Parameters``, ``ResultSelector``, ``ItemSelector``, ``Assign``.

A key ending in ``.$`` takes its value from a path (``$.x``), the context object (``$$.x``), a
variable (``$name``) or an intrinsic function (``States.Format(...)``), and is emitted without the
``.$``; every other value is copied as it is, objects and arrays inside it processed the same way.

Templates come from definitions, so each one is compiled once into a tree of small closures (cached
by object identity, the template kept alive by the cache so the identity stays valid). Literal
subtrees with no ``.$`` key anywhere below are returned *shared*, not copied: callers treat JSON
values as immutable.

Failures are :class:`StatesError` named ``States.Runtime``:

* :class:`PayloadPathNotFound` when a path selects nothing. Its cause is AWS's text, e.g.
  ``The JSONPath '$.a' specified for the field 'x.$' could not be found in the input '{"b":1}'``;
  it also carries ``field``, ``path`` and ``input``. (A *last* index past the end of an existing
  array is not a failure: AWS resolves ``"x.$": "$.items[5]"`` to ``null``.)
* the :class:`StatesError` of :func:`~batchyard.asl.intrinsics.evaluate_intrinsic` for intrinsics.
* :class:`InvalidPayloadValue` when a ``.$`` value is neither a path nor an intrinsic (normally
  rejected earlier, by validation).

The interpreter adds the ``An error occurred while executing the state ...`` prefix to the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchyard.asl.errors import StatesError
from batchyard.asl.intrinsics import evaluate_intrinsic, is_intrinsic
from batchyard.asl.paths import PathNotFound, get_path, json_compact

__all__ = ["InvalidPayloadValue", "PayloadPathNotFound", "evaluate_payload"]

_Compiled = Callable[[Any, Any, Mapping[str, Any] | None], Any]


class PayloadPathNotFound(StatesError):
    """A ``"field.$": "<path>"`` entry whose path selected nothing (``States.Runtime``)."""

    def __init__(self, field: str, path: str, input: Any) -> None:
        super().__init__(
            "States.Runtime",
            f"The JSONPath '{path}' specified for the field '{field}' could not be found in the "
            f"input '{json_compact(input)}'",
        )
        self.field = field
        self.path = path
        self.input = input


class InvalidPayloadValue(StatesError):
    """A ``.$`` key whose value is not a path or an intrinsic function (``States.Runtime``)."""

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(
            "States.Runtime",
            f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic "
            "function call",
        )
        self.field = field
        self.value = value


_CACHE: dict[int, tuple[Any, _Compiled]] = {}
_CACHE_LIMIT = 100_000


def evaluate_payload(
    template: Any, data: Any, *, context: Any, variables: Mapping[str, Any] | None
) -> Any:
    """The payload ``template`` produces from ``data`` (the state input or result)."""
    entry = _CACHE.get(id(template))
    if entry is None or entry[0] is not template:
        entry = (template, _compile(template))
        if len(_CACHE) < _CACHE_LIMIT:
            _CACHE[id(template)] = entry
    return entry[1](data, context, variables)


def _is_dynamic(template: Any) -> bool:
    if isinstance(template, dict):
        return any(
            (isinstance(k, str) and k.endswith(".$")) or _is_dynamic(v) for k, v in template.items()
        )
    if isinstance(template, list):
        return any(_is_dynamic(v) for v in template)
    return False


def _compile(template: Any) -> _Compiled:
    if not _is_dynamic(template):
        return lambda data, context, variables: template
    if isinstance(template, list):
        items = [_compile(item) for item in template]
        return lambda data, context, variables: [f(data, context, variables) for f in items]
    fields: list[tuple[str, _Compiled]] = []
    for key, value in template.items():
        if key.endswith(".$"):
            fields.append((key[:-2], _compile_reference(key, value)))
        else:
            fields.append((key, _compile(value)))
    return lambda data, context, variables: {k: f(data, context, variables) for k, f in fields}


def _compile_reference(field: str, expression: Any) -> _Compiled:
    if not isinstance(expression, str):
        return _raiser(InvalidPayloadValue(field, expression))
    if is_intrinsic(expression):

        def intrinsic(data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
            return evaluate_intrinsic(expression, data, context=context, variables=variables)

        return intrinsic
    if not expression.startswith("$"):
        return _raiser(InvalidPayloadValue(field, expression))
    searched_context = expression.startswith("$$")

    def reference(data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
        try:
            return get_path(expression, data, context=context, variables=variables)
        except PathNotFound as exc:
            if exc.index_out_of_range:
                return None
            raise PayloadPathNotFound(
                field, expression, context if searched_context else data
            ) from None

    return reference


def _raiser(error: StatesError) -> _Compiled:
    def fail(data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
        raise error

    return fail

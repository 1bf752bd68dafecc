"""JSONPath as Step Functions applies it (JSONPath query language).

AWS evaluates paths with Jayway JsonPath (Java), and this module keeps its semantics:

* A *definite* path (only names and single indexes) selects one value or fails; an *indefinite* one
  (``*``, ``..``, filters ``[?(...)]``, slices, unions) always returns a list, possibly empty, and
  silently skips branches where a name is missing.
* ``[*]`` and ``.*`` mean the same: the values of an object, the elements of an array.
* Failure texts are Jayway's: ``No results for path: $['a']['b']`` for a missing leaf,
  ``Missing property in path $['a']`` for a missing intermediate object, ``Filter: [0] can only be
  applied to arrays. Current context is: 1`` for an index into a non-array.

Paths start from one of three roots: ``$`` (the data), ``$$`` (the context object) or ``$name``
(a workflow variable). A path is parsed once into a tuple of steps (cached by text); definite paths
— nearly every path in real definitions — are then a plain loop of dict/list lookups, which is what
keeps the interpreter fast. Filter expressions (``[?(...)]``) live in :mod:`paths_filter`.

Values returned are the objects inside ``data`` (not copies): callers treat JSON values as immutable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from batchyard.asl.paths_filter import FilterSyntaxError, parse_filter

__all__ = [
    "PathNotFound",
    "ResultPathMatchFailure",
    "get_path",
    "is_reference_path",
    "json_compact",
    "set_result_path",
]


class PathNotFound(Exception):
    """A path selected nothing (a missing key, an index past the end, a step through a scalar).

    ``path`` is the path as written; ``message`` is Jayway's own wording, which AWS quotes in some
    causes (``Invalid path '$.x' : No results for path: $['x']``); ``index_out_of_range`` is true
    when the only problem is the last step, an array index past the end of an existing array.
    """

    def __init__(self, path: str, message: str, *, index_out_of_range: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.index_out_of_range = index_out_of_range


class ResultPathMatchFailure(Exception):
    """``ResultPath`` cannot be applied to the state input (``States.ResultPathMatchFailure``).

    ``cause`` is AWS's text: ``Unable to apply ReferencePath $.a.b to input "foo"``.
    """

    def __init__(self, path: str, data: Any) -> None:
        self.path = path
        self.data = data
        self.cause = f"Unable to apply ReferencePath {path} to input {json_compact(data)}"
        super().__init__(self.cause)


def json_compact(value: Any) -> str:
    """JSON text as AWS prints values in causes and ``States.JsonToString``: compact, order kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ----------------------------------------------------------------------------------- parsing

_VARIABLE_ROOT = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_DOT_NAME = re.compile(r"\.([^.\[\]*?()@'\"\s,:=<>!&|]+)")
_DOT_WILD = re.compile(r"\.\*")
_DEEP = re.compile(r"\.\.")
_DEEP_NAME = re.compile(r"([^.\[\]*?()@'\"\s,:=<>!&|]+)")
_BRACKET_WILD = re.compile(r"\[\s*\*\s*\]")
_QUOTED = r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\""
_BRACKET_NAMES = re.compile(rf"\[\s*(?:{_QUOTED})(?:\s*,\s*(?:{_QUOTED}))*\s*\]")
_ONE_QUOTED = re.compile(_QUOTED)
_BRACKET_INDEXES = re.compile(r"\[\s*(-?\d+)((?:\s*,\s*-?\d+)*)\s*\]")
_BRACKET_SLICE = re.compile(r"\[\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?\]")

_ROOT_DATA = "$"
_ROOT_CONTEXT = "$$"


@dataclass(frozen=True, slots=True)
class _Step:
    kind: str  # "name" | "index" | "wild" | "names" | "indexes" | "slice" | "filter"
    arg: Any = None
    deep: bool = False


@dataclass(frozen=True, slots=True)
class _Compiled:
    root: str  # "$", "$$" or a variable name
    # Definite paths: plain keys (str) and indexes (int). None when the path is indefinite.
    simple: tuple[str | int, ...] | None
    steps: tuple[_Step, ...]


_CACHE: dict[str, _Compiled | PathNotFound] = {}


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _parse_steps(path: str, rest: str) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    pos = 0
    while pos < len(rest):
        deep = False
        match = _DEEP.match(rest, pos)
        if match:
            deep, pos = True, match.end()
            name = _DEEP_NAME.match(rest, pos)
            if name:
                steps.append(_Step("name", name.group(1), True))
                pos = name.end()
                continue
            if rest.startswith("*", pos):
                steps.append(_Step("wild", None, True))
                pos += 1
                continue
        step, pos = _parse_one(path, rest, pos, deep)
        steps.append(step)
    return tuple(steps)


def _parse_one(path: str, rest: str, pos: int, deep: bool) -> tuple[_Step, int]:
    if not deep and (match := _DOT_NAME.match(rest, pos)):
        return _Step("name", match.group(1)), match.end()
    if not deep and (match := _DOT_WILD.match(rest, pos)):
        return _Step("wild"), match.end()
    if match := _BRACKET_WILD.match(rest, pos):
        return _Step("wild", None, deep), match.end()
    if match := _BRACKET_NAMES.match(rest, pos):
        names = [
            _unquote(m.group(1) if m.group(1) is not None else m.group(2))
            for m in _ONE_QUOTED.finditer(match.group(0))
        ]
        if len(names) == 1:
            return _Step("name", names[0], deep), match.end()
        return _Step("names", tuple(names), deep), match.end()
    if match := _BRACKET_INDEXES.match(rest, pos):
        indexes = [int(match.group(1))] + [int(i) for i in re.findall(r"-?\d+", match.group(2))]
        if len(indexes) == 1:
            return _Step("index", indexes[0], deep), match.end()
        return _Step("indexes", tuple(indexes), deep), match.end()
    if match := _BRACKET_SLICE.match(rest, pos):
        bounds = tuple(None if g is None else int(g) for g in match.groups())
        if bounds[2] == 0:
            raise PathNotFound(path, f"Invalid path '{path}': slice step cannot be zero")
        return _Step("slice", bounds, deep), match.end()
    if rest.startswith("[?(", pos):
        try:
            predicate, end = parse_filter(rest, pos + 3, _operand_steps)
        except FilterSyntaxError:
            raise PathNotFound(path, f"Invalid path '{path}': bad filter expression") from None
        return _Step("filter", predicate, deep), end
    raise PathNotFound(path, f"Invalid path '{path}': unexpected text at position {pos + 1}")


def _compile(path: str) -> _Compiled:
    cached = _CACHE.get(path)
    if isinstance(cached, _Compiled):
        return cached
    if cached is not None:
        raise cached
    try:
        compiled = _compile_uncached(path)
    except PathNotFound as exc:
        if len(_CACHE) < 50_000:
            _CACHE[path] = exc
        raise
    if len(_CACHE) < 50_000:  # bounded: paths come from definitions, but be safe
        _CACHE[path] = compiled
    return compiled


def _compile_uncached(path: str) -> _Compiled:
    if not isinstance(path, str):
        raise PathNotFound(str(path), f"Invalid path '{path}'")
    text = path.strip()
    if text.startswith("$$"):
        root, rest = _ROOT_CONTEXT, text[2:]
    elif match := _VARIABLE_ROOT.match(text):
        root, rest = match.group(1), text[match.end() :]
    elif text.startswith("$"):
        root, rest = _ROOT_DATA, text[1:]
    else:
        raise PathNotFound(path, f"Invalid path '{path}'")
    steps = _parse_steps(path, rest)
    definite = all(s.kind in ("name", "index") and not s.deep for s in steps)
    simple = tuple(s.arg for s in steps) if definite else None
    return _Compiled(root, simple, steps)


def _operand_steps(text: str) -> tuple[str | int, ...] | None:
    """The steps of a definite filter operand (``@.a.b`` or ``$.a``), read below its root."""
    try:
        return _compile("$" + text[1:]).simple
    except PathNotFound:
        return None


def is_reference_path(path: str) -> bool:
    """True for a Reference Path: one that can only ever select a single node (``$.a['b'][0]``)."""
    try:
        return _compile(path).simple is not None
    except PathNotFound:
        return False


# -------------------------------------------------------------------------------- evaluation


def _jayway(steps: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


def _walk(path: str, value: Any, steps: tuple[str | int, ...]) -> Any:
    last = len(steps) - 1
    for i, step in enumerate(steps):
        if type(step) is int:
            if not isinstance(value, list):
                raise PathNotFound(
                    path,
                    f"Filter: [{step}] can only be applied to arrays. "
                    f"Current context is: {json_compact(value)}",
                )
            index = step + len(value) if step < 0 else step
            if not 0 <= index < len(value):
                raise PathNotFound(
                    path, f"No results for path: {_jayway(steps)}", index_out_of_range=i == last
                )
            value = value[index]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        elif i == last:
            raise PathNotFound(path, f"No results for path: {_jayway(steps)}")
        else:
            raise PathNotFound(path, f"Missing property in path {_jayway(steps[: i + 1])}")
    return value


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from value.values()
    elif isinstance(value, list):
        yield from value


def _descendants(value: Any) -> Iterator[Any]:
    """The node itself, then every node below it, depth first (Jayway's scan order)."""
    yield value
    for child in _children(value):
        yield from _descendants(child)


def _apply(step: _Step, value: Any, root: Any) -> Iterator[Any]:
    kind, arg = step.kind, step.arg
    if kind == "name":
        if isinstance(value, dict) and arg in value:
            yield value[arg]
    elif kind == "wild":
        yield from _children(value)
    elif kind in ("index", "indexes"):
        if isinstance(value, list):
            for index in (arg,) if kind == "index" else arg:
                if -len(value) <= index < len(value):
                    yield value[index]
    elif kind == "names":
        if isinstance(value, dict):
            yield from (value[name] for name in arg if name in value)
    elif kind == "slice":
        if isinstance(value, list):
            yield from value[slice(*arg)]
    elif kind == "filter":
        if isinstance(value, list):
            yield from (item for item in value if arg(item, root))
        elif isinstance(value, dict) and arg(value, root):
            yield value


def _query(steps: tuple[_Step, ...], root: Any) -> list[Any]:
    current = [root]
    for step in steps:
        sources = (d for node in current for d in _descendants(node)) if step.deep else current
        current = [hit for node in sources for hit in _apply(step, node, root)]
    return current


def get_path(
    path: str,
    data: Any,
    *,
    context: Any = None,
    variables: Mapping[str, Any] | None = None,
) -> Any:
    """The value ``path`` selects; a list for indefinite paths. Raises :class:`PathNotFound`."""
    compiled = _CACHE.get(path)
    if not isinstance(compiled, _Compiled):
        compiled = _compile(path)
    root = compiled.root
    if root == _ROOT_DATA:
        value = data
    elif root == _ROOT_CONTEXT:
        value = context
    elif variables is not None and root in variables:
        value = variables[root]
    else:
        raise PathNotFound(path, f"No results for path: ${root}")
    if compiled.simple is not None:
        return _walk(path, value, compiled.simple) if compiled.simple else value
    return _query(compiled.steps, value)


# ---------------------------------------------------------------------------------- ResultPath


def set_result_path(path: str | None, data: Any, result: Any) -> Any:
    """``ResultPath``: place ``result`` into ``data`` at ``path``, copying only along the path.

    ``None`` discards the result; ``$`` replaces the input. Missing objects on the way are created.
    Raises :class:`ResultPathMatchFailure` when the path goes through a non-object (or an array
    index that does not exist), or is not a reference path rooted at ``$``.
    """
    if path is None:
        return data
    if path == "$":
        return result
    try:
        compiled = _compile(path)
    except PathNotFound:
        raise ResultPathMatchFailure(path, data) from None
    if compiled.root != _ROOT_DATA or compiled.simple is None:
        raise ResultPathMatchFailure(path, data)
    if not compiled.simple:
        return result
    return _set(path, data, data, compiled.simple, 0, result)


def _set(
    path: str, whole: Any, node: Any, steps: tuple[str | int, ...], i: int, result: Any
) -> Any:
    step = steps[i]
    last = i == len(steps) - 1
    if type(step) is int:
        if not isinstance(node, list):
            raise ResultPathMatchFailure(path, whole)
        index = step + len(node) if step < 0 else step
        if not 0 <= index < len(node):
            raise ResultPathMatchFailure(path, whole)
        items = list(node)
        items[index] = result if last else _set(path, whole, node[index], steps, i + 1, result)
        return items
    if not isinstance(node, dict):
        raise ResultPathMatchFailure(path, whole)
    copy = dict(node)
    if last:
        copy[step] = result
    else:
        copy[step] = _set(path, whole, node.get(step, {}), steps, i + 1, result)
    return copy

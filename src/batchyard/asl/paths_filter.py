"""Filter predicates of JSONPath, ``[?(@.price < 10 && @.tag == 'x')]``, as Jayway evaluates them.

Operands are ``@``-relative or ``$``-rooted definite paths, literals (numbers, quoted strings,
``true``/``false``/``null``, ``/regex/``) and lists; operators ``==``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``=~`` (full regex match), ``in``, ``nin``, ``&&``, ``||``, ``!`` and parentheses; a bare
path means "exists". Values of different JSON types are never equal and never ordered, as in Jayway.

A predicate is compiled once into closures taking ``(node, root)``. Path steps of operands come from
:mod:`batchyard.asl.paths` through the ``steps_of`` callback, which keeps this module independent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["FilterSyntaxError", "Predicate", "parse_filter"]


class FilterSyntaxError(ValueError):
    """The filter expression is malformed."""


_UNDEFINED: Any = object()
_FILTER_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>==|!=|<=|>=|<|>|=~|&&|\|\||!|\(|\)|\[|\]|,)
    | (?P<word>\b(?:in|nin|true|false|null)\b)
    | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<regex>/(?:[^/\\]|\\.)*/[a-z]*)
    | (?P<path>[@$](?:\.[^\s.\[\]()=<>!&|,]+|\[[^\]]*\])*)
    )""",
    re.VERBOSE,
)

_Operand = Callable[[Any, Any], Any]  # (node, root) -> value
Predicate = Callable[[Any, Any], bool]
StepsOf = Callable[[str], "tuple[str | int, ...] | None"]


class _FilterParser:
    def __init__(self, text: str, pos: int, steps_of: StepsOf) -> None:
        self.text, self.pos, self.steps_of = text, pos, steps_of
        self.tokens: list[tuple[str, str]] = []
        self._tokenize()
        self.i = 0

    def _tokenize(self) -> None:
        depth = 1
        while True:
            match = _FILTER_TOKEN.match(self.text, self.pos)
            if not match or match.end() == self.pos:
                raise self._error()
            self.pos = match.end()
            kind = match.lastgroup or ""
            value = match.group(kind)
            if value == "(":
                depth += 1
            elif value == ")":
                depth -= 1
                if depth == 0:
                    if not self.text.startswith("]", self.pos):
                        raise self._error()
                    self.pos += 1
                    return
            self.tokens.append((kind, value))

    def _error(self) -> FilterSyntaxError:
        return FilterSyntaxError(f"bad filter expression at position {self.pos}")

    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise self._error()
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.i != len(self.tokens):
            raise self._error()
        return predicate

    def _or(self) -> Predicate:
        left = self._and()
        while self._peek() == "||":
            self._take()
            left = _either(left, self._and())
        return left

    def _and(self) -> Predicate:
        left = self._unary()
        while self._peek() == "&&":
            self._take()
            left = _both(left, self._unary())
        return left

    def _unary(self) -> Predicate:
        if self._peek() == "!":
            self._take()
            inner = self._unary()
            return lambda n, r: not inner(n, r)
        if self._peek() == "(":
            self._take()
            inner = self._or()
            if self._take()[1] != ")":
                raise self._error()
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        left = self._operand()
        op = self._peek()
        if op not in _COMPARATORS:
            return lambda n, r: left(n, r) is not _UNDEFINED
        self._take()
        right = self._operand()
        compare = _COMPARATORS[op]

        def predicate(node: Any, root: Any) -> bool:
            a, b = left(node, root), right(node, root)
            return a is not _UNDEFINED and b is not _UNDEFINED and compare(a, b)

        return predicate

    def _operand(self) -> _Operand:
        kind, value = self._take()
        if kind == "path":
            found = self.steps_of(value)
            if found is None:
                raise self._error()
            steps, relative = found, value.startswith("@")
            return lambda n, r: _lookup(n if relative else r, steps)
        if kind == "num":
            number = float(value) if any(c in value for c in ".eE") else int(value)
            return lambda n, r: number
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", value[1:-1])
            return lambda n, r: text
        if kind == "word":
            literal = {"true": True, "false": False, "null": None}.get(value, _UNDEFINED)
            if literal is _UNDEFINED:
                raise self._error()
            return lambda n, r: literal
        if kind == "regex":
            body, flags = value[1 : value.rindex("/")], value[value.rindex("/") + 1 :]
            try:
                pattern = re.compile(body, re.IGNORECASE if "i" in flags else 0)
            except re.error:
                raise self._error() from None
            return lambda n, r: pattern
        if value == "[":
            items: list[_Operand] = []
            while self._peek() != "]":
                items.append(self._operand())
                if self._peek() == ",":
                    self._take()
            self._take()
            return lambda n, r: [item(n, r) for item in items]
        raise self._error()


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda node, root: a(node, root) or b(node, root)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda node, root: a(node, root) and b(node, root)


def _lookup(node: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        if type(step) is int:
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return _UNDEFINED
            node = node[step]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return _UNDEFINED
    return node


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _equal(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) and a == b


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        kind = _kind(a)
        return kind == _kind(b) and kind in ("number", "str") and op(a, b)

    return compare


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "=~": lambda a, b: isinstance(a, str) and isinstance(b, re.Pattern) and bool(b.fullmatch(a)),
    "in": lambda a, b: isinstance(b, list) and any(_equal(a, x) for x in b),
    "nin": lambda a, b: isinstance(b, list) and not any(_equal(a, x) for x in b),
}


def parse_filter(text: str, pos: int, steps_of: StepsOf) -> tuple[Predicate, int]:
    """Parse the predicate starting at ``text[pos]`` (just after ``[?(``).

    Returns the predicate and the position after the closing ``)]``. Raises
    :class:`FilterSyntaxError`.
    """
    parser = _FilterParser(text, pos, steps_of)
    return parser.parse(), parser.pos

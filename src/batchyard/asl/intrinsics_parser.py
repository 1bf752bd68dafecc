"""Parser for intrinsic function calls: ``States.Format('{} is {}', $.name, States.UUID())``.

The text is parsed once into a small tree (cached by text) that :mod:`batchyard.asl.intrinsics`
evaluates. Arguments are string literals in single quotes (``\\'``, ``\\{``, ``\\}``, ``\\\\`` are
escapes), numbers, ``true``/``false``/``null``, paths (``$.x``, ``$$.x``, ``$var``) and nested calls.
String literals keep their raw text too, because ``States.Format`` must tell an escaped ``\\{`` from
a placeholder ``{}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Call", "IntrinsicSyntaxError", "Literal", "PathArg", "parse_intrinsic"]

MAX_NESTING = 10  # AWS: "You can nest up to 10 intrinsic functions"

_NAME = re.compile(r"\s*(States\.[A-Za-z0-9]+)\s*\(")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"(true|false|null)\b")


class IntrinsicSyntaxError(ValueError):
    """The text is not a well-formed intrinsic function call; ``message`` says why."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(message)
        self.text = text
        self.message = message


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    raw: str | None = None  # the text between the quotes, escapes intact (string literals only)


@dataclass(frozen=True, slots=True)
class PathArg:
    path: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Literal | PathArg | Call, ...]


Arg = Literal | PathArg | Call

_CACHE: dict[str, Call | IntrinsicSyntaxError] = {}


def parse_intrinsic(text: str) -> Call:
    """The call tree of ``text``; raises :class:`IntrinsicSyntaxError`."""
    cached = _CACHE.get(text)
    if isinstance(cached, Call):
        return cached
    if cached is not None:
        raise cached
    try:
        parser = _Parser(text)
        call = parser.call(depth=1)
        if parser.pos != len(text.rstrip()):
            raise parser.error("unexpected text after the closing parenthesis")
    except IntrinsicSyntaxError as exc:
        if len(_CACHE) < 20_000:
            _CACHE[text] = exc
        raise
    if len(_CACHE) < 20_000:
        _CACHE[text] = call
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(self.text, f"{message} (at position {self.pos})")

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise self.error(f"intrinsic functions can be nested at most {MAX_NESTING} levels")
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.error("expected an intrinsic function name such as States.Format(")
        self.pos = match.end()
        args: list[Arg] = []
        self._skip_spaces()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return Call(match.group(1), ())
        while True:
            self._skip_spaces()
            args.append(self.argument(depth))
            self._skip_spaces()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return Call(match.group(1), tuple(args))
            raise self.error("expected ',' or ')'")

    def argument(self, depth: int) -> Arg:
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise self.error("unexpected end of text")
        char = text[pos]
        if char == "'":
            return self._string()
        if char == "$":
            return self._path()
        if text.startswith("States.", pos):
            return self.call(depth + 1)
        if match := _NUMBER.match(text, pos):
            self.pos = match.end()
            number = match.group(0)
            is_float = any(c in number for c in ".eE")
            return Literal(float(number) if is_float else int(number))
        if match := _WORD.match(text, pos):
            self.pos = match.end()
            return Literal({"true": True, "false": False, "null": None}[match.group(1)])
        raise self.error("expected an argument")

    def _string(self) -> Literal:
        start = self.pos + 1
        pos = start
        chars: list[str] = []
        while pos < len(self.text):
            char = self.text[pos]
            if char == "\\" and pos + 1 < len(self.text):
                chars.append(self.text[pos + 1])
                pos += 2
                continue
            if char == "'":
                self.pos = pos + 1
                return Literal("".join(chars), raw=self.text[start:pos])
            chars.append(char)
            pos += 1
        raise self.error("unterminated string literal")

    def _path(self) -> PathArg:
        # A path runs to the next ',' or ')' outside brackets, quotes and filter parentheses.
        start = pos = self.pos
        depth, quote = 0, ""
        while pos < len(self.text):
            char = self.text[pos]
            if quote:
                if char == "\\":
                    pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            pos += 1
        self.pos = pos
        path = self.text[start:pos].strip()
        if not path:
            raise self.error("empty path")
        return PathArg(path)

"""Syntax checks for JSONPath-mode strings: paths, reference paths and intrinsic function calls.

These are recognisers, not evaluators (the data-flow modules evaluate): each answers "would AWS
accept this text here?". The grammar is deliberately lenient where AWS's JSONPath engine is
(filters, slices, unions inside brackets) and strict where the States Language is: a reference
path addresses exactly one node, so it has no wildcards, filters or slices.
"""

from __future__ import annotations

import re
from typing import Any

from batchyard.asl import validation_messages as msg
from batchyard.asl.validation_context import Ctx

INTRINSIC_FUNCTIONS = frozenset(
    {
        "States.Format",
        "States.StringToJson",
        "States.JsonToString",
        "States.Array",
        "States.ArrayPartition",
        "States.ArrayContains",
        "States.ArrayRange",
        "States.ArrayGetItem",
        "States.ArrayLength",
        "States.ArrayUnique",
        "States.Base64Encode",
        "States.Base64Decode",
        "States.Hash",
        "States.JsonMerge",
        "States.MathRandom",
        "States.MathAdd",
        "States.StringSplit",
        "States.UUID",
    }
)
MAX_INTRINSIC_NESTING = 10

_VARIABLE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_FUNCTION_NAME = re.compile(r"States\.[A-Za-z0-9]+")
# One reference-path step: .name (no operator characters), ['name'] or [index].
_REFERENCE_STEP = re.compile(r"\.[^.\[\]*?@()'\"\s]+|\['(?:[^'\\]|\\.)+'\]|\[\d+\]")


def _root_length(path: str, *, context: bool, variables: bool) -> int:
    """Length of the root token (``$``, ``$$``, ``$name``), or 0 when the root is not allowed."""
    if path.startswith("$$"):
        return 2 if context else 0
    match = _VARIABLE.match(path)
    if match:
        return match.end() if variables else 0
    return 1 if path.startswith("$") else 0


def _bracket_end(path: str, start: int) -> int:
    """Index just past the ``]`` closing the bracket at ``start``; -1 when it never closes."""
    depth, quote, i = 0, "", start
    while i < len(path):
        char = path[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                return i + 1 if char == "]" and i > start + 1 else -1
        i += 1
    return -1


def is_jsonpath(path: Any, *, context: bool = True, variables: bool = True) -> bool:
    """A JSONPath as AWS accepts it in InputPath, OutputPath and ``.$`` values."""
    if not isinstance(path, str):
        return False
    i = _root_length(path, context=context, variables=variables)
    if i == 0:
        return False
    while i < len(path):
        if path.startswith("..", i):
            i += 2
        elif path[i] == ".":
            i += 1
        elif path[i] == "[":
            i = _bracket_end(path, i)
            if i < 0:
                return False
            continue
        else:
            return False
        if i < len(path) and path[i] == "[":
            continue
        name_end = i
        while name_end < len(path) and path[name_end] not in ".[":
            name_end += 1
        if name_end == i or "]" in path[i:name_end]:
            return False
        i = name_end
    return True


def reference_path_problem(path: Any, *, context: bool = False, variables: bool = False) -> str:
    """Why ``path`` is not a reference path ('' when it is one)."""
    if not isinstance(path, str) or not path.startswith("$"):
        return "Reference path didn't start with '$'"
    i = _root_length(path, context=context, variables=variables)
    if i == 0:
        # inferred wording: no recording of these two reasons was found.
        return "Reference path has an unsupported root"
    while i < len(path):
        match = _REFERENCE_STEP.match(path, i)
        if match is None:
            return "Reference path contains an unsupported operator"
        i = match.end()
    return ""


class _IntrinsicParser:
    """Recursive descent over ``States.Fn(arg, ...)``; :meth:`parse` answers valid or not."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> bool:
        ok = self._call(1)
        self._spaces()
        return ok and self.pos == len(self.text)

    def _spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _call(self, depth: int) -> bool:
        match = _FUNCTION_NAME.match(self.text, self.pos)
        if match is None or match.group() not in INTRINSIC_FUNCTIONS:
            return False
        if depth > MAX_INTRINSIC_NESTING:
            return False
        self.pos = match.end()
        self._spaces()
        if not self.text.startswith("(", self.pos):
            return False
        self.pos += 1
        self._spaces()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return True
        while True:
            if not self._argument(depth):
                return False
            self._spaces()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return True
            return False

    def _argument(self, depth: int) -> bool:
        self._spaces()
        rest = self.text[self.pos :]
        if rest.startswith("'"):
            return self._string()
        if rest.startswith("States."):
            return self._call(depth + 1)
        if rest.startswith("$"):
            return self._path()
        for literal in ("true", "false", "null"):
            if rest.startswith(literal):
                self.pos += len(literal)
                return True
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            return False
        self.pos = match.end()
        return True

    def _string(self) -> bool:
        i = self.pos + 1
        while i < len(self.text):
            if self.text[i] == "\\":
                i += 2
                continue
            if self.text[i] == "'":
                self.pos = i + 1
                return True
            i += 1
        return False

    def _path(self) -> bool:
        start, depth, quote, i = self.pos, 0, "", self.pos
        while i < len(self.text):
            char = self.text[i]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])" and depth > 0:
                depth -= 1
            elif char in ",)" and depth == 0:
                break
            i += 1
        self.pos = i
        return is_jsonpath(self.text[start:i].rstrip())


def is_intrinsic_call(text: Any) -> bool:
    return isinstance(text, str) and _IntrinsicParser(text).parse()


def is_path_or_intrinsic(text: Any) -> bool:
    return is_jsonpath(text) or is_intrinsic_call(text)


def looks_like_path(value: Any) -> bool:
    """A literal that was probably meant to be evaluated (AWS warns: NO_DOLLAR / NO_PATH)."""
    if not isinstance(value, str):
        return False
    if value in ("$", "$$") or value.startswith(("$.", "$$.", "$[")):
        return is_jsonpath(value)
    return value.startswith("States.") and is_intrinsic_call(value)


def check_payload_template(ctx: Ctx, value: Any, location: str) -> None:
    """Every ``key.$`` in a JSONPath payload template must hold a path or an intrinsic call."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{location}/{key}"
            if isinstance(key, str) and key.endswith(".$"):
                if not is_path_or_intrinsic(item):
                    ctx.schema(msg.bad_payload_value(key), where)
            elif looks_like_path(item):
                ctx.warning(msg.NO_DOLLAR, msg.no_dollar(), where)
            else:
                check_payload_template(ctx, item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_payload_template(ctx, item, f"{location}[{index}]")


_VARIABLE_NAME = re.compile(r"[^\W\d]\w*")


def check_assign(ctx: Ctx, assign: Any, location: str, *, jsonpath: bool) -> None:
    """Variable names in ``Assign`` (both languages) and, in JSONPath, its ``.$`` values."""
    if not isinstance(assign, dict):
        ctx.schema(msg.expected_type("OBJECT"), location)
        return
    for key, value in assign.items():
        where = f"{location}/{key}"
        name = key[:-2] if jsonpath and key.endswith(".$") else key
        if name == "states":
            ctx.error(msg.RESERVED_VARIABLE_NAME, msg.reserved_variable(), where)
        elif not _VARIABLE_NAME.fullmatch(name):
            ctx.error(msg.INVALID_VARIABLE_NAME, msg.invalid_variable_name(name), where)
        if jsonpath:
            check_payload_template(ctx, {key: value}, location)

"""Definition text that is not JSON: the ``INVALID_JSON_DESCRIPTION`` diagnostic, worded like
the Jackson parser AWS uses.

Recorded from AWS: ``Unrecognized token 'not': was expecting (JSON String, Number, Array, Object
or token 'null', 'true' or 'false')`` followed by ``\\n at [Source: (String)"..."; line: 1,
column: 4]``, and that ``[Source: ...]`` text as the location. The other messages below are
Jackson's wording for the same mistakes (inferred: not seen in a recording), placed the way
Jackson places them: the column just after what it read.
"""

from __future__ import annotations

import json
from typing import Any

from batchyard.asl import validation_messages as msg
from batchyard.asl.diagnostics import Diagnostic

_EXPECTED_VALUE = (
    "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
)
_SOURCE_LIMIT = 500  # Jackson quotes at most this much of the text


class _Object(dict[str, Any]):
    """A JSON object that remembers keys given twice (two states of the same name)."""

    duplicates: tuple[str, ...] = ()


def _object_hook(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object()
    seen: list[str] = []
    for key, value in pairs:
        if key in result:
            seen.append(key)
        result[key] = value
    result.duplicates = tuple(seen)
    return result


def parse(text: str) -> Any:
    """The parsed definition, or the diagnostic AWS gives for text that is not a JSON object."""
    if not text.strip():
        return Diagnostic("ERROR", msg.SCHEMA, msg.not_json_object())
    try:
        return json.loads(text, object_pairs_hook=_object_hook)
    except json.JSONDecodeError as error:
        return _diagnostic(text, error)
    except (ValueError, RecursionError) as error:  # e.g. nesting too deep for the parser
        return Diagnostic("ERROR", msg.INVALID_JSON, str(error), "")


def _source(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    excerpt = text[:_SOURCE_LIMIT]
    truncated = (
        f"[truncated {len(text) - _SOURCE_LIMIT} chars]" if len(text) > _SOURCE_LIMIT else ""
    )
    return f'[Source: (String)"{excerpt}"{truncated}; line: {line}, column: {column}]'


def _char(char: str) -> str:
    if ord(char) < 32:
        return f"(CTRL-CHAR, code {ord(char)})"
    return f"('{char}' (code {ord(char)}))"


def _open_container(text: str, end: int) -> tuple[str, int]:
    """``("Object" | "Array", offset of its bracket)`` innermost open at ``end``; ``("", 0)``."""
    stack: list[tuple[str, int]] = []
    in_string = escaped = False
    for offset, char in enumerate(text[:end]):
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(("Object" if char == "{" else "Array", offset))
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ("", 0)


def _reason(text: str, error: json.JSONDecodeError) -> tuple[str, int]:
    """Jackson's sentence for ``error`` and the offset Jackson reports it at."""
    pos = error.pos
    if error.msg.startswith("Unterminated string"):
        return "Unexpected end-of-input: was expecting closing quote for a string value", len(text)
    if pos >= len(text):
        container, start = _open_container(text, len(text))
        if container:
            marker = _source(text, start)
            reason = f"expected close marker for {container} (start marker at {marker})"
            return f"Unexpected end-of-input: {reason}", len(text)
        return "Unexpected end-of-input", len(text)
    char = text[pos]
    if error.msg == "Expecting value" and (char.isalpha() or char == "_"):
        end = pos
        while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
            end += 1
        return f"Unrecognized token '{text[pos:end]}': {_EXPECTED_VALUE}", end
    expectations = {
        "Expecting value": "expected a value",
        "Expecting property name enclosed in double quotes": "was expecting double-quote to start field name",
        "Expecting ':' delimiter": "was expecting a colon to separate field name and value",
        "Expecting ',' delimiter": (
            f"was expecting comma to separate {_open_container(text, pos)[0]} entries"
        ),
    }
    expectation = expectations.get(error.msg, error.msg)
    return f"Unexpected character {_char(char)}: {expectation}", pos + 1


def _diagnostic(text: str, error: json.JSONDecodeError) -> Diagnostic:
    reason, offset = _reason(text, error)
    source = _source(text, offset)
    return Diagnostic("ERROR", msg.INVALID_JSON, f"{reason}\n at {source}", source)

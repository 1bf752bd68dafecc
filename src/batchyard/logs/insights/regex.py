"""Regular expressions and globs of Logs Insights, translated for DuckDB (RE2).

Logs Insights writes named groups as ``(?<name>...)``; RE2 wants ``(?P<name>...)``.  DuckDB's
``regexp_extract(s, re, [names])`` returns capture groups *by position*, so for extraction the
named groups become plain capture groups and every other group becomes non-capturing.  RE2 has
no lookaround, backreferences, atomic groups or possessive quantifiers: patterns using them
raise :class:`UnsupportedQueryError` instead of silently matching something else.

Globs (``parse @message "user=* id=*"``): each ``*`` is a lazy ``(.*?)`` — it stops at the first
occurrence of the text that follows it — and a trailing ``*`` takes the rest of the value; the
pattern may match anywhere in the value and ``.`` spans newlines.
"""

from __future__ import annotations

import importlib
import re
import warnings
from dataclasses import dataclass
from typing import Any

from .errors import UnsupportedQueryError

# The stdlib's regex parser computes the minimum match width; RE2 syntax is a subset of it.
_sre_parser: Any = importlib.import_module("re._parser")

_META = frozenset("\\.^$|?*+()[]{}")


@dataclass(frozen=True, slots=True)
class Translated:
    pattern: str  # RE2 source
    names: tuple[str, ...]  # named groups in order (capture positions when ``extract`` is set)


def _class_end(src: str, i: int) -> int:
    """Index just past the character class that starts at ``src[i] == '['``."""
    j = i + 1
    if j < len(src) and src[j] == "^":
        j += 1
    if j < len(src) and src[j] == "]":
        j += 1
    while j < len(src):
        if src[j] == "\\":
            j += 2
            continue
        if src[j] == "[" and src[j + 1 : j + 2] == ":":  # POSIX class [:alpha:]
            end = src.find(":]", j + 2)
            if end >= 0:
                j = end + 2
                continue
        if src[j] == "]":
            return j + 1
        j += 1
    raise ValueError("unterminated character class")


def translate(src: str, *, extract: bool) -> Translated:
    """Translate a Logs Insights regex to RE2; ``extract`` keeps only named groups capturing."""
    out: list[str] = []
    names: list[str] = []
    i = 0
    while i < len(src):
        c = src[i]
        if c == "\\":
            nxt = src[i + 1 : i + 2]
            if (nxt.isdigit() and nxt != "0") or nxt == "k":
                raise UnsupportedQueryError("regex", "backreferences are not supported")
            # RE2 has only \z; \Z also allows one final newline before the end.
            out.append("\\n?\\z" if nxt == "Z" else src[i : i + 2])
            i += 2
        elif c == "[":
            end = _class_end(src, i)
            out.append(src[i:end])
            i = end
        elif c == "(":
            rest = src[i + 1 :]
            m = re.match(r"\?P?<([A-Za-z_][A-Za-z0-9_]*)>", rest)
            if m:
                names.append(m.group(1))
                out.append("(" if extract else f"(?P<{m.group(1)}>")
                i += 1 + m.end()
            elif rest.startswith("?P="):
                raise UnsupportedQueryError("regex", "backreferences are not supported")
            elif rest.startswith(("?=", "?!", "?<=", "?<!")):
                raise UnsupportedQueryError("regex", "lookaround assertions are not supported")
            elif rest.startswith("?>"):
                raise UnsupportedQueryError("regex", "atomic groups are not supported")
            elif rest.startswith("?"):
                out.append("(")
                i += 1
            else:
                out.append("(?:" if extract else "(")
                i += 1
        elif c in "*+?}" and src[i + 1 : i + 2] == "+":
            raise UnsupportedQueryError("regex", "possessive quantifiers are not supported")
        else:
            out.append(c)
            i += 1
    pattern = "".join(out)
    _check(pattern)
    return Translated(pattern, tuple(names))


def _check(pattern: str) -> None:
    """Syntax check with Python's parser (raises re.error), after hiding the RE2 syntax that
    Python lacks (Unicode classes ``\\p{L}``, POSIX classes ``[[:alpha:]]``, ``\\z``)."""
    hidden = re.sub(r"\\[pP](\{[^}]*\}|[A-Za-z])", "x", pattern)
    hidden = re.sub(r"\[:\^?[a-z]+:\]", "x", hidden)
    hidden = hidden.replace("\\z", "$")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        re.compile(hidden)


def glob_to_regex(glob: str) -> str:
    """RE2 source for a parse glob: one capture group per ``*``."""
    parts = glob.split("*")
    out = ["(?s)"]
    for n, literal in enumerate(parts):
        out.append(_escape(literal))
        if n < len(parts) - 1:
            out.append("(.*)" if n == len(parts) - 2 and parts[-1] == "" else "(.*?)")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Glob:
    """A glob whose every capture is non-empty when the pattern matches: each ``*`` group also
    takes the first character of the literal after it (or, for a trailing ``*``, the last one
    before it), which ``trims`` says to cut off again (``"last"`` / ``"first"``).  An empty
    capture then means "no match", so a single ``regexp_extract`` suffices."""

    pattern: str
    trims: tuple[str, ...]


def glob_with_anchors(glob: str) -> Glob | None:
    """The :class:`Glob` form of ``glob``, or None when a ``*`` has no literal beside it."""
    parts = glob.split("*")
    out = ["(?s)"]
    trims: list[str] = []
    literal = parts[0]
    for n in range(1, len(parts)):
        following = parts[n]
        trailing = n == len(parts) - 1 and following == ""
        if trailing:
            if not literal:
                return None
            out.append(_escape(literal[:-1]) + "(" + _escape(literal[-1]) + ".*)")
            trims.append("first")
        else:
            if not following:
                return None
            out.append(_escape(literal) + "(.*?" + _escape(following[0]) + ")")
            trims.append("last")
            following = following[1:]
        literal = following
    out.append(_escape(literal))
    return Glob("".join(out), tuple(trims))


def _escape(literal: str) -> str:
    return "".join("\\" + ch if ch in _META else ch for ch in literal)


def groups_never_empty(pattern: str) -> bool:
    """Whether every capture group of ``pattern`` captures at least one character when it takes
    part in a match — then an empty extract means "no match" and needs no separate test."""
    try:
        parsed = _sre_parser.parse(pattern)
    except Exception:  # defensive: assume the worst
        return False
    found: dict[int, int] = {}

    def walk(items: Any) -> None:
        for op, av in items:
            name = str(op)
            if name == "SUBPATTERN":
                group, _, _, sub = av
                if group is not None:
                    found[group] = sub.getwidth()[0]
                walk(sub)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                walk(av[2])
            elif name == "BRANCH":
                for branch in av[1]:
                    walk(branch)
            elif name in ("ASSERT", "ASSERT_NOT"):
                walk(av[1])

    walk(parsed)
    return (
        bool(found)
        and all(width > 0 for width in found.values())
        and len(found) == parsed.state.groups - 1
    )


def can_match_empty(pattern: str) -> bool:
    """Whether some match of ``pattern`` may be the empty string (then a match is not detectable
    from the whole-match text alone)."""
    try:
        low = _sre_parser.parse(pattern.replace("(?P<", "(?P<")).getwidth()[0]
    except Exception:  # defensive: assume the worst, the caller then adds a match guard
        return True
    return bool(low == 0)

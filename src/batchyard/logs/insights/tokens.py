"""Tokenizer for Logs Insights QL.

The only context-sensitive token is ``/``: it opens a regex literal where an operand is expected
(after an operator, ``(``, ``,``, ``|``, or a keyword such as ``like``/``parse``) and is the
division operator after an operand.  Everything else is regular.  Positions are 1-based
line/column, and every token knows its offset and length in the source so that the parser can
quote the exact source text of an expression (unaliased ``stats`` columns are named by it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import MalformedQueryException


class T(enum.Enum):
    IDENT = "identifier"
    STRING = "string"
    REGEX = "regex"
    NUMBER = "number"
    PERIOD = "time period"
    OP = "operator"
    PIPE = "|"
    COMMA = ","
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COLON = ":"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    type: T
    value: str  # decoded value: field name, string contents, regex source, number text, operator
    start: int  # offset of the first character in the source
    end: int  # offset just past the last character
    line: int
    column: int
    quoted: bool = False  # identifier written with backticks (never a keyword)
    parts: tuple[str, ...] = ()  # identifier segments: `a.b`.c -> ("a.b", "c")

    def is_keyword(self, *words: str) -> bool:
        return self.type is T.IDENT and not self.quoted and self.value.lower() in words


# Multi-character operators first so that the longest match wins.
OPERATORS = ("!=", "<=", ">=", "=~", "==", "=", "<", ">", "+", "-", "*", "/", "%", "^")
PUNCT = {"|": T.PIPE, ",": T.COMMA, "(": T.LPAREN, ")": T.RPAREN, "[": T.LBRACKET,
         "]": T.RBRACKET, ":": T.COLON}  # fmt: skip

# Keywords after which an operand (and so possibly a regex literal) is expected.
REGEX_AFTER_WORDS = frozenset(
    {"like", "parse", "filter", "not", "and", "or", "in", "fields", "display", "by", "stats",
     "pattern", "unnest", "as", "filterindex"}
)  # fmt: skip

# Time units for periods (`5m`, `1h`, `2hrs`); value: milliseconds, or months for calendar units.
FIXED_UNITS_MS = {
    "ms": 1, "msec": 1, "msecs": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "m": 60_000, "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hr": 3_600_000, "hrs": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
    "w": 604_800_000, "week": 604_800_000, "weeks": 604_800_000,
}  # fmt: skip
CALENDAR_UNITS_MONTHS = {
    "mo": 1, "mon": 1, "mons": 1, "month": 1, "months": 1,
    "q": 3, "qtr": 3, "qtrs": 3, "quarter": 3, "quarters": 3,
    "y": 12, "yr": 12, "yrs": 12, "year": 12, "years": 12,
}  # fmt: skip


DIGITS = "0123456789"
_DIGIT_SET = frozenset(DIGITS)


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c in "_@$"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_@$."


class Tokenizer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.col = 1
        self.tokens: list[Token] = []

    # -- position helpers -------------------------------------------------------------------
    def error(self, reason: str, start: int, end: int | None = None) -> MalformedQueryException:
        line, col = position(self.text, start)
        snippet = self.text[start : (end if end is not None else start + 1)]
        return MalformedQueryException(reason, line=line, column=col, text=snippet)

    def _advance(self, n: int = 1) -> None:
        for c in self.text[self.pos : self.pos + n]:
            if c == "\n":
                self.line += 1
                self.col = 1
            else:
                self.col += 1
        self.pos += n

    def _emit(
        self,
        type_: T,
        value: str,
        start: int,
        line: int,
        col: int,
        *,
        quoted: bool = False,
        parts: tuple[str, ...] = (),
    ) -> None:
        self.tokens.append(Token(type_, value, start, self.pos, line, col, quoted, parts))

    def _regex_allowed(self) -> bool:
        if not self.tokens:
            return True
        prev = self.tokens[-1]
        if prev.type in (T.OP, T.PIPE, T.COMMA, T.LPAREN, T.LBRACKET, T.COLON):
            return True
        if prev.type is T.IDENT and not prev.quoted and prev.value.lower() in REGEX_AFTER_WORDS:
            return True
        # `parse <field> /regex/`: the pattern follows the field being parsed.
        before = self.tokens[-2] if len(self.tokens) > 1 else None
        return prev.type is T.IDENT and before is not None and before.is_keyword("parse")

    # -- scanning ---------------------------------------------------------------------------
    def tokenize(self) -> list[Token]:
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            start, line, col = self.pos, self.line, self.col
            if c.isspace():
                self._advance()
            elif c == "#":  # comment to end of line
                while self.pos < len(text) and text[self.pos] != "\n":
                    self._advance()
            elif c in "'\"":
                self._emit(T.STRING, self._quoted(c), start, line, col)
            elif c == "`":
                parts = self._identifier()
                self._emit(T.IDENT, ".".join(parts), start, line, col, quoted=True, parts=parts)
            elif c == "/" and self._regex_allowed():
                self._emit(T.REGEX, self._regex(), start, line, col)
            elif c in DIGITS or (c == "." and text[self.pos + 1 : self.pos + 2] in _DIGIT_SET):
                self._number(start, line, col)
            elif _is_ident_start(c):
                parts = self._identifier()
                self._emit(T.IDENT, ".".join(parts), start, line, col, parts=parts)
            elif c in PUNCT:
                self._advance()
                self._emit(PUNCT[c], c, start, line, col)
            else:
                op = next((o for o in OPERATORS if text.startswith(o, self.pos)), None)
                if op is None:
                    raise self.error("unexpected character", start)
                self._advance(len(op))
                self._emit(T.OP, "=" if op == "==" else op, start, line, col)
        self.tokens.append(Token(T.EOF, "", len(text), len(text), self.line, self.col))
        return self.tokens

    def _quoted(self, quote: str) -> str:
        start = self.pos
        self._advance()
        out: list[str] = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                # Only quotes and backslashes are escapes; other sequences stay literal so that
                # glob patterns such as 'C:\temp\*' keep their backslashes.
                out.append(nxt if nxt in "'\"\\" else c + nxt)
                self._advance(2)
            elif c == quote:
                self._advance()
                return "".join(out)
            else:
                out.append(c)
                self._advance()
        raise self.error("unterminated string literal", start, len(self.text))

    def _regex(self) -> str:
        start = self.pos
        self._advance()
        out: list[str] = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                out.append("/" if nxt == "/" else c + nxt)
                self._advance(2)
            elif c == "/":
                self._advance()
                return "".join(out)
            else:
                out.append(c)
                self._advance()
        raise self.error("unterminated regular expression", start, len(self.text))

    def _identifier(self) -> tuple[str, ...]:
        """A field name's segments: plain dotted parts and backtick-quoted parts (kept whole,
        dots included, so that `map.`special.char`` addresses the key "special.char")."""
        parts: list[str] = []
        text = self.text
        while True:
            if self.pos < len(text) and text[self.pos] == "`":
                start = self.pos
                end = text.find("`", self.pos + 1)
                if end < 0:
                    raise self.error("unterminated quoted field name", start, len(text))
                parts.append(text[self.pos + 1 : end])
                self._advance(end + 1 - self.pos)
            else:
                begin = self.pos
                while self.pos < len(text) and _is_ident_char(text[self.pos]):
                    self._advance()
                plain = text[begin : self.pos]
                if plain.endswith(".") and text[self.pos : self.pos + 1] == "`":
                    parts.extend(plain[:-1].split("."))  # `a.`b``: continue with the quoted part
                    continue
                parts.extend(plain.split("."))
            # `` `a`.b ``: a dot after a quoted part continues the same name.
            if (
                text.startswith(".", self.pos)
                and self.pos + 1 < len(text)
                and (text[self.pos + 1] == "`" or _is_ident_char(text[self.pos + 1]))
            ):
                self._advance()
                continue
            return tuple(parts)

    def _number(self, start: int, line: int, col: int) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos] in DIGITS:
            self._advance()
        if text.startswith(".", self.pos) and text[self.pos + 1 : self.pos + 2] in _DIGIT_SET:
            self._advance()
            while self.pos < len(text) and text[self.pos] in DIGITS:
                self._advance()
        number = text[start : self.pos]
        if self.pos < len(text) and text[self.pos].isalpha():
            begin = self.pos
            while self.pos < len(text) and text[self.pos].isalpha():
                self._advance()
            unit = text[begin : self.pos]
            if unit.lower() not in FIXED_UNITS_MS and unit.lower() not in CALENDAR_UNITS_MONTHS:
                raise self.error("unknown time unit", start, self.pos)
            if "." in number:
                raise self.error("a time period needs a whole number", start, self.pos)
            self._emit(T.PERIOD, number + unit.lower(), start, line, col)
            return
        self._emit(T.NUMBER, number, start, line, col)


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def tokenize(text: str) -> list[Token]:
    return Tokenizer(text).tokenize()

"""CloudWatch Logs filter patterns (FilterLogEvents, metric and subscription filters) -> SQL.

Three forms, told apart by their first character:

* ``{ ... }`` -- a JSON pattern: ``$.a.b[0] = "x"`` / ``!=`` / ``<`` ``<=`` ``>`` ``>=`` with
  numbers, quoted or bare strings (``*`` is a wildcard), ``%regex%``; ``IS TRUE``, ``IS FALSE``,
  ``IS NULL``, ``NOT EXISTS``, ``EXISTS``; ``&&``, ``||``, parentheses. Only JSON events match.
* ``[ ... ]`` -- a space-delimited pattern: one name per whitespace-separated field of the
  message (``"quoted"`` and ``[bracketed]`` runs are one field, shown without their quotes or
  brackets), ``...`` for any number of fields, and conditions such as ``status = 4*`` or
  ``size > 1000`` joined by ``&&`` / ``||``.
* anything else -- terms: all must match (case-sensitive); ``"a phrase"``; ``-term`` excludes;
  ``?a ?b`` matches either; ``%regex%``. An empty pattern matches everything.

Decisions where AWS's documentation is silent: a bare term matches a whole word (delimited by
characters other than letters, digits and ``_``), a quoted phrase matches anywhere; ``!=``
needs the field to exist; ``= 200`` matches the number 200 and the string "200".

Every pattern compiles to one DuckDB predicate over a message column, so FilterLogEvents is a
single scan. Malformed patterns raise ``InvalidParameterException`` like AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from batchyard.logs.errors import InvalidParameterException

INVALID = "Invalid character(s) in term '{}'"
WORD = "A-Za-z0-9_"
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_JSON_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]*%)|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
    |(?P<sel>\$(?:\.[^\s.\[=!<>()&|]+|\[\d+\])*)|(?P<word>[^\s=!<>()&|"]+))""",
    re.VERBOSE,
)
_COMPARE = {"=", "!=", "<", "<=", ">", ">="}


def sql_str(text: str) -> str:
    quoted = "'" + text.replace("'", "''") + "'"
    # DuckDB 1.x ends a literal at a NUL byte: spell it as chr(0) there.
    if "\x00" not in text:
        return quoted
    return "(" + quoted.replace("\x00", "' || chr(0) || '") + ")"


def regex_sql(body: str) -> str:
    """A ``%regex%`` body as a SQL string, checked the way AWS restricts it.

    AWS accepts no parentheses in filter-pattern regexes; Python's ``re`` stands in for RE2 to
    reject a malformed expression up front (with back-references, which RE2 lacks).
    """
    try:
        if "(" in body or ")" in body or re.search(r"\\[1-9]", body):
            raise re.error("unsupported")
        re.compile(body)
    except re.error as exc:
        raise InvalidParameterException(f"Invalid regex in filter pattern: %{body}%") from exc
    return sql_str(body)


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sql_str(escaped.replace("*", "%"))


def compile_pattern(pattern: str | None, message: str = "message") -> str:
    """A DuckDB boolean expression over the column ``message`` matching ``pattern``."""
    text = (pattern or "").strip()
    if not text:
        return "TRUE"
    if text.startswith("{"):
        return _JsonParser(text, message).parse()
    if text.startswith("["):
        return _delimited(text, message)
    return _terms(text, message)


# ---------------------------------------------------------------- terms


def _terms(text: str, message: str) -> str:
    required: list[str] = []
    optional: list[str] = []
    for match in re.finditer(r'([-?]?)(?:"((?:[^"\\]|\\.)*)"|(%[^%]*%)|(\S+))', text):
        sign, phrase, regex, word = match.groups()
        if regex is not None:
            test = f"regexp_matches({message}, {regex_sql(regex[1:-1])})"
        elif phrase is not None:
            unescaped = phrase.replace('\\"', '"')
            test = f"contains({message}, {sql_str(unescaped)})"
        else:
            word_re = f"(^|[^{WORD}]){re.escape(word)}($|[^{WORD}])"
            test = f"(contains({message}, {sql_str(word)}) AND regexp_matches({message}, {sql_str(word_re)}))"
        if sign == "-":
            required.append(f"NOT {test}")
        elif sign == "?":
            optional.append(test)
        else:
            required.append(test)
    if optional:
        required.append("(" + " OR ".join(optional) + ")")
    return "(" + " AND ".join(required) + ")" if required else "TRUE"


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class _Value:
    text: str
    quoted: bool = False
    regex: bool = False

    @property
    def number(self) -> float | None:
        if self.quoted or self.regex or not _NUMBER.fullmatch(self.text):
            return None
        return float(self.text)


def _compare(text_sql: str, op: str, value: _Value, number_sql: str | None = None) -> str:
    """Compare the string ``text_sql`` (the field) with ``value`` under ``op``."""
    number = value.number
    cast = number_sql or f"TRY_CAST({text_sql} AS DOUBLE)"
    if op in ("<", "<=", ">", ">="):
        if number is None:
            raise InvalidParameterException(f"Invalid numeric value '{value.text}' for {op}")
        return f"coalesce({cast} {op} {number!r}, FALSE)"
    if value.regex:
        test = f"regexp_matches({text_sql}, {regex_sql(value.text[1:-1])})"
    elif "*" in value.text:
        test = f"{text_sql} LIKE {_like(value.text)} ESCAPE '\\'"
    elif number is not None:
        test = f"({text_sql} = {sql_str(value.text)} OR {cast} = {number!r})"
    else:
        test = f"{text_sql} = {sql_str(value.text)}"
    test = f"coalesce({test}, FALSE)"
    return f"({text_sql} IS NOT NULL AND NOT {test})" if op == "!=" else test


# ---------------------------------------------------------------- JSON patterns


def _pointer(selector: str) -> str:
    parts = re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:])
    return "".join(
        "/" + (key or index).replace("~", "~0").replace("/", "~1") for key, index in parts
    )


class _JsonParser:
    def __init__(self, text: str, message: str) -> None:
        if not text.endswith("}"):
            raise InvalidParameterException("Invalid metric filter pattern")
        self.message = message
        self.tokens: list[tuple[str, str]] = []
        body, position = text[1:-1], 0
        while position < len(body):
            match = _JSON_TOKEN.match(body, position)
            if not match or match.end() == position:
                if body[position:].strip():
                    raise InvalidParameterException("Invalid metric filter pattern")
                break
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.at = 0

    def parse(self) -> str:
        expr = self._or()
        if self.at != len(self.tokens):
            raise InvalidParameterException("Invalid metric filter pattern")
        return f"(json_valid({self.message}) AND {expr})"

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        self.at += 1
        return token

    def _or(self) -> str:
        parts = [self._and()]
        while self._peek() == ("op", "||"):
            self.at += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _and(self) -> str:
        parts = [self._unary()]
        while self._peek() == ("op", "&&"):
            self.at += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _unary(self) -> str:
        if self._peek() == ("op", "("):
            self.at += 1
            inner = self._or()
            if self._take() != ("op", ")"):
                raise InvalidParameterException("Invalid metric filter pattern")
            return inner
        kind, selector = self._take()
        if kind != "sel":
            raise InvalidParameterException("Invalid metric filter pattern")
        node = f"try(json_extract({self.message}, {sql_str(_pointer(selector))}))"
        kind, word = self._take()
        if kind == "word" and word.upper() == "IS":
            _, what = self._take()
            tests = {
                "TRUE": f"(json_type({node}) = 'BOOLEAN' AND {node}::VARCHAR = 'true')",
                "FALSE": f"(json_type({node}) = 'BOOLEAN' AND {node}::VARCHAR = 'false')",
                "NULL": f"coalesce(json_type({node}) = 'NULL', FALSE)",
            }
            if what.upper() not in tests:
                raise InvalidParameterException("Invalid metric filter pattern")
            return tests[what.upper()]
        if kind == "word" and word.upper() == "NOT":
            if self._take()[1].upper() != "EXISTS":
                raise InvalidParameterException("Invalid metric filter pattern")
            return f"({node} IS NULL)"
        if kind == "word" and word.upper() == "EXISTS":
            return f"({node} IS NOT NULL)"
        if kind != "op" or word not in _COMPARE:
            raise InvalidParameterException("Invalid metric filter pattern")
        value_kind, raw = self._take()
        if value_kind not in ("str", "word", "regex"):
            raise InvalidParameterException("Invalid metric filter pattern")
        value = _Value(
            raw[1:-1].replace('\\"', '"') if value_kind == "str" else raw,
            quoted=value_kind == "str",
            regex=value_kind == "regex",
        )
        scalar = f"CASE WHEN json_type({node}) NOT IN ('OBJECT', 'ARRAY', 'NULL') THEN {node} ->> '$' END"
        numeric = f"CASE WHEN json_type({node}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN ({node} ->> '$')::DOUBLE END"
        # '= 200' is a number test on numbers and a text test on strings (see _compare).
        return _compare(scalar, word, value, numeric)


# ---------------------------------------------------------------- space-delimited


_FIELD_TOKENS = r'"[^"]*"|\[[^\]]*\]|[^ ]+'
_CONDITION = re.compile(r'\s*(\w+)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|%[^%]*%|[^\s&|]+)\s*')


def _delimited(text: str, message: str) -> str:
    if not text.endswith("]"):
        raise InvalidParameterException("Invalid metric filter pattern")
    specs = [s.strip() for s in text[1:-1].split(",")]
    if any(not s for s in specs):
        raise InvalidParameterException("Invalid metric filter pattern")
    ellipses = [i for i, s in enumerate(specs) if s == "..."]
    names = [_name(s) for s in specs]
    if any(not n for i, n in enumerate(names) if i not in ellipses):
        raise InvalidParameterException("Invalid metric filter pattern")
    tokens = f"regexp_extract_all({message}, {sql_str(_FIELD_TOKENS)})"
    fixed = len(specs) - len(ellipses)
    positions: dict[str, str] = {}
    for i, name in enumerate(names):
        if i in ellipses:
            continue
        if not ellipses or i < ellipses[0]:
            index = str(i + 1)
        elif i > ellipses[-1]:
            index = f"-{len(specs) - i}"
        else:
            raise InvalidParameterException("Invalid metric filter pattern")
        positions[name] = (
            f"regexp_replace({tokens}[{index}], '^(?:\"(.*)\"|\\[(.*)\\])$', '\\1\\2', 's')"
        )
    tests = [f"len({tokens}) {'>=' if ellipses else '='} {fixed}"]
    for i, spec in enumerate(specs):
        rest = spec[len(names[i]) :].strip() if i not in ellipses else ""
        if rest:
            tests.append(_conditions(spec, positions))
    return "(" + " AND ".join(tests) + ")"


def _name(spec: str) -> str:
    match = re.match(r"\w+", spec)
    return match.group(0) if match else ""


def _conditions(spec: str, positions: dict[str, str]) -> str:
    alternatives = []
    for alternative in spec.split("||"):
        conjuncts = []
        for part in alternative.split("&&"):
            match = _CONDITION.fullmatch(part)
            if not match or match.group(1) not in positions:
                raise InvalidParameterException("Invalid metric filter pattern")
            name, op, raw = match.groups()
            value = _Value(
                raw[1:-1] if raw.startswith('"') else raw,
                quoted=raw.startswith('"'),
                regex=raw.startswith("%") and raw.endswith("%") and len(raw) > 1,
            )
            conjuncts.append(_compare(positions[name], op, value))
        alternatives.append("(" + " AND ".join(conjuncts) + ")")
    return "(" + " OR ".join(alternatives) + ")"

"""The command table: each pipe command's keyword → its parse function.

Commands that Logs Insights has but batchyard cannot run faithfully (ML ``pattern`` and
``anomaly``, ``diff`` and ``logcompare`` against other time ranges, ``join``, ``addtotals``
summary rows, ``tail``) parse to an :class:`UnsupportedQueryError` naming the command.
``filterIndex`` only narrows what AWS scans, so it runs as the equivalent ``filter``; ``head`` is
the deprecated alias of ``limit``.
"""

from __future__ import annotations

from collections.abc import Callable

from . import ast
from .errors import UnsupportedQueryError
from .parser import Parser
from .regex import translate
from .tokens import T, Token

CommandParser = Callable[[Parser, Token], ast.Command]

MAX_LIMIT = 100_000


def _fields(p: Parser, kw: Token) -> ast.Command:
    return ast.Fields(kw.value, kw.start, p.projection_list())


def _display(p: Parser, kw: Token) -> ast.Command:
    return ast.Display(kw.value, kw.start, p.projection_list())


def _filter(p: Parser, kw: Token) -> ast.Command:
    return ast.Filter(kw.value, kw.start, p.expression())


def _stats(p: Parser, kw: Token) -> ast.Command:
    aggregates = p.projection_list()
    by: tuple[ast.Projection, ...] = ()
    if p.accept_keyword("by"):
        by = p.projection_list()
    return ast.Stats(kw.value, kw.start, aggregates, by)


def _sort(p: Parser, kw: Token) -> ast.Command:
    keys = [_sort_key(p)]
    while p.at(T.COMMA):
        p.next()
        keys.append(_sort_key(p))
    return ast.Sort(kw.value, kw.start, tuple(keys))


def _sort_key(p: Parser) -> ast.SortKey:
    expr = p.expression()
    direction = p.accept_keyword("asc", "desc")
    return ast.SortKey(expr, direction is not None and direction.value.lower() == "desc")


def _limit(p: Parser, kw: Token) -> ast.Command:
    p.accept_keyword("any")
    tok = p.peek
    if tok.type is not T.NUMBER or "." in tok.value:
        raise p.error("a whole number")
    count = int(tok.value)
    if not 1 <= count <= MAX_LIMIT:
        raise p.error(f"a number of rows between 1 and {MAX_LIMIT}")
    p.next()
    return ast.Limit(kw.value, kw.start, count)


def _parse(p: Parser, kw: Token) -> ast.Command:
    source: ast.Expr | None = None
    if p.peek.type not in (T.STRING, T.REGEX):
        source = p._postfix()
    tok = p.peek
    if tok.type is T.STRING:
        p.next()
        glob = ast.String(p.node_text(tok.start), tok.start, tok.value)
        p.expect_keyword("as")
        names = [p.field_name().value]
        while p.at(T.COMMA):
            p.next()
            names.append(p.field_name().value)
        stars = tok.value.count("*")
        if stars != len(names):
            raise p.error(f"{stars} names after 'as', one per '*' in the pattern", tok)
        return ast.Parse(kw.value, kw.start, source, glob, tuple(names))
    if tok.type is T.REGEX:
        p.next()
        try:
            names = list(translate(tok.value, extract=True).names)
        except UnsupportedQueryError:
            raise
        except Exception as exc:  # re.error and friends: the regex itself is malformed
            raise p.error(f"a valid regular expression ({exc})", tok) from None
        if not names:
            raise p.error("a regular expression with named groups (?<name>...)", tok)
        return ast.Parse(kw.value, kw.start, source, ast.Regex(tok.value, tok.start, tok.value),
                         tuple(names))  # fmt: skip
    raise p.error("a glob string or a /regular expression/")


def _dedup(p: Parser, kw: Token) -> ast.Command:
    fields = [p.expression()]
    while p.at(T.COMMA):
        p.next()
        fields.append(p.expression())
    return ast.Dedup(kw.value, kw.start, tuple(fields))


def _unnest(p: Parser, kw: Token) -> ast.Command:
    operand = p.expression()
    p.expect_keyword("into")
    return ast.Unnest(kw.value, kw.start, operand, p.field_name().value)


def _lookup(p: Parser, kw: Token) -> ast.Command:
    table_token = p.field_name("a lookup table name")
    table = table_token.value
    keys = [_lookup_key(p)]
    while p.at(T.COMMA):
        p.next()
        keys.append(_lookup_key(p))
    outputs: tuple[ast.Projection, ...] = ()
    if p.accept_keyword("output"):
        items = [_output(p)]
        while p.at(T.COMMA):
            p.next()
            items.append(_output(p))
        outputs = tuple(items)
    return ast.Lookup(
        kw.value,
        kw.start,
        table,
        table_token.start,
        p.text[table_token.start : table_token.end],
        tuple(keys),
        outputs,
    )


def _lookup_key(p: Parser) -> ast.LookupKey:
    table_field = p.field_name("a lookup table field").value
    log_field = p.field_name("a log field").value if p.accept_keyword("as") else table_field
    return ast.LookupKey(table_field, log_field)


def _output(p: Parser) -> ast.Projection:
    tok = p.field_name("an output field")
    alias = p.field_name("an alias").value if p.accept_keyword("as") else None
    return ast.Projection(ast.Field(p.text[tok.start : tok.end], tok.start, tok.value), alias)


def _filter_index(p: Parser, kw: Token) -> ast.Command:
    return ast.Filter(kw.value, kw.start, p.expression())


def _unmask(p: Parser, kw: Token) -> ast.Command:
    # As a command, `unmask` lists fields to show unmasked; batchyard never masks data.
    return ast.Fields(kw.value, kw.start, p.projection_list())


def _unsupported(reason: str) -> CommandParser:
    def parse(p: Parser, kw: Token) -> ast.Command:
        raise UnsupportedQueryError(kw.value.lower(), reason)

    return parse


COMMANDS: dict[str, CommandParser] = {
    "fields": _fields,
    "display": _display,
    "filter": _filter,
    "stats": _stats,
    "sort": _sort,
    "limit": _limit,
    "head": _limit,
    "parse": _parse,
    "dedup": _dedup,
    "unnest": _unnest,
    "lookup": _lookup,
    "filterindex": _filter_index,
    "unmask": _unmask,
    "pattern": _unsupported("ML pattern clustering is not available in batchyard"),
    "anomaly": _unsupported("ML anomaly detection is not available in batchyard"),
    "diff": _unsupported("comparison with a previous time period is not available in batchyard"),
    "logcompare": _unsupported("comparison with a baseline period is not available in batchyard"),
    "join": _unsupported("joins across log groups are not available in batchyard"),
    "addtotals": _unsupported("total rows are not available in batchyard"),
    "tail": _unsupported("the deprecated tail command is not available; use sort and limit"),
}


def parse_source(p: Parser) -> ast.SourceSpec:
    """``SOURCE logGroups(namePrefix: ['a', 'b'], class: ['STANDARD'], accountIdentifiers: [...])``;
    ``SOURCE logGroups()`` selects every log group (a SourceSpec with no prefixes)."""
    p.next()  # SOURCE
    name = p.field_name("logGroups")
    if name.value.lower() != "loggroups" or not p.at(T.LPAREN):
        raise UnsupportedQueryError("source", "only SOURCE logGroups(...) is supported")
    p.next()
    prefixes: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    log_class: str | None = None
    while not p.at(T.RPAREN):
        key = p.field_name("a logGroups parameter")
        p.expect(T.COLON, "':'")
        value = p.expression()
        strings = _strings(p, value)
        lowered = key.value.lower()
        if lowered == "nameprefix":
            prefixes = strings
        elif lowered in ("accountidentifiers", "accountidentifier"):
            accounts = strings
        elif lowered in ("class", "loggroupclass"):
            log_class = strings[0] if strings else None
        else:
            raise p.error("namePrefix, class or accountIdentifiers", key)
        if p.at(T.COMMA):
            p.next()
        elif not p.at(T.RPAREN):
            raise p.error("',' or ')'")
    p.next()
    return ast.SourceSpec(prefixes, log_class, accounts)


def _strings(p: Parser, value: ast.Expr) -> tuple[str, ...]:
    items = value.items if isinstance(value, ast.ListLit) else (value,)
    out: list[str] = []
    for item in items:
        if isinstance(item, ast.String):
            out.append(item.value)
        elif isinstance(item, ast.Field):  # bare words, e.g. class: STANDARD
            out.append(item.name)
        else:
            raise p.error("a string or a list of strings", p.tokens[p.i - 1])
    return tuple(out)

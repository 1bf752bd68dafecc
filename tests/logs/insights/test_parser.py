"""Tokenizer and parser: structure, precedence, names, and located errors."""

from __future__ import annotations

import pytest

from batchyard.logs.insights import ast
from batchyard.logs.insights.errors import MalformedQueryException, UnsupportedQueryError
from batchyard.logs.insights.parser import parse
from batchyard.logs.insights.tokens import T, tokenize


def only_filter(query: str) -> ast.Expr:
    command = parse(query).commands[0]
    assert isinstance(command, ast.Filter)
    return command.condition


def test_tokens_regex_versus_division() -> None:
    kinds = [t.type for t in tokenize("filter a / 2 > 1 and b like /x\\/y/")]
    assert kinds.count(T.REGEX) == 1
    regex = next(t for t in tokenize("filter b like /x\\/y/") if t.type is T.REGEX)
    assert regex.value == "x/y"


def test_tokens_periods_and_backticks() -> None:
    toks = tokenize("stats count(*) by bin(5m), `foo-bar`.baz, tags.0 # comment")
    assert [t.value for t in toks if t.type is T.PERIOD] == ["5m"]
    names = [t.value for t in toks if t.type is T.IDENT]
    assert "foo-bar.baz" in names and "tags.0" in names
    assert not any("comment" in t.value for t in toks)


def test_keywords_are_case_insensitive() -> None:
    query = parse("FIELDS a AS b | STATS COUNT(*) BY b | SORT b DESC | LIMIT 5")
    assert [type(c).__name__ for c in query.commands] == ["Fields", "Stats", "Sort", "Limit"]
    assert query.limit == 5


def test_precedence() -> None:
    expr = only_filter("filter a + b * c ^ 2 ^ 3 > 1 or not x = 1 and y = 2")
    assert isinstance(expr, ast.Binary) and expr.op == "or"
    left = expr.left
    assert isinstance(left, ast.Binary) and left.op == ">"
    add = left.left
    assert isinstance(add, ast.Binary) and add.op == "+"
    mul = add.right
    assert isinstance(mul, ast.Binary) and mul.op == "*"
    power = mul.right
    assert isinstance(power, ast.Binary) and power.op == "^"
    assert isinstance(power.right, ast.Binary) and power.right.op == "^"  # right-associative
    right = expr.right
    assert isinstance(right, ast.Binary) and right.op == "and"
    assert isinstance(right.left, ast.Unary) and right.left.op == "not"


def test_like_in_and_negations() -> None:
    expr = only_filter("filter a not like /x/ and b not in [1, 'two'] and c =~ /y/")
    assert isinstance(expr, ast.Binary)
    inner = expr.left
    assert isinstance(inner, ast.Binary)
    like = inner.left
    assert isinstance(like, ast.Like) and like.negated and isinstance(like.pattern, ast.Regex)
    not_in = inner.right
    assert isinstance(not_in, ast.In) and not_in.negated and len(not_in.items) == 2
    assert isinstance(expr.right, ast.Like) and not expr.right.negated


def test_unaliased_names_are_the_source_text() -> None:
    stats = parse("stats count(*), avg(x)  by bin(5m)").commands[0]
    assert isinstance(stats, ast.Stats)
    assert [p.name for p in stats.aggregates] == ["count(*)", "avg(x)"]
    assert [p.name for p in stats.by] == ["bin(5m)"]


def test_parse_glob_and_regex_names() -> None:
    glob = parse("parse @message 'a=* b=*' as x, y").commands[0]
    assert isinstance(glob, ast.Parse) and glob.names == ("x", "y")
    regex = parse("parse /(?<user>\\w+) (?<id>\\d+)/").commands[0]
    assert isinstance(regex, ast.Parse) and regex.names == ("user", "id") and regex.source is None


def test_source_spec() -> None:
    query = parse(
        "SOURCE logGroups(namePrefix: ['/aws/a', '/aws/b'], class: 'STANDARD') | fields x"
    )
    assert query.source == ast.SourceSpec(("/aws/a", "/aws/b"), "STANDARD", ())


def test_lookup_and_unnest() -> None:
    lookup = parse("lookup users id as user_id OUTPUT name, team as squad").commands[0]
    assert isinstance(lookup, ast.Lookup)
    assert lookup.keys == (ast.LookupKey("id", "user_id"),)
    assert [p.name for p in lookup.outputs] == ["name", "squad"]
    unnest = parse("unnest jsonParse(x) into item").commands[0]
    assert isinstance(unnest, ast.Unnest) and unnest.into == "item"


@pytest.mark.parametrize(
    ("query", "line", "column", "text"),
    [
        ("fields a |\n  count()", 2, 3, "count"),
        ("fields a, ", 1, 11, ""),
        ("filter a = 'open", 1, 12, "'open"),
        ("stats count(*) by bin(5x)", 1, 23, "5x"),
        ("parse @message 'a=* b=*' as x", 1, 16, "'a=* b=*'"),
        ("limit 0", 1, 7, "0"),
        ("fields a ! b", 1, 10, "!"),
    ],
)
def test_errors_name_line_column_and_text(query: str, line: int, column: int, text: str) -> None:
    with pytest.raises(MalformedQueryException) as info:
        parse(query)
    assert (info.value.line, info.value.column, info.value.text) == (line, column, text)
    assert f"at line {line}, column {column}" in str(info.value)


@pytest.mark.parametrize("command", ["pattern", "diff", "anomaly"])
def test_unsupported_commands_are_named(command: str) -> None:
    with pytest.raises(UnsupportedQueryError) as info:
        parse(f"fields @message | {command} @message")
    assert info.value.command == command
    assert command in str(info.value)


def test_source_forms_of_the_documentation() -> None:
    assert parse("SOURCE logGroups()").source == ast.SourceSpec()
    query = parse(
        "SOURCE logGroups(accountIdentifiers:['111122223333'], class: ['INFREQUENT_ACCESS'])"
    )
    assert query.source == ast.SourceSpec((), "INFREQUENT_ACCESS", ("111122223333",))
    assert parse(
        "SOURCE logGroups(logGroupClass: ['STANDARD']) | fields x"
    ).source == ast.SourceSpec((), "STANDARD", ())

"""Property tests: arbitrary text only ever raises our own errors, at positions in the input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from batchyard.logs import insights

from .conftest import Events

WORDS = ["fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup", "unnest", "lookup",
         "by", "as", "like", "not", "in", "and", "or", "desc", "count(*)", "bin(5m)", "@message", "|",
         ",", "(", ")", "[", "]", "/x/", "'s'", '"d"', "`b`", "1", "2.5", "=", "!=", "<", "+", "*", "^",
         "%", "=~", "#c\n", "\n", " ", "SOURCE", "logGroups(namePrefix: ['a'])", "5m", "earliest(x)",
         "pct(x, 50)", "into", "OUTPUT", "{", "}", "\\", "-", "datefloor(@timestamp, 1h)"]  # fmt: skip

# Query fragments that mostly compile, to exercise the generator and the SQL it writes.
EXEC_WORDS = ["| fields x", "| fields s", "| filter x > 0", "| filter s like 'a'", "| filter s like /\\d+/",
              "| stats count(*) by s", "| stats avg(x) as a, max(s) as m by bin(1h)", "| sort x desc",
              "| sort s", "| limit 3", "| dedup s", "| parse s '* *' as p, q", "| parse /(?<w>[a-z]+)/",
              "| fields x + 1 as y", "| fields concat(s, x) as c", "| fields jsonParse(s) as j",
              "| unnest s into u", "| display x, s", "| stats sortsFirst(s), pct(x, 50), stddev(x)",
              "| fields datefloor(@timestamp, 1mo) as d", "| filter x in [1, 'oops'] or not ispresent(s)",
              "| fields isIpInSubnet(s, '10.0.0.0/8') as ip", "| stats earliest(x), latest(s) by s",
              "| filter x != s", "| fields strlen(s) / x as r", "| fields substr(s, 1, 2) as t"]  # fmt: skip

queries = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join),
)


def check_position(text: str, error: insights.MalformedQueryException) -> None:
    lines = text.split("\n")
    assert 1 <= error.line <= len(lines)
    # The column may point one past the end of a line (an unexpected end of query).
    assert 1 <= error.column <= len(lines[error.line - 1]) + 1
    offset = sum(len(line) + 1 for line in lines[: error.line - 1]) + error.column - 1
    assert text[offset:].startswith(error.text)


@settings(max_examples=400, deadline=None)
@given(queries)
def test_parse_raises_only_our_errors(text: str) -> None:
    try:
        insights.parse(text)
    except insights.MalformedQueryException as error:
        check_position(text, error)
    except insights.UnsupportedQueryError:
        pass


@settings(max_examples=300, deadline=None)
@given(queries)
def test_compile_raises_only_our_errors(text: str) -> None:
    try:
        compiled = insights.compile(text, fields={"x": '"x"'})
    except insights.MalformedQueryException as error:
        check_position(text, error)
    except insights.UnsupportedQueryError:
        pass
    else:
        assert compiled.sql("events").startswith(("WITH", "SELECT"))


_EXEC = Events(
    [{"x": "1", "s": "abc"}, {"x": "oops"}, {"s": "2023 GET /a 200"}, "plain text", {"x": "-2.5"}]
)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(EXEC_WORDS), min_size=1, max_size=8).map(lambda w: " ".join(w)[2:]))
def test_compiled_queries_execute(text: str) -> None:
    """Whatever compiles must also run in DuckDB (no type errors, no bad SQL)."""
    try:
        compiled = insights.compile(text, fields=_EXEC.fields)
    except (insights.MalformedQueryException, insights.UnsupportedQueryError):
        return
    rows = _EXEC.con.execute(compiled.sql("events")).fetchall()
    insights.render_rows(compiled, rows)
    _EXEC.con.execute(compiled.matched_sql("events")).fetchall()


def test_deep_nesting_is_a_malformed_query_not_a_crash() -> None:
    for text in ["fields " + "(" * 400 + "1" + ")" * 400, "fields " + "-" * 600 + "1 as x"]:
        try:
            insights.compile(text, fields={})
        except insights.MalformedQueryException as error:
            check_position(text, error)

"""Commands compiled to SQL and executed in DuckDB over a small event table."""

from __future__ import annotations

from typing import Any

import pytest

from batchyard.logs import insights

from .conftest import Events

RUNBOOK = """fields @timestamp, execution_arn, details.output
| parse details.output '{"commands":[*]' as commands
| filter details.output like "commands"
| stats earliest(@timestamp) as startTime, latest(@timestamp) as endTime by commands, execution_arn
| fields abs(endTime - startTime) / 1000 / 60 as minutes, datefloor(startTime, 10m) as execute_time
| display execute_time, commands, minutes, execution_arn
| sort minutes desc"""


def sfn(arn: str, kind: str, output: Any = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": "RunJob"}
    if output is not None:
        details["output"] = output
    return {"type": kind, "execution_arn": arn, "details": details}


def test_runbook_query_runs_verbatim() -> None:
    started = '{"commands":["rake a"],"exitCode":0}'
    events = Events(
        [
            sfn("arn:1", "TaskStateEntered"),
            sfn("arn:1", "PassStateExited", started),  # t = 1 s
            sfn("arn:2", "PassStateExited", '{"commands":["rails r X","-v"]}'),  # t = 2 s
            sfn("arn:1", "TaskStateExited", started),  # t = 3 s
            sfn(
                "arn:1", "ExecutionSucceeded", "no commands here"
            ),  # matches the filter, not the glob
            sfn("arn:2", "TaskStateExited", '{"commands":["rails r X","-v"]}'),
        ],
        step_ms=90_000,
    )
    rows = events.query(RUNBOOK)
    assert rows == [
        {"execute_time": "2023-11-14 22:10:00.000", "commands": '"rails r X","-v"', "minutes": "4.5", "execution_arn": "arn:2"},
        {"execute_time": "2023-11-14 22:10:00.000", "commands": '"rake a"', "minutes": "3", "execution_arn": "arn:1"},
        {"execute_time": "2023-11-14 22:10:00.000", "minutes": "0", "execution_arn": "arn:1"},
    ]  # fmt: skip
    # recordsMatched: the events that pass the filter (stats does not reduce it).
    assert events.matched(RUNBOOK) == 5


def test_default_columns_and_order() -> None:
    events = Events(["a", "b", "c"])
    rows = events.query("filter @message != 'b'")
    assert rows == [
        {"@timestamp": "2023-11-14 22:13:22.000", "@message": "c"},
        {"@timestamp": "2023-11-14 22:13:20.000", "@message": "a"},
    ]


def test_fields_accumulate_and_display_wins() -> None:
    events = Events([{"a": 1, "b": "x"}])
    assert events.query("fields a | fields b, a + 1 as c") == [{"a": "1", "b": "x", "c": "2"}]
    assert events.query("fields a, b | display b | display a") == [{"a": "1"}]


def test_ptr_is_an_extra_column_for_event_rows() -> None:
    events = Events(["one"])
    compiled = insights.compile("fields @message", fields={})
    rows = events.con.execute(compiled.sql("events")).fetchall()
    assert compiled.has_ptr
    assert insights.render_rows(compiled, rows, include_ptr=True) == [
        {"@message": "one", "@ptr": "ptr-0"}
    ]
    stats = insights.compile("stats count(*)", fields={})
    assert not stats.has_ptr


def test_stats_unaliased_names_keys_first_and_bins() -> None:
    events = Events(["x"] * 7, step_ms=60_000)
    rows = events.query("stats count(*) by bin(5m)")
    assert rows == [
        {"bin(5m)": "2023-11-14 22:10:00.000", "count(*)": "2"},
        {"bin(5m)": "2023-11-14 22:15:00.000", "count(*)": "5"},
    ]


def test_expressions_of_aggregates_and_aggregates_of_expressions() -> None:
    events = Events([{"n": v} for v in (2, 4, 9)])
    rows = events.query("stats sum(n) / count(*) as mean, max(n * 2) as top, count(*) - 1")
    assert rows == [{"mean": "5", "top": "18", "count(*) - 1": "2"}]


def test_bare_field_in_stats_must_be_aggregated() -> None:
    with pytest.raises(insights.MalformedQueryException) as info:
        insights.compile("stats count(*) + n", fields={"n": '"n"'})
    assert info.value.text == "n"


def test_two_stats_and_filter_after_stats() -> None:
    events = Events([{"k": k} for k in "aabbbc"])
    rows = events.query(
        "stats count(*) as c by k | filter c > 1 | stats count(*) as groups, sum(c) as total"
    )
    assert rows == [{"groups": "2", "total": "5"}]


def test_stats_without_events_returns_no_row() -> None:
    events = Events(["a"])
    assert events.query("filter @message = 'zzz' | stats count(*)") == []


def test_sort_several_keys_and_limit() -> None:
    events = Events([{"g": g, "n": n} for g, n in [("b", 1), ("a", 2), ("b", 3), ("a", 1)]])
    rows = events.query("fields g, n | sort g asc, n desc | limit 3")
    assert rows == [{"g": "a", "n": "2"}, {"g": "a", "n": "1"}, {"g": "b", "n": "3"}]


def test_default_limit_and_query_limit() -> None:
    events = Events([str(i) for i in range(30)])
    assert len(events.query("fields @message", default_limit=12)) == 12
    assert len(events.query("fields @message | limit 5", default_limit=12)) == 5


def test_parse_glob_keeps_unmatched_events() -> None:
    events = Events(["user=ann id=7 rest of line", "nothing", "user=bob id=42"])
    rows = events.query(
        "parse @message 'user=* id=*' as user, id | sort @timestamp asc | display user, id"
    )
    assert rows == [{"user": "ann", "id": "7 rest of line"}, {}, {"user": "bob", "id": "42"}]


def test_parse_glob_lazy_star_stops_at_first_match() -> None:
    events = Events(["[a] [b] c"])
    assert events.query("parse '[*] *' as x, y | display x, y") == [{"x": "a", "y": "[b] c"}]


def test_parse_regex_named_groups_and_unnamed_groups() -> None:
    events = Events(["GET /a 200 12ms", "POST /b 500 7ms", "garbage"])
    rows = events.query(
        "parse @message /(?<method>[A-Z]+) (\\/\\w+) (?<status>\\d+) (?<ms>\\d+)ms/ "
        "| filter ispresent(status) | stats sum(ms) as total by method | sort method"
    )
    assert rows == [{"method": "GET", "total": "12"}, {"method": "POST", "total": "7"}]


def test_parse_of_another_field_and_chained_parse() -> None:
    events = Events([{"msg": "k=v1;x"}])
    rows = events.query(
        "parse msg 'k=*;*' as kv, tail | parse kv 'v*' as digit | display digit, tail"
    )
    assert rows == [{"digit": "1", "tail": "x"}]


def test_dedup_keeps_first_in_order_and_all_nulls() -> None:
    events = Events(
        [{"k": "a", "n": 1}, {"k": "a", "n": 2}, {"n": 3}, {"n": 4}, {"k": "b", "n": 5}]
    )
    rows = events.query("fields k, n | dedup k")
    assert rows == [{"k": "b", "n": "5"}, {"n": "4"}, {"n": "3"}, {"k": "a", "n": "2"}]
    rows = events.query("fields k, n | sort n asc | dedup k")
    assert rows == [{"k": "a", "n": "1"}, {"n": "3"}, {"n": "4"}, {"k": "b", "n": "5"}]


def test_unnest_of_json_lists() -> None:
    events = Events([{"tags": '["x","y"]'}, {"tags": "[]"}, {"tags": '"solo"'}, {"other": 1}])
    rows = events.query(
        "fields jsonParse(tags) as js | unnest js into tag | sort @timestamp asc | display tag"
    )
    assert rows == [{"tag": "x"}, {"tag": "y"}, {"tag": "solo"}]


def test_json_parse_access_and_stringify() -> None:
    events = Events([{"body": '{"a": {"b": 5}, "list": [1, {"c": "z"}]}'}])
    rows = events.query(
        "fields jsonParse(body) as js | fields js.a.b as ab, js.list[1] as second, "
        "jsonStringify(js.a) as text | display ab, second, text"
    )
    assert rows == [{"ab": "5", "second": '{"c":"z"}', "text": '{"b":5}'}]


def test_lookup_enriches_events() -> None:
    events = Events([{"user": "u1"}, {"user": "u2"}, {"user": "u9"}])
    events.con.execute("CREATE TABLE lt_users (id VARCHAR, name VARCHAR, team VARCHAR)")
    events.con.execute("INSERT INTO lt_users VALUES ('u1', 'Ann', 'core'), ('u2', 'Bob', 'web')")
    tables = {"users": insights.LookupTableInfo("lt_users", ("id", "name", "team"))}
    rows = events.query("lookup users id as user OUTPUT name, team as squad | sort user | display user, name, squad",
                        lookup_tables=tables)  # fmt: skip
    assert rows == [{"user": "u1", "name": "Ann", "squad": "core"}, {"user": "u2", "name": "Bob", "squad": "web"},
                    {"user": "u9"}]  # fmt: skip
    with pytest.raises(insights.MalformedQueryException):
        events.query("lookup nope id as user", lookup_tables=tables)


def test_source_spec_is_exposed() -> None:
    query = insights.parse("SOURCE logGroups(namePrefix: ['/aws/x']) | stats count(*)")
    assert query.source is not None and query.source.name_prefixes == ("/aws/x",)
    events = Events(["a", "b"])
    assert events.query(query.text) == [{"count(*)": "2"}]


def test_filter_index_acts_as_filter() -> None:
    events = Events([{"k": "a"}, {"k": "b"}])
    assert events.query("filterIndex k = 'a' | fields k") == [{"k": "a"}]


def test_matched_ignores_limit_dedup_and_post_stats_filters() -> None:
    events = Events([{"k": k} for k in "aabbc"])
    assert events.matched("filter k != 'c' | dedup k | limit 1") == 4
    assert events.matched("stats count(*) as n by k | filter n > 1") == 5


def test_unaliased_stats_columns_can_be_referenced_by_their_text() -> None:
    events = Events([{"k": k} for k in "abbccc"])
    rows = events.query(
        "stats count(*) by k | sort count(*) desc | fields k, count(*) * 2 as twice"
    )
    assert rows == [{"k": "c", "twice": "6"}, {"k": "b", "twice": "4"}, {"k": "a", "twice": "2"}]


def test_json_access_with_backticked_keys_and_grouping() -> None:
    events = Events([{"body": '{"attributes": {"special.char": "x"}, "status_code": 200}'},
                     {"body": '{"attributes": {}, "status_code": 500}'},
                     {"body": '{"status_code": 200}'}])  # fmt: skip
    rows = events.query(
        "fields jsonParse(body) as js | sort @timestamp asc | display js.attributes.`special.char`"
    )
    assert rows == [{"js.attributes.special.char": "x"}, {}, {}]
    rows = events.query("fields jsonParse(body) as js | stats count() by js.status_code")
    assert rows == [
        {"js.status_code": "200", "count()": "2"},
        {"js.status_code": "500", "count()": "1"},
    ]


@pytest.mark.parametrize(
    ("glob", "names", "expected"),
    [
        ("a=*;b=*", "x, y", [{"x": "", "y": "2"}, {"x": "1;", "y": "3"}, {}]),
        ("a=**;", "x, y", [{"x": "", "y": ""}, {"x": "", "y": "1"}, {}]),
        ("*", "x", [{"x": "a=;b=2"}, {"x": "a=1;;b=3"}, {"x": "zzz"}]),
        ("*=*", "x, y", [{"x": "a", "y": ";b=2"}, {"x": "a", "y": "1;;b=3"}, {}]),
    ],
)
def test_glob_captures_may_be_empty(glob: str, names: str, expected: list[dict[str, str]]) -> None:
    events = Events(["a=;b=2", "a=1;;b=3", "zzz"])
    query = f"parse @message '{glob}' as {names} | sort @timestamp asc | display {names}"
    assert events.query(query) == expected

"""LogStore.query end to end: the source relation, time range, SOURCE, statistics, @ptr."""

from __future__ import annotations

import json

import pytest

from batchyard.logs import LogStore, MalformedQueryException, ResourceNotFoundException

T = 1_800_000_000  # epoch seconds


@pytest.fixture(scope="module")
def store() -> LogStore:
    s = LogStore(clock=lambda: (T + 100) * 1000)
    for group, stream, offsets in [
        ("/svc/api", "a", [0, 1, 2]),
        ("/svc/api", "b", [3]),
        ("/svc/worker", "w", [4, 5]),
        ("/other", "o", [6]),
    ]:
        if group not in s.group_names():
            s.create_log_group(group)
        s.create_log_stream(group, stream)
        s.put_log_events(
            group,
            stream,
            [
                {
                    "timestamp": (T + i) * 1000 + 250,
                    "message": json.dumps({"n": i, "level": "ERROR" if i % 2 else "INFO"}),
                }
                for i in offsets
            ],
        )
    return s


def test_rows_are_strings_in_display_order_with_system_fields(store: LogStore) -> None:
    result = store.query(
        "fields @timestamp, @logStream, @log, n | sort n asc", ["/svc/api"], T, T + 10
    )
    assert result.status == "Complete"
    assert [{k: v for k, v in r.items() if k != "@ptr"} for r in result.rows] == [
        {
            "@timestamp": f"2027-01-15 08:00:0{i}.250",
            "@logStream": stream,
            "@log": "123456789012:/svc/api",
            "n": str(i),
        }
        for i, stream in [(0, "a"), (1, "a"), (2, "a"), (3, "b")]
    ]
    record = store.get_log_record(result.rows[3]["@ptr"])
    assert record["@message"] == '{"n": 3, "level": "ERROR"}'
    assert record["@logStream"] == "b" and record["n"] == "3"


def test_time_range_is_inclusive_seconds_and_statistics_count(store: LogStore) -> None:
    result = store.query(
        "filter level = 'ERROR' | stats count(*) as errors", ["/svc/api"], T + 1, T + 2
    )
    assert result.rows == [{"errors": "1"}]
    assert result.statistics["recordsScanned"] == 1.0  # T+1.250 only: T+2.250 is after T+2
    assert result.statistics["recordsMatched"] == 1.0
    assert result.statistics["bytesScanned"] == float(len('{"n": 1, "level": "ERROR"}'))


def test_source_selects_groups_by_prefix(store: LogStore) -> None:
    result = store.query(
        "SOURCE logGroups(namePrefix: ['/svc']) | stats count(*) as n by @log", [], T, T + 10
    )
    assert sorted((r["@log"], r["n"]) for r in result.rows) == [
        ("123456789012:/svc/api", "4"),
        ("123456789012:/svc/worker", "2"),
    ]


def test_source_without_prefixes_selects_every_group(store: LogStore) -> None:
    result = store.query("SOURCE logGroups() | stats count(*) as n by @log", [], T, T + 10)
    assert sorted((r["@log"], r["n"]) for r in result.rows) == [
        ("123456789012:/other", "1"),
        ("123456789012:/svc/api", "4"),
        ("123456789012:/svc/worker", "2"),
    ]
    # The SOURCE wins over the groups passed beside it.
    only = store.query("SOURCE logGroups() | stats count(*) as n", ["/other"], T, T + 10)
    assert only.rows == [{"n": "7"}]


def test_errors(store: LogStore) -> None:
    with pytest.raises(MalformedQueryException):
        store.query("fields | |", ["/svc/api"], T, T + 10)
    with pytest.raises(ResourceNotFoundException):
        store.query("fields @message", ["/missing"], T, T + 10)


def test_lookup_table_enriches_rows(store: LogStore) -> None:
    store.create_lookup_table("levels", "level,severity\nERROR,high\nINFO,low\n")
    result = store.query(
        "lookup levels level OUTPUT severity | stats count(*) as c by severity",
        ["/svc/worker"],
        T,
        T + 10,
    )
    assert sorted((r["severity"], r["c"]) for r in result.rows) == [("high", "1"), ("low", "1")]


def test_records_matched_ignores_trailing_parse_but_counts_filters(store: LogStore) -> None:
    result = store.query(
        "filter level = 'ERROR' | parse @message /\"n\": (?<num>[0-9]+)/ | fields num",
        ["/svc/api", "/svc/worker"],
        T,
        T + 10,
    )
    assert sorted(r["num"] for r in result.rows) == ["1", "3", "5"]
    assert result.statistics["recordsMatched"] == 3.0
    assert result.statistics["recordsScanned"] == 6.0


def test_a_replaced_lookup_table_is_seen_by_the_next_query() -> None:
    s = LogStore(clock=lambda: (T + 100) * 1000)
    s.create_log_group("g")
    s.create_log_stream("g", "s")
    s.put_log_events("g", "s", [{"timestamp": T * 1000, "message": '{"level": "ERROR"}'}])
    query = "lookup levels level OUTPUT severity | fields severity"
    s.create_lookup_table("levels", "level,severity\nERROR,high\n")
    assert [r["severity"] for r in s.query(query, ["g"], T, T + 1).rows] == ["high"]
    s.create_lookup_table("levels", "level,severity\nERROR,page-someone\n")
    assert [r["severity"] for r in s.query(query, ["g"], T, T + 1).rows] == ["page-someone"]

"""LogStore: groups, streams, ingestion round trips, tokens, retention, durability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchyard.logs import (
    InvalidParameterException,
    LogStore,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)

NOW = 1_800_000_000_000


class Clock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def store() -> LogStore:
    s = LogStore(clock=Clock())
    s.create_log_group("/app/web")
    s.create_log_stream("/app/web", "i-1")
    return s


def test_group_lifecycle_and_errors(store: LogStore) -> None:
    with pytest.raises(ResourceAlreadyExistsException) as exc:
        store.create_log_group("/app/web")
    assert (exc.value.code, exc.value.message) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )
    item = store.describe_log_groups()["logGroups"][0]
    assert item == {
        "logGroupName": "/app/web",
        "creationTime": NOW,
        "metricFilterCount": 0,
        "arn": "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:*",
        "storedBytes": 0,
        "logGroupClass": "STANDARD",
        "logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/app/web",
        "deletionProtectionEnabled": False,
    }
    store.delete_log_group("/app/web")
    assert store.describe_log_groups() == {"logGroups": []}
    with pytest.raises(
        ResourceNotFoundException, match=r"The specified log group does not exist\."
    ):
        store.delete_log_group("/app/web")


def test_invalid_names() -> None:
    store = LogStore()
    with pytest.raises(InvalidParameterException) as exc:
        store.create_log_group("bad name")
    assert exc.value.message.startswith(
        "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy"
    )
    with pytest.raises(InvalidParameterException, match="length less than or equal to 512"):
        store.create_log_group("a" * 513)


def test_describe_groups_prefix_and_pagination() -> None:
    store = LogStore()
    for name in ["b/2", "a/1", "b/1", "b/3", "c"]:
        store.create_log_group(name)
    seen: list[str] = []
    token = None
    while True:
        page = store.describe_log_groups("b/", limit=2, next_token=token)
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if token is None:
            break
    assert seen == ["b/1", "b/2", "b/3"]
    pattern = store.describe_log_groups(log_group_name_pattern="/2")["logGroups"]
    assert [g["logGroupName"] for g in pattern] == ["b/2"]
    with pytest.raises(InvalidParameterException, match="mutually exclusive"):
        store.describe_log_groups("b/", log_group_name_pattern="1")
    with pytest.raises(InvalidParameterException, match=r"The specified nextToken is invalid\."):
        store.describe_log_groups(next_token="garbage!")
    with pytest.raises(InvalidParameterException, match="less than or equal to 50"):
        store.describe_log_groups(limit=51)


def test_streams_describe_order_and_errors(store: LogStore) -> None:
    store.create_log_stream("/app/web", "i-0")
    store.create_log_stream("/app/web", "i-2")
    with pytest.raises(
        ResourceAlreadyExistsException, match="The specified log stream already exists"
    ):
        store.create_log_stream("/app/web", "i-1")
    with pytest.raises(ResourceNotFoundException, match="log group does not exist"):
        store.create_log_stream("/nope", "x")
    store.put_log_events("/app/web", "i-0", [{"timestamp": NOW + 50, "message": "late"}])
    store.put_log_events("/app/web", "i-2", [{"timestamp": NOW + 10, "message": "early"}])
    by_name = store.describe_log_streams("/app/web", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in by_name] == ["i-2", "i-1", "i-0"]
    by_time = store.describe_log_streams("/app/web", order_by="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in by_time["logStreams"]][:2] == ["i-0", "i-2"]
    page = store.describe_log_streams("/app/web", log_stream_name_prefix="i-", limit=1)
    assert [s["logStreamName"] for s in page["logStreams"]] == ["i-0"]
    second = store.describe_log_streams(
        "/app/web", log_stream_name_prefix="i-", limit=1, next_token=page["nextToken"]
    )
    assert [s["logStreamName"] for s in second["logStreams"]] == ["i-1"]
    stream = by_name[2]
    assert stream == {
        "logStreamName": "i-0",
        "creationTime": NOW,
        "firstEventTimestamp": NOW + 50,
        "lastEventTimestamp": NOW + 50,
        "lastIngestionTime": NOW,
        "uploadSequenceToken": stream["uploadSequenceToken"],
        "arn": "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:log-stream:i-0",
        "storedBytes": 0,
    }
    with pytest.raises(InvalidParameterException, match="Cannot order by LastEventTime"):
        store.describe_log_streams("/app/web", order_by="LastEventTime", log_stream_name_prefix="i")
    store.delete_log_stream("/app/web", "i-0")
    with pytest.raises(
        ResourceNotFoundException, match=r"The specified log stream does not exist\."
    ):
        store.delete_log_stream("/app/web", "i-0")


def test_put_get_round_trip_keeps_everything_in_order(store: LogStore) -> None:
    events = [{"timestamp": NOW + i // 3, "message": f"line {i} ✓"} for i in range(2500)]
    for start in range(0, 2500, 1000):
        response = store.put_log_events("/app/web", "i-1", events[start : start + 1000])
        assert "rejectedLogEventsInfo" not in response
    got = store.get_log_events("/app/web", "i-1", start_from_head=True)["events"]
    assert [(e["timestamp"], e["message"]) for e in got] == [
        (e["timestamp"], e["message"]) for e in events
    ]
    assert {e["ingestionTime"] for e in got} == {NOW}


def test_get_log_events_tokens(store: LogStore) -> None:
    store.put_log_events(
        "/app/web", "i-1", [{"timestamp": NOW + i, "message": str(i)} for i in range(10)]
    )
    tail = store.get_log_events("/app/web", "i-1", limit=3)
    assert [e["message"] for e in tail["events"]] == ["7", "8", "9"]
    back = store.get_log_events("/app/web", "i-1", limit=3, next_token=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["4", "5", "6"]
    end = store.get_log_events("/app/web", "i-1", next_token=tail["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == tail["nextForwardToken"]
    store.put_log_events("/app/web", "i-1", [{"timestamp": NOW + 20, "message": "new"}])
    more = store.get_log_events("/app/web", "i-1", next_token=tail["nextForwardToken"])
    assert [e["message"] for e in more["events"]] == ["new"]
    head = store.get_log_events(
        "/app/web", "i-1", start_from_head=True, limit=2, start_time=NOW + 1
    )
    assert [e["message"] for e in head["events"]] == ["1", "2"]
    window = store.get_log_events("/app/web", "i-1", start_time=NOW + 2, end_time=NOW + 4)
    assert [e["message"] for e in window["events"]] == ["2", "3"]  # endTime is exclusive
    with pytest.raises(InvalidParameterException, match=r"The specified nextToken is invalid\."):
        store.get_log_events("/app/web", "i-1", next_token="x/123")
    with pytest.raises(InvalidParameterException) as exc:
        store.get_log_events("/app/web", "i-1", limit=10001)
    assert exc.value.message == (
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000"
    )


def test_put_validation_and_rejections_under_aws_rules(store: LogStore) -> None:
    with pytest.raises(InvalidParameterException) as exc:
        store.put_log_events(
            "/app/web",
            "i-1",
            [{"timestamp": NOW, "message": "b"}, {"timestamp": NOW - 1, "message": "a"}],
            aws_rules=True,
        )
    assert exc.value.message == (
        "Log events in a single PutLogEvents request must be in chronological order."
    )
    with pytest.raises(
        ResourceNotFoundException, match=r"The specified log stream does not exist\."
    ):
        store.put_log_events(
            "/app/web", "nope", [{"timestamp": NOW, "message": "x"}], aws_rules=True
        )
    with pytest.raises(InvalidParameterException) as span:
        store.put_log_events(
            "/app/web",
            "i-1",
            [{"timestamp": NOW - 86_400_001, "message": "a"}, {"timestamp": NOW, "message": "b"}],
            aws_rules=True,
        )
    assert span.value.message.startswith("The batch of log events in a single PutLogEvents")
    edge = NOW - 14 * 86_400_000
    response = store.put_log_events(
        "/app/web",
        "i-1",
        [
            {"timestamp": edge - 2, "message": "too old"},
            {"timestamp": edge - 1, "message": "too old too"},
            {"timestamp": edge + 1, "message": "ok"},
        ],
        aws_rules=True,
    )
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    response = store.put_log_events(
        "/app/web",
        "i-1",
        [{"timestamp": NOW, "message": "ok"}, {"timestamp": NOW + 3 * 3_600_000, "message": "new"}],
        aws_rules=True,
    )
    assert response["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    kept = store.get_log_events("/app/web", "i-1", start_from_head=True)["events"]
    assert [e["message"] for e in kept] == ["ok", "ok"]


def test_library_put_stores_every_event_of_any_age_in_any_order(store: LogStore) -> None:
    """LogHub samples from 2005, out of order, without ingestionTime: nothing is refused."""
    y2005 = 1_120_000_000_000
    events = [
        {"timestamp": y2005 + 9 * 86_400_000, "message": "third"},
        {"timestamp": y2005, "message": "first"},
        {"timestamp": y2005 + 3, "message": "second"},
        {"timestamp": y2005 + 9 * 86_400_000, "message": "fourth"},  # a tie keeps its place
        {"timestamp": NOW + 5 * 3_600_000, "message": "future"},
    ]
    response = store.put_log_events("/app/web", "i-1", events)
    assert "rejectedLogEventsInfo" not in response and response["nextSequenceToken"]
    got = store.get_log_events("/app/web", "i-1", start_from_head=True)["events"]
    assert [(e["timestamp"], e["message"], e["ingestionTime"]) for e in got] == [
        (y2005, "first", NOW),
        (y2005 + 3, "second", NOW),
        (y2005 + 9 * 86_400_000, "third", NOW),
        (y2005 + 9 * 86_400_000, "fourth", NOW),
        (NOW + 5 * 3_600_000, "future", NOW),
    ]
    stream = store.describe_log_streams("/app/web", log_stream_name_prefix="i-1")["logStreams"][0]
    assert (stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (
        y2005,
        NOW + 5 * 3_600_000,
    )


@pytest.mark.parametrize("aws_rules", [False, True])
def test_import_with_ingestion_time_accepts_old_and_unordered_events(
    store: LogStore, aws_rules: bool
) -> None:
    old = 1_000_000_000_000
    events = [
        {"timestamp": old + 5 * 86_400_000, "message": "b", "ingestionTime": old + 5 * 86_400_000},
        {"timestamp": old, "message": "a", "ingestionTime": old + 7},
    ]
    response = store.put_log_events("/app/web", "i-1", events, aws_rules=aws_rules)
    assert "rejectedLogEventsInfo" not in response
    got = store.get_log_events("/app/web", "i-1", start_from_head=True)["events"]
    assert got == [
        {"timestamp": old, "message": "a", "ingestionTime": old + 7},
        {"timestamp": old + 5 * 86_400_000, "message": "b", "ingestionTime": old + 5 * 86_400_000},
    ]


def test_retention_policy_expires_events() -> None:
    clock = Clock()
    store = LogStore(clock=clock)
    store.create_log_group("g")
    store.create_log_stream("g", "s")
    day = 86_400_000
    store.put_log_events("g", "s", [{"timestamp": NOW - 10 * day, "message": "old"}])
    store.put_log_events("g", "s", [{"timestamp": NOW, "message": "new"}])
    with pytest.raises(InvalidParameterException) as exc:
        store.put_retention_policy("g", 2)
    assert exc.value.message.startswith(
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: "
        "Member must satisfy enum value set: [1, 3, 5, 7, 14,"
    )
    with pytest.raises(ResourceNotFoundException):
        store.put_retention_policy("nope", 7)
    store.put_retention_policy("g", 7)
    assert store.describe_log_groups()["logGroups"][0]["retentionInDays"] == 7
    assert store.expire(NOW) == 1
    assert [e["message"] for e in store.get_log_events("g", "s")["events"]] == ["new"]
    # Expired on arrival: older than the retention period but younger than 14 days.
    response = store.put_log_events(
        "g", "s", [{"timestamp": NOW - 8 * day, "message": "x"}], aws_rules=True
    )
    assert response["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    store.delete_retention_policy("g")
    assert "retentionInDays" not in store.describe_log_groups()["logGroups"][0]
    assert store.expire(NOW + 1000 * day) == 0


def test_reopening_a_file_finds_everything(tmp_path: Path) -> None:
    path = tmp_path / "logs.duckdb"
    with LogStore(path, clock=Clock()) as store:
        store.create_log_group("g")
        store.create_log_stream("g", "s")
        store.put_log_events("g", "s", [{"timestamp": NOW, "message": json.dumps({"a": {"b": 1}})}])
        store.put_retention_policy("g", 30)
        store.create_lookup_table("users", "id,name\n1,ann\n")
    with LogStore(path, clock=Clock()) as store:
        assert store.describe_log_groups()["logGroups"][0]["retentionInDays"] == 30
        assert store.field_columns() == {"a.b": "f_0"}
        store.put_log_events("g", "s", [{"timestamp": NOW + 1, "message": json.dumps({"c": 2})}])
        events = store.get_log_events("g", "s", start_from_head=True)["events"]
        assert [e["message"] for e in events] == ['{"a": {"b": 1}}', '{"c": 2}']
        assert store.field_columns() == {"a.b": "f_0", "c": "f_1"}
        assert store.lookup_tables()["users"][1] == ["id", "name"]
        stream = store.describe_log_streams("g")["logStreams"][0]
        assert stream["lastEventTimestamp"] == NOW + 1


def test_filter_log_events_end_to_end(store: LogStore) -> None:
    store.create_log_stream("/app/web", "i-2")
    store.put_log_events(
        "/app/web",
        "i-1",
        [
            {"timestamp": NOW + 1, "message": "ERROR disk full"},
            {"timestamp": NOW + 3, "message": json.dumps({"level": "ERROR", "code": 500})},
        ],
    )
    store.put_log_events("/app/web", "i-2", [{"timestamp": NOW + 2, "message": "INFO ok"}])
    every = store.filter_log_events("/app/web")
    assert [(e["logStreamName"], e["timestamp"]) for e in every["events"]] == [
        ("i-1", NOW + 1),
        ("i-2", NOW + 2),
        ("i-1", NOW + 3),
    ]
    assert every["searchedLogStreams"] == []
    assert len(every["events"][0]["eventId"]) == 56
    assert [e["message"] for e in store.filter_log_events("/app/web", "ERROR")["events"]] == [
        "ERROR disk full",
        '{"level": "ERROR", "code": 500}',
    ]
    json_hits = store.filter_log_events("/app/web", "{ $.code >= 500 }")["events"]
    assert [e["timestamp"] for e in json_hits] == [NOW + 3]
    only = store.filter_log_events("/app/web", stream_names=["i-2"])["events"]
    assert [e["message"] for e in only] == ["INFO ok"]
    ranged = store.filter_log_events("/app/web", start=NOW + 2, end=NOW + 3)["events"]
    assert [e["timestamp"] for e in ranged] == [NOW + 2, NOW + 3]  # both ends inclusive
    page = store.filter_log_events("/app/web", limit=2)
    rest = store.filter_log_events("/app/web", limit=2, next_token=page["nextToken"])
    assert [e["timestamp"] for e in page["events"] + rest["events"]] == [NOW + 1, NOW + 2, NOW + 3]
    assert "nextToken" not in rest
    with pytest.raises(ResourceNotFoundException):
        store.filter_log_events("/nope")


def test_acknowledged_events_survive_a_crash(tmp_path: Path) -> None:
    """A process that dies after put_log_events returned (journal not flushed) loses nothing."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "crash.duckdb"
    script = textwrap.dedent(
        f"""
        import os
        from batchyard.logs import LogStore
        store = LogStore({str(path)!r}, clock=lambda: {NOW})
        store.create_log_group("g")
        store.create_log_stream("g", "s")
        store.put_log_events("g", "s", [{{"timestamp": {NOW}, "message": '{{"k": "v"}}'}}])
        store.flush()
        store.put_log_events("g", "s", [{{"timestamp": {NOW + 1}, "message": "unflushed"}}])
        os._exit(0)  # no close(): the second batch is only in the journal
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    with open(f"{path}.journal", "ab") as journal:
        journal.write(b"\x10\x00\x00\x00\x00\x00\x00\x00torn")  # a crash mid-append
    with LogStore(path, clock=Clock()) as store:
        events = store.get_log_events("g", "s", start_from_head=True)["events"]
        assert [e["message"] for e in events] == ['{"k": "v"}', "unflushed"]
        assert store.describe_log_streams("g")["logStreams"][0]["lastEventTimestamp"] == NOW + 1
        store.put_log_events("g", "s", [{"timestamp": NOW + 2, "message": "after"}])
    with LogStore(path, clock=Clock()) as store:
        events = store.get_log_events("g", "s", start_from_head=True)["events"]
        assert [e["message"] for e in events] == ['{"k": "v"}', "unflushed", "after"]


def test_concurrent_writers_and_readers_lose_nothing() -> None:
    import threading

    store = LogStore(clock=Clock(), flush_rows=50)
    store.create_log_group("g")
    for w in range(4):
        store.create_log_stream("g", f"s{w}")
    failures: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for i in range(20):
                store.put_log_events(
                    "g", f"s{w}", [{"timestamp": NOW + i, "message": json.dumps({"w": w, "i": i})}]
                )
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    def read() -> None:
        try:
            for _ in range(10):
                store.filter_log_events("g", "{ $.i >= 0 }")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    threads.append(threading.Thread(target=read))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    events = store.filter_log_events("g", "{ $.i >= 0 }")["events"]
    assert sorted((json.loads(e["message"])["w"], e["timestamp"]) for e in events) == sorted(
        (w, NOW + i) for w in range(4) for i in range(20)
    )


def test_size_triggered_flushes_move_whole_row_groups_and_a_crash_keeps_the_rest(
    tmp_path: Path,
) -> None:
    """Past ``flush_rows`` only whole DuckDB row groups (122,880 rows) move; the rest stays
    journaled, survives a crash, and is neither lost nor counted twice on reopen."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "groups.duckdb"
    script = textwrap.dedent(
        f"""
        import os
        from batchyard.logs import LogStore
        store = LogStore({str(path)!r}, clock=lambda: {NOW}, flush_rows=100_000)
        store.create_log_group("g")
        store.create_log_stream("g", "s")
        for start in range(0, 130_000, 10_000):
            store.put_log_events(
                "g", "s", [{{"timestamp": {NOW} + i, "message": "é" + str(i)}}
                           for i in range(start, start + 10_000)]
            )
        os._exit(0)  # 122,880 events flushed by size, 7,120 only journaled
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    with LogStore(path, clock=lambda: NOW) as store:
        count, low, high = store.connection.execute(
            "SELECT count(DISTINCT seq), min(ts), max(ts) FROM events"
        ).fetchone()
        assert (count, low, high) == (130_000, NOW, NOW + 129_999)
        expected = sum(len(f"é{i}".encode()) + 26 for i in range(130_000))
        assert store.describe_log_groups()["logGroups"][0]["storedBytes"] == expected

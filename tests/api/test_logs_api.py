"""Every CloudWatch Logs operation batchyard serves, through boto3."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

ACCOUNT = "123456789012"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _group(logs: Any, name: str, *streams: str) -> None:
    logs.create_log_group(logGroupName=name)
    for stream in streams:
        logs.create_log_stream(logGroupName=name, logStreamName=stream)


def test_groups_lifecycle_retention_and_pagination(logs: Any) -> None:
    for name in ("/batch/a", "/batch/b", "/batch/c"):
        logs.create_log_group(logGroupName=name)
    logs.put_retention_policy(logGroupName="/batch/b", retentionInDays=14)
    page = logs.describe_log_groups(logGroupNamePrefix="/batch/", limit=2)
    assert [g["logGroupName"] for g in page["logGroups"]] == ["/batch/a", "/batch/b"]
    assert page["logGroups"][1]["retentionInDays"] == 14
    assert page["logGroups"][0]["arn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/batch/a:*"
    rest = logs.describe_log_groups(logGroupNamePrefix="/batch/", nextToken=page["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == ["/batch/c"]
    assert "nextToken" not in rest
    logs.delete_retention_policy(logGroupName="/batch/b")
    described = logs.describe_log_groups(logGroupNamePrefix="/batch/b")["logGroups"][0]
    assert "retentionInDays" not in described
    by_pattern = logs.describe_log_groups(logGroupNamePattern="BATCH/C")["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == ["/batch/c"]
    logs.delete_log_group(logGroupName="/batch/c")
    assert logs.describe_log_groups(logGroupNamePrefix="/batch/c")["logGroups"] == []
    with pytest.raises(logs.exceptions.InvalidParameterException) as caught:
        logs.put_retention_policy(logGroupName="/batch/a", retentionInDays=2)
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14" in str(caught.value)


def test_streams_events_and_filter(logs: Any) -> None:
    _group(logs, "/ecs/job", "run/1", "run/2")
    now = _now_ms()
    put = logs.put_log_events(
        logGroupName="/ecs/job",
        logStreamName="run/1",
        logEvents=[
            {"timestamp": now, "message": "starting"},
            {"timestamp": now + 1, "message": "ERROR disk full"},
        ],
    )
    assert put["nextSequenceToken"]
    logs.put_log_events(
        logGroupName="/ecs/job",
        logStreamName="run/2",
        logEvents=[{"timestamp": now + 2, "message": "ERROR timeout"}],
    )
    streams = logs.describe_log_streams(
        logGroupName="/ecs/job", orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["run/2", "run/1"]
    assert streams[1]["firstEventTimestamp"] == now
    events = logs.get_log_events(
        logGroupName="/ecs/job", logStreamName="run/1", startFromHead=True
    )["events"]
    assert [e["message"] for e in events] == ["starting", "ERROR disk full"]
    by_arn = logs.get_log_events(
        logGroupIdentifier=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/job",
        logStreamName="run/2",
    )["events"]
    assert [e["message"] for e in by_arn] == ["ERROR timeout"]
    filtered = logs.filter_log_events(logGroupName="/ecs/job", filterPattern="ERROR")["events"]
    assert [(e["logStreamName"], e["message"]) for e in filtered] == [
        ("run/1", "ERROR disk full"),
        ("run/2", "ERROR timeout"),
    ]
    only_two = logs.filter_log_events(
        logGroupName="/ecs/job", logStreamNames=["run/2"], filterPattern="ERROR"
    )["events"]
    assert len(only_two) == 1
    logs.delete_log_stream(logGroupName="/ecs/job", logStreamName="run/2")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as caught:
        logs.get_log_events(logGroupName="/ecs/job", logStreamName="run/2")
    assert caught.value.response["Error"]["Message"] == "The specified log stream does not exist."
    with pytest.raises(logs.exceptions.InvalidParameterException) as order:
        logs.put_log_events(
            logGroupName="/ecs/job",
            logStreamName="run/1",
            logEvents=[
                {"timestamp": now + 5, "message": "b"},
                {"timestamp": now + 4, "message": "a"},
            ],
        )
    assert order.value.response["Error"]["Message"] == (
        "Log events in a single PutLogEvents request must be in chronological order."
    )


def _wait(logs: Any, query_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        result: dict[str, Any] = logs.get_query_results(queryId=query_id)
        if result["status"] not in ("Scheduled", "Running") or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def _rows(result: dict[str, Any]) -> list[dict[str, str]]:
    return [{cell["field"]: cell["value"] for cell in row} for row in result["results"]]


RUNBOOK = """fields @timestamp, execution_arn
| filter ispresent(execution_arn)
| stats earliest(@timestamp) as started, latest(@timestamp) as ended, count(*) as events
    by execution_arn
| sort execution_arn"""


def test_insights_query_runbook_style(logs: Any) -> None:
    _group(logs, "/sfn/runs", "exec")
    base = (_now_ms() // 1000 - 60) * 1000
    events = [
        (base, {"execution_arn": "arn:e1", "type": "ExecutionStarted"}),
        (base + 1500, {"execution_arn": "arn:e2", "type": "ExecutionStarted"}),
        (base + 4000, {"execution_arn": "arn:e1", "type": "ExecutionSucceeded"}),
        (base + 9000, {"execution_arn": "arn:e2", "type": "ExecutionFailed"}),
    ]
    logs.put_log_events(
        logGroupName="/sfn/runs",
        logStreamName="exec",
        logEvents=[{"timestamp": ts, "message": json.dumps(body)} for ts, body in events]
        + [{"timestamp": base + 9500, "message": "plain text line"}],
    )
    started = logs.start_query(
        logGroupNames=["/sfn/runs"],
        startTime=base // 1000 - 1,
        endTime=base // 1000 + 60,
        queryString=RUNBOOK,
    )
    result = _wait(logs, started["queryId"])
    assert result["status"] == "Complete"
    assert _rows(result) == [
        {
            "execution_arn": "arn:e1",
            "started": _fmt(base),
            "ended": _fmt(base + 4000),
            "events": "2",
        },
        {
            "execution_arn": "arn:e2",
            "started": _fmt(base + 1500),
            "ended": _fmt(base + 9000),
            "events": "2",
        },
    ]
    assert result["statistics"]["recordsScanned"] == 5.0
    assert result["statistics"]["recordsMatched"] == 4.0

    # Events queries carry @ptr, which GetLogRecord resolves; SOURCE selects groups too.
    listing = logs.start_query(
        startTime=base // 1000 - 1,
        endTime=base // 1000 + 60,
        queryString="SOURCE logGroups(namePrefix: ['/sfn/']) | fields @message "
        "| filter @message like /plain/",
    )
    rows = _rows(_wait(logs, listing["queryId"]))
    assert [r["@message"] for r in rows] == ["plain text line"]
    record = logs.get_log_record(logRecordPointer=rows[0]["@ptr"])["logRecord"]
    assert record["@message"] == "plain text line"
    assert record["@logStream"] == "exec"
    assert record["@log"] == f"{ACCOUNT}:/sfn/runs"

    described = logs.describe_queries(logGroupName="/sfn/runs")["queries"]
    assert {q["status"] for q in described} == {"Complete"}
    mine = next(q for q in described if q["queryId"] == started["queryId"])
    # AWS shows the query rewritten with its SOURCE, start and end (ms, end second inclusive).
    assert mine["queryString"] == (
        f'SOURCE "/sfn/runs" START={base - 1000} END={base + 60_000 + 999} | {RUNBOOK}'
    )
    assert mine["logGroupName"] == "/sfn/runs"
    assert logs.stop_query(queryId=started["queryId"])["success"] is False


def _fmt(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def test_query_errors(logs: Any) -> None:
    with pytest.raises(logs.exceptions.MalformedQueryException):
        logs.start_query(
            logGroupName="/sfn/anything", startTime=0, endTime=10, queryString="stats count(*) by"
        )
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing:
        logs.start_query(
            logGroupName="no-such-group", startTime=0, endTime=10, queryString="fields @message"
        )
    assert re.fullmatch(
        r"Log group 'no-such-group' does not exist for account ID '123456789012' \(Service: "
        r"AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: "
        r"[0-9a-f-]{36}; Proxy: null\)",
        missing.value.response["Error"]["Message"],
    )
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")


def test_tags(logs: Any) -> None:
    logs.create_log_group(logGroupName="/tagged", tags={"team": "data"})
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/tagged"
    logs.tag_resource(resourceArn=arn, tags={"env": "prod"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "data", "env": "prod"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_log_group(logGroupName="/tagged")["tags"] == {"env": "prod"}
    with pytest.raises(ClientError) as caught:
        logs.list_tags_for_resource(resourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/x")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"

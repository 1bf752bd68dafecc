"""LoggingConfiguration writes history events into the log store in AWS's JSON format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.engine import Engine
from batchyard.logs import LogStore
from batchyard.store import Store
from tests.engine.conftest import ACCOUNT, REGION, FakeClock, deploy

GROUP = "/aws/vendedlogs/states/demo"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"
FAILING = {
    "StartAt": "P",
    "States": {
        "P": {"Type": "Pass", "Next": "F"},
        "F": {"Type": "Fail", "Error": "Bad", "Cause": "worse"},
    },
}


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[LogStore]:
    store = LogStore(str(tmp_path / "logs.duckdb"))
    yield store
    store.close()


def _config(level: str, include: bool) -> dict[str, Any]:
    return {
        "level": level,
        "includeExecutionData": include,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": GROUP_ARN}}],
    }


def _lines(logs: LogStore) -> list[dict[str, Any]]:
    found = logs.filter_log_events(GROUP)
    return [json.loads(event["message"]) for event in found["events"]]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (
            "ALL",
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "FailStateEntered",
                "ExecutionFailed",
            ],
        ),
        ("ERROR", ["FailStateEntered", "ExecutionFailed"]),
        ("FATAL", ["ExecutionFailed"]),
    ],
)
def test_levels_choose_the_event_types(
    store: Store, clock: FakeClock, logs: LogStore, level: str, expected: list[str]
) -> None:
    arn = deploy(store, "logged", FAILING, logging=_config(level, True))
    engine = Engine(store, clock=clock, logs=logs)
    execution = engine.start_execution(arn, name="x", input='{"secret":1}')
    engine.run_until_idle()
    lines = _lines(logs)
    assert [line["type"] for line in lines] == expected
    first = lines[0]
    assert list(first) == [
        "id",
        "type",
        "details",
        "previous_event_id",
        "event_timestamp",
        "execution_arn",
        "redrive_count",
    ]
    assert first["execution_arn"] == execution.arn and first["redrive_count"] == "0"
    assert lines[-1]["details"] == {"error": "Bad", "cause": "worse"}
    assert lines[-1]["event_timestamp"] == str(round(clock.now.timestamp() * 1000))


def test_without_execution_data_inputs_are_left_out(
    store: Store, clock: FakeClock, logs: LogStore
) -> None:
    arn = deploy(store, "quiet", FAILING, logging=_config("ALL", False))
    engine = Engine(store, clock=clock, logs=logs)
    engine.start_execution(arn, name="q", input='{"secret":1}')
    engine.run_until_idle()
    lines = _lines(logs)
    assert "secret" not in json.dumps(lines)
    assert lines[0]["details"] == {"roleArn": lines[0]["details"]["roleArn"]}
    assert lines[1]["details"] == {"name": "P"}
    stream = logs.describe_log_streams(GROUP)["logStreams"][0]["logStreamName"]
    assert stream.startswith("states/quiet/2024-01-01-00-00/")


def test_off_writes_nothing(store: Store, clock: FakeClock, logs: LogStore) -> None:
    arn = deploy(store, "off", FAILING, logging={"level": "OFF", "includeExecutionData": False})
    engine = Engine(store, clock=clock, logs=logs)
    engine.start_execution(arn, name="o", input="{}")
    engine.run_until_idle()
    assert GROUP not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]


def test_express_executions_log_through_the_configuration(
    store: Store, clock: FakeClock, logs: LogStore
) -> None:
    arn = deploy(store, "fastlog", FAILING, type_="EXPRESS", logging=_config("ERROR", True))
    engine = Engine(store, clock=clock, logs=logs)
    result = engine.start_sync_execution(arn, name="e", input="{}")
    assert result["status"] == "FAILED"
    lines = _lines(logs)
    assert [line["type"] for line in lines] == ["FailStateEntered", "ExecutionFailed"]
    assert {line["execution_arn"] for line in lines} == {result["executionArn"]}

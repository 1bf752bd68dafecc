"""LoggingConfiguration: AWS's validation, and execution events written into the Logs API."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.api.stepfunctions.conftest import ROLE, SfnServer, definition, error_of
from tests.api.stepfunctions.helpers import finished, wait_until


def _group(logs: Any) -> tuple[str, str]:
    name = f"/aws/vendedlogs/states/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name)
    return name, f"arn:aws:logs:us-east-1:123456789012:log-group:{name}:*"


def _config(group_arn: str, level: str = "ALL", data: bool = True) -> dict[str, Any]:
    return {
        "level": level,
        "includeExecutionData": data,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
    }


def test_logging_configuration_rules(sfn_server: SfnServer) -> None:
    sfn, logs = sfn_server.client(), sfn_server.client("logs")
    _, group_arn = _group(logs)
    arn = sfn.create_state_machine(
        name=f"log-{uuid.uuid4().hex[:8]}",
        definition=definition(),
        roleArn=ROLE,
        loggingConfiguration=_config(group_arn, "OFF", False),
    )["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"] == _config(
        group_arn, "OFF", False
    )
    empty = sfn.create_state_machine(
        name=f"log-{uuid.uuid4().hex[:8]}",
        definition=definition(),
        roleArn=ROLE,
        loggingConfiguration={"destinations": []},
    )["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=empty)["loggingConfiguration"] == {
        "destinations": [],
        "includeExecutionData": False,
        "level": "OFF",
    }
    missing = "arn:aws:logs:us-east-1:123456789012:log-group:/no/such/group:*"
    with pytest.raises(sfn.exceptions.InvalidLoggingConfiguration) as caught:
        sfn.create_state_machine(
            name=f"log-{uuid.uuid4().hex[:8]}",
            definition=definition(),
            roleArn=ROLE,
            loggingConfiguration=_config(missing),
        )
    assert error_of(caught)[1] == "Invalid Logging Configuration: Log Destination not found."
    double = _config(group_arn)
    double["destinations"] *= 2
    with pytest.raises(sfn.exceptions.InvalidLoggingConfiguration) as twice:
        sfn.update_state_machine(stateMachineArn=arn, loggingConfiguration=double)
    assert error_of(twice)[1] == (
        "Invalid Logging Configuration: Must specify exactly one Log Destination."
    )
    updated = sfn.update_state_machine(stateMachineArn=arn, loggingConfiguration=_config(group_arn))
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["revisionId"] == updated["revisionId"]
    assert described["loggingConfiguration"]["level"] == "ALL"


def test_execution_events_reach_logs_insights(sfn_server: SfnServer) -> None:
    sfn, logs = sfn_server.client(), sfn_server.client("logs")
    name, group_arn = _group(logs)
    arn = sfn.create_state_machine(
        name=f"log-{uuid.uuid4().hex[:8]}",
        definition=definition(),
        roleArn=ROLE,
        loggingConfiguration=_config(group_arn),
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input='{"x": 1}')["executionArn"]
    finished(sfn, execution)

    def rows() -> list[dict[str, str]]:
        now = int(time.time())
        query = logs.start_query(
            logGroupName=name,
            startTime=now - 3600,
            endTime=now + 3600,
            queryString="fields type, execution_arn, id | sort id asc",
        )["queryId"]
        while True:
            answer = logs.get_query_results(queryId=query)
            if answer["status"] == "Complete":
                return [{f["field"]: f["value"] for f in row} for row in answer["results"]]
            time.sleep(0.02)

    found = wait_until(lambda: [r for r in rows() if r.get("type") == "ExecutionSucceeded"])
    assert found[0]["execution_arn"] == execution
    events = logs.filter_log_events(logGroupName=name)["events"]
    started = next(json.loads(e["message"]) for e in events if '"ExecutionStarted"' in e["message"])
    assert started["execution_arn"] == execution
    assert json.loads(started["details"]["input"]) == {"x": 1}

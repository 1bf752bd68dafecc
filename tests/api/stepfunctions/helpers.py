"""Small helpers for tests that run executions through the server."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.api.stepfunctions.conftest import ROLE


def machine(sfn: Any, states: dict[str, Any], start: str, **extra: Any) -> str:
    arn: str = sfn.create_state_machine(
        name=f"m-{uuid.uuid4().hex[:10]}",
        definition=json.dumps({"StartAt": start, "States": states}),
        roleArn=ROLE,
        **extra,
    )["stateMachineArn"]
    return arn


def finished(sfn: Any, execution_arn: str, timeout: float = 20.0) -> dict[str, Any]:
    """DescribeExecution once the execution has left RUNNING (fails the test if it never does)."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING"
        time.sleep(0.02)


def history(sfn: Any, execution_arn: str, **options: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs = dict(options)
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, **kwargs)
        events += page["events"]
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]


def event_of(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(e for e in events if e["type"] == kind)


def wait_until(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)

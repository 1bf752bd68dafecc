"""DescribeMapRun, ListMapRuns, UpdateMapRun over map runs recorded in the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from batchyard.store import MapRun
from tests.api.stepfunctions.conftest import SfnServer, error_of
from tests.api.stepfunctions.helpers import finished, machine


def test_map_run_operations(sfn_server: SfnServer) -> None:
    sfn = sfn_server.client()
    arn = machine(sfn, {"P": {"Type": "Pass", "End": True}}, "P")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    finished(sfn, execution)
    name = arn.rsplit(":", 1)[1]
    run_arn = f"arn:aws:states:us-east-1:123456789012:mapRun:{name}/Fan:{uuid.uuid4()}"
    now = datetime.now(UTC).replace(microsecond=0)
    sfn_server.backend.store.map_runs.create(
        MapRun(
            arn=run_arn,
            execution_arn=execution,
            state_name="Fan",
            status="RUNNING",
            start_date=now,
            created=now,
            updated=now,
            max_concurrency=5,
            item_counts={"running": 2, "total": 2},
        )
    )
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert described["executionArn"] == execution
    assert described["status"] == "RUNNING"
    assert described["maxConcurrency"] == 5
    assert described["itemCounts"]["running"] == 2
    assert described["itemCounts"]["failed"] == 0
    assert described["executionCounts"]["total"] == 0
    runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert [r["mapRunArn"] for r in runs] == [run_arn]
    assert (
        runs[0]["stateMachineArn"]
        == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}/Fan"
    )
    sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=9, toleratedFailureCount=3)
    updated = sfn.describe_map_run(mapRunArn=run_arn)
    assert (updated["maxConcurrency"], updated["toleratedFailureCount"]) == (9, 3)
    assert sfn.list_executions(mapRunArn=run_arn)["executions"] == []
    missing = run_arn[:-4] + "0000"
    with pytest.raises(sfn.exceptions.ResourceNotFound) as caught:
        sfn.describe_map_run(mapRunArn=missing)
    assert error_of(caught)[1] == f"Resource not found: '{missing}'"

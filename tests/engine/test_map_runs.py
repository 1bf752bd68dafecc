"""Distributed Map Runs driven by the engine are persisted: the run's row (DescribeMapRun,
ListMapRuns) and its finished children as executions with their own histories."""

from __future__ import annotations

import json
from typing import Any

from batchyard.engine import Engine, history_event
from batchyard.store import Store
from tests.engine.conftest import FakeClock, deploy
from tests.engine.test_replicas import pg_store  # noqa: F401 - the PostgreSQL fixture


def _machine(child: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **child,
                },
                "End": True,
                **fields,
            }
        },
    }


DOUBLE = {
    "StartAt": "D",
    "States": {
        "D": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"}, "End": True}
    },
}
WAIT_THEN_FAIL_ODD = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "C"},
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.odd", "BooleanEquals": True, "Next": "F"}],
            "Default": "S",
        },
        "F": {"Type": "Fail", "Error": "Odd", "Cause": "odd item"},
        "S": {"Type": "Succeed"},
    },
}


def test_a_successful_run_and_its_children_are_persisted(store: Store, engine: Engine) -> None:
    arn = deploy(store, "dmap", _machine(DOUBLE, MaxConcurrency=2, Label="twice"))
    execution = engine.start_execution(arn, name="d", input='[{"n":1},{"n":2},{"n":3}]')
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    assert json.loads(done.output or "") == [{"v": 2}, {"v": 4}, {"v": 6}]
    [run] = store.map_runs.for_execution(execution.arn)
    assert ":mapRun:dmap/twice:" in run.arn
    assert run.state_name == "M" and run.status == "SUCCEEDED" and run.stop_date is not None
    assert run.max_concurrency == 2
    assert run.item_counts["succeeded"] == 3 and run.item_counts["total"] == 3
    assert run.execution_counts["succeeded"] == 3 and run.execution_counts["running"] == 0
    children = store.executions.list(map_run_arn=run.arn).items
    assert len(children) == 3 and {c.status for c in children} == {"SUCCEEDED"}
    outputs = sorted(json.loads(c.output or "")["v"] for c in children)
    assert outputs == [2, 4, 6]
    child = children[0]
    assert child.map_run_arn == run.arn and ":execution:dmap/twice:" in child.arn
    history = [history_event(e) for e in store.history.all(child.arn)]
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert history[-1]["executionSucceededEventDetails"]["output"] == child.output
    # The parent's history keeps only the Map Run's own events.
    parent_types = [e.type for e in store.history.all(execution.arn)]
    assert "PassStateEntered" not in parent_types and "MapRunSucceeded" in parent_types


def test_counts_while_running_and_a_tolerated_failure(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    definition = _machine(WAIT_THEN_FAIL_ODD, ToleratedFailureCount=1)
    arn = deploy(store, "dmap-wait", definition)
    items = [{"odd": False}, {"odd": True}, {"odd": False}]
    execution = engine.start_execution(arn, name="w", input=json.dumps(items))
    engine.run_until_idle()
    [run] = store.map_runs.for_execution(execution.arn)
    assert run.status == "RUNNING" and run.stop_date is None
    assert run.execution_counts["running"] == 3 and run.execution_counts["total"] == 3
    assert run.tolerated_failure_count == 1
    # Children are executions from their start, with their history so far.
    running = store.executions.list(map_run_arn=run.arn).items
    assert len(running) == 3 and {c.status for c in running} == {"RUNNING"}
    assert [e.type for e in store.history.all(running[0].arn)] == [
        "ExecutionStarted",
        "WaitStateEntered",
    ]
    clock.advance(11)
    engine.run_until_idle()
    [run] = store.map_runs.for_execution(execution.arn)
    assert run.status == "SUCCEEDED"
    assert run.execution_counts["succeeded"] == 2 and run.execution_counts["failed"] == 1
    failed = [c for c in store.executions.list(map_run_arn=run.arn).items if c.status == "FAILED"]
    assert len(failed) == 1 and failed[0].error == "Odd" and failed[0].cause == "odd item"
    last = history_event(store.history.all(failed[0].arn)[-1])
    assert last["type"] == "ExecutionFailed"
    assert last["executionFailedEventDetails"] == {"error": "Odd", "cause": "odd item"}


def test_a_rebuilt_run_does_not_write_the_map_run_twice(store: Store, clock: FakeClock) -> None:
    arn = deploy(store, "dmap-replay", _machine(WAIT_THEN_FAIL_ODD))
    first = Engine(store, clock=clock, owner="first")
    execution = first.start_execution(arn, name="r", input='[{"odd":false},{"odd":false}]')
    first.run_until_idle()
    clock.advance(11)
    second = Engine(store, clock=clock, owner="second")  # replays, then goes on
    second.run_until_idle()
    assert store.executions.get(execution.arn).status == "SUCCEEDED"
    [run] = store.map_runs.for_execution(execution.arn)
    assert run.execution_counts["succeeded"] == 2
    assert len(store.executions.list(map_run_arn=run.arn).items) == 2


def test_stopping_the_execution_aborts_the_map_run(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    arn = deploy(store, "dmap-stop", _machine(WAIT_THEN_FAIL_ODD))
    execution = engine.start_execution(arn, name="s", input='[{"odd":false}]')
    engine.run_until_idle()
    engine.stop_execution(execution.arn)
    [run] = store.map_runs.for_execution(execution.arn)
    assert run.status == "ABORTED" and run.stop_date is not None
    assert run.execution_counts["aborted"] == 1 and run.execution_counts["running"] == 0
    [child] = store.executions.list(map_run_arn=run.arn).items
    assert child.status == "ABORTED" and child.stop_date is not None
    assert [e.type for e in store.history.all(child.arn)] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateAborted",
        "ExecutionAborted",
    ]


def test_map_runs_on_postgresql(pg_store: Store) -> None:  # noqa: F811
    clock = FakeClock()
    engine = Engine(pg_store, clock=clock, owner="pg")
    arn = deploy(pg_store, "dmap-pg", _machine(WAIT_THEN_FAIL_ODD, ToleratedFailureCount=1))
    execution = engine.start_execution(arn, name="pg", input='[{"odd":true},{"odd":false}]')
    engine.run_until_idle()
    [run] = pg_store.map_runs.for_execution(execution.arn)
    assert run.execution_counts["running"] == 2
    clock.advance(11)
    engine.run_until_idle()
    assert pg_store.executions.get(execution.arn).status == "SUCCEEDED"
    [run] = pg_store.map_runs.for_execution(execution.arn)
    assert run.execution_counts["succeeded"] == 1 and run.execution_counts["failed"] == 1
    children = pg_store.executions.list(map_run_arn=run.arn).items
    assert sorted(c.status for c in children) == ["FAILED", "SUCCEEDED"]
    for child in children:
        types = [e.type for e in pg_store.history.all(child.arn)]
        assert types[:3] == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited"]


def test_redriving_a_failed_map_run_ends(store: Store, engine: Engine, clock: FakeClock) -> None:
    # No tolerance: the odd child fails the run, its sibling is aborted, the execution fails.
    arn = deploy(store, "dmap-redrive", _machine(WAIT_THEN_FAIL_ODD))
    execution = engine.start_execution(arn, name="rd", input='[{"odd":true},{"odd":false}]')
    engine.run_until_idle()
    clock.advance(11)
    engine.run_until_idle()
    assert store.executions.get(execution.arn).status == "FAILED"
    engine.redrive_execution(execution.arn)
    clock.advance(11)
    engine.run_until_idle()
    clock.advance(11)
    engine.run_until_idle()
    # Redriving re-runs the same deterministic failure; what matters is that it ends.
    assert store.executions.get(execution.arn).status == "FAILED"
    assert store.executions.get(execution.arn).redrive_count == 1

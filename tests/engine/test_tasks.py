"""Activities, .waitForTaskToken callbacks, nested executions, task timeouts and heartbeats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from batchyard.engine import Engine, InvalidToken, TaskTimedOut, history_event
from batchyard.store import Activity, Store
from tests.engine.conftest import ACCOUNT, REGION, FakeClock, deploy, machine_arn, types

ACTIVITY = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:work"


def _activity(store: Store) -> None:
    store.activities.create(Activity(arn=ACTIVITY, name="work", created=datetime.now(UTC)))


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, **fields}}}


def test_activity_round_trip(store: Store, engine: Engine) -> None:
    _activity(store)
    arn = deploy(store, "act", _task(ACTIVITY, End=True))
    execution = engine.start_execution(arn, name="a", input='{"job":7}')
    engine.run_until_idle()
    task = engine.get_activity_task(ACTIVITY, "worker-1", wait_seconds=0)
    assert json.loads(task["input"]) == {"job": 7}
    assert engine.get_activity_task(ACTIVITY, "worker-2", wait_seconds=0) == {}
    engine.send_task_success(task["taskToken"], '{"done":true}')
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and json.loads(done.output or "") == {"done": True}
    history = [history_event(e) for e in store.history.all(execution.arn)]
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert history[2]["activityScheduledEventDetails"] == {
        "resource": ACTIVITY,
        "input": '{"job":7}',
        "inputDetails": {"truncated": False},
    }
    assert history[3]["activityStartedEventDetails"] == {"workerName": "worker-1"}
    # The token is spent: answering again is refused as AWS refuses it.
    with pytest.raises(TaskTimedOut, match="Provided task does not exist anymore"):
        engine.send_task_success(task["taskToken"], "{}")
    with pytest.raises(InvalidToken):
        engine.send_task_success("no-such-token", "{}")


def test_activity_failure_is_caught(store: Store, engine: Engine) -> None:
    _activity(store)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": ACTIVITY,
                "Catch": [{"ErrorEquals": ["Boom"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    arn = deploy(store, "actfail", definition)
    execution = engine.start_execution(arn, name="f", input="{}")
    engine.run_until_idle()
    task = engine.get_activity_task(ACTIVITY, "w", wait_seconds=0)
    engine.send_task_failure(task["taskToken"], error="Boom", cause="bad")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    assert json.loads(done.output or "") == {"Error": "Boom", "Cause": "bad"}
    assert "ActivityFailed" in types(store, execution.arn)


def test_heartbeat_timeout_and_late_answer(store: Store, engine: Engine, clock: FakeClock) -> None:
    _activity(store)
    arn = deploy(store, "hb", _task(ACTIVITY, HeartbeatSeconds=10, TimeoutSeconds=100, End=True))
    execution = engine.start_execution(arn, name="h", input="{}")
    engine.run_until_idle()
    task = engine.get_activity_task(ACTIVITY, "w", wait_seconds=0)
    clock.advance(8)
    engine.send_task_heartbeat(task["taskToken"])  # pushes the deadline to t=18
    clock.advance(8)
    engine.run_until_idle()
    assert store.executions.get(execution.arn).status == "RUNNING"
    clock.advance(3)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.HeartbeatTimeout"
    assert types(store, execution.arn)[-2:] == ["ActivityTimedOut", "ExecutionFailed"]
    with pytest.raises(TaskTimedOut):
        engine.send_task_success(task["taskToken"], "{}")


def test_wait_for_task_token_with_lambda(store: Store, clock: FakeClock) -> None:
    seen: list[Any] = []

    def notify(event: Any, context: Any) -> None:
        seen.append(event)

    definition = _task(
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters={"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
        TimeoutSeconds=60,
        End=True,
    )
    arn = deploy(store, "cb", definition)
    engine = Engine(store, clock=clock, functions={"notify": notify})
    execution = engine.start_execution(arn, name="c", input="{}")
    engine.run_until_idle()
    assert len(seen) == 1
    token = seen[0]["token"]
    engine.send_task_success(token, '{"answer":42}')
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and json.loads(done.output or "") == {"answer": 42}


def test_callback_timeout(store: Store, engine: Engine, clock: FakeClock) -> None:
    definition = _task(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        Parameters={"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
        TimeoutSeconds=5,
        End=True,
    )
    arn = deploy(store, "cbt", definition)
    execution = engine.start_execution(arn, name="t", input="{}")
    engine.run_until_idle()
    clock.advance(6)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.Timeout"
    assert types(store, execution.arn)[-2:] == ["TaskTimedOut", "ExecutionFailed"]


CHILD = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Pass",
            "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
            "End": True,
        }
    },
}
FAILING_CHILD = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}


@pytest.mark.parametrize("suffix", ["", ".sync", ".sync:2"])
def test_nested_execution(store: Store, engine: Engine, suffix: str) -> None:
    child_arn = deploy(store, "child", CHILD)
    definition = _task(
        "arn:aws:states:::states:startExecution" + suffix,
        Parameters={"StateMachineArn": child_arn, "Input": {"n": 4}},
        End=True,
    )
    arn = deploy(store, "parent", definition)
    execution = engine.start_execution(arn, name="p", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    output = json.loads(done.output or "")
    child = store.executions.get(output["ExecutionArn"])
    assert child.status == "SUCCEEDED" and child.parent_execution_arn == execution.arn
    if suffix == "":
        assert set(output) == {"ExecutionArn", "StartDate"}
    elif suffix == ".sync":
        assert output["Output"] == '{"doubled":8}' and output["Status"] == "SUCCEEDED"
    else:
        assert output["Output"] == {"doubled": 8} and output["Input"] == {"n": 4}


def test_nested_sync_failure_is_task_failed(store: Store, engine: Engine) -> None:
    child_arn = deploy(store, "badchild", FAILING_CHILD)
    definition = _task(
        "arn:aws:states:::states:startExecution.sync:2",
        Parameters={"StateMachineArn": child_arn, "Input": {}},
        End=True,
    )
    arn = deploy(store, "parent2", definition)
    execution = engine.start_execution(arn, name="p", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.TaskFailed"
    cause = json.loads(done.cause or "")
    assert cause["Status"] == "FAILED" and cause["Error"] == "E" and cause["Cause"] == "C"
    assert machine_arn("badchild") == cause["StateMachineArn"]


def test_stopping_the_parent_stops_its_sync_child(store: Store, engine: Engine) -> None:
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}
    child_arn = deploy(store, "slowchild", waiting)
    definition = _task(
        "arn:aws:states:::states:startExecution.sync",
        Parameters={"StateMachineArn": child_arn, "Input": {}},
        End=True,
    )
    arn = deploy(store, "boss", definition)
    execution = engine.start_execution(arn, name="b", input="{}")
    engine.run_until_idle()
    (child,) = store.executions.list(state_machine_arn=child_arn).items
    assert child.status == "RUNNING"
    engine.stop_execution(execution.arn)
    stopped = store.executions.get(child.arn)
    assert stopped.status == "ABORTED"
    assert stopped.cause == (
        f"The Task state in AWS Step Functions execution [{execution.arn}] which was managing "
        "this resource was aborted"
    )
    engine.run_until_idle()
    assert store.executions.get(execution.arn).status == "ABORTED"


def test_a_child_that_cannot_start_fails_the_task(store: Store, engine: Engine) -> None:
    missing = machine_arn("nowhere")
    definition = _task(
        "arn:aws:states:::states:startExecution.sync",
        Parameters={"StateMachineArn": missing, "Input": {}},
        End=True,
    )
    arn = deploy(store, "orphan", definition)
    execution = engine.start_execution(arn, name="o", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED"
    assert done.error == "StepFunctions.StateMachineDoesNotExistException"
    assert (done.cause or "").startswith(
        f"State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400;"
    )


def test_start_execution_wait_for_task_token(store: Store, engine: Engine) -> None:
    child_arn = deploy(store, "tokenchild", CHILD)
    definition = _task(
        "arn:aws:states:::states:startExecution.waitForTaskToken",
        Parameters={
            "StateMachineArn": child_arn,
            "Input": {"n": 1, "token.$": "$$.Task.Token"},
        },
        End=True,
    )
    arn = deploy(store, "asker", definition)
    execution = engine.start_execution(arn, name="a", input="{}")
    engine.run_until_idle()
    (child,) = store.executions.list(state_machine_arn=child_arn).items
    assert child.status == "SUCCEEDED"  # the child ran; the parent still waits for the token
    assert store.executions.get(execution.arn).status == "RUNNING"
    token = json.loads(child.input)["token"]
    engine.send_task_success(token, '{"from":"worker"}')
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and json.loads(done.output or "") == {"from": "worker"}


def test_stop_does_not_wait_for_a_running_function(store: Store) -> None:
    import threading

    started = threading.Event()
    release = threading.Event()

    def slow(event: Any, context: Any) -> Any:
        started.set()
        release.wait(10)
        return {}

    definition = _task(
        "arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "slow"}, End=True
    )
    arn = deploy(store, "slowfn", definition)
    engine = Engine(store, functions={"slow": slow})
    execution = engine.start_execution(arn, name="s", input="{}")
    worker = threading.Thread(target=engine.run_until_idle)
    worker.start()
    assert started.wait(10)
    engine.stop_execution(execution.arn)  # returns while the function still runs
    assert store.executions.get(execution.arn).status == "ABORTED"
    release.set()
    worker.join()
    assert store.executions.get(execution.arn).status == "ABORTED"
    assert types(store, execution.arn)[-2:] == ["TaskStateAborted", "ExecutionAborted"]


def test_sync_child_task_times_out(store: Store, engine: Engine, clock: FakeClock) -> None:
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}
    child_arn = deploy(store, "lazychild", waiting)
    definition = _task(
        "arn:aws:states:::states:startExecution.sync:2",
        Parameters={"StateMachineArn": child_arn, "Input": {}},
        TimeoutSeconds=10,
        End=True,
    )
    arn = deploy(store, "impatient", definition)
    execution = engine.start_execution(arn, name="i", input="{}")
    engine.run_until_idle()
    clock.advance(11)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.Timeout"
    assert types(store, execution.arn)[-2:] == ["TaskTimedOut", "ExecutionFailed"]

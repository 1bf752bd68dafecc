"""When task events are recorded: TaskStarted/TaskSubmitted as soon as the task is sent,
ActivityStarted when a worker takes the task (the sequences AWS records)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from batchyard.engine import Engine, history_event
from batchyard.store import Activity, Store
from tests.engine.conftest import ACCOUNT, REGION, FakeClock, deploy, types

ACTIVITY = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:timed"
CHILD = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, **fields}}}


def _history(store: Store, arn: str) -> list[dict[str, Any]]:
    return [history_event(event) for event in store.history.all(arn)]


def test_callback_started_and_submitted_before_the_answer(store: Store, clock: FakeClock) -> None:
    def notify(event: Any, context: Any) -> dict[str, Any]:
        return {"queued": event["token"][:4]}

    definition = _task(
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters={"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
        End=True,
    )
    arn = deploy(store, "cb-timing", definition)
    engine = Engine(store, clock=clock, functions={"notify": notify})
    execution = engine.start_execution(arn, name="c", input="{}")
    engine.run_until_idle()
    waiting = _history(store, execution.arn)
    assert [e["type"] for e in waiting] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
    ]
    ids = {"resourceType": "lambda", "resource": "invoke.waitForTaskToken"}
    assert waiting[3]["taskStartedEventDetails"] == ids
    submitted = waiting[4]["taskSubmittedEventDetails"]
    assert {k: submitted[k] for k in ids} == ids
    assert json.loads(submitted["output"])["Payload"]["queued"]
    assert submitted["outputDetails"] == {"truncated": False}
    token = store.task_tokens.for_execution(execution.arn, status="WAITING")[0].token
    clock.advance(5)
    engine.send_task_success(token, '{"ok":1}')
    engine.run_until_idle()
    history = _history(store, execution.arn)
    assert [e["type"] for e in history[5:]] == [
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert history[5]["timestamp"] - history[3]["timestamp"] == timedelta(seconds=5)


def test_plain_callback_is_started_at_once_and_times_out_from_there(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    definition = _task(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        Parameters={"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
        TimeoutSeconds=5,
        End=True,
    )
    arn = deploy(store, "cb-plain", definition)
    execution = engine.start_execution(arn, name="p", input="{}")
    engine.run_until_idle()
    assert types(store, execution.arn)[-2:] == ["TaskScheduled", "TaskStarted"]
    clock.advance(6)
    engine.run_until_idle()
    assert types(store, execution.arn)[-3:] == ["TaskStarted", "TaskTimedOut", "ExecutionFailed"]


def test_sync_child_is_submitted_with_the_start_response(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    child_arn = deploy(store, "timed-child", CHILD)
    definition = _task(
        "arn:aws:states:::states:startExecution.sync:2",
        Parameters={"StateMachineArn": child_arn, "Input": {}},
        End=True,
    )
    arn = deploy(store, "sync-parent", definition)
    execution = engine.start_execution(arn, name="s", input="{}")
    engine.run_until_idle()
    history = _history(store, execution.arn)
    assert [e["type"] for e in history[2:]] == ["TaskScheduled", "TaskStarted", "TaskSubmitted"]
    response = json.loads(history[4]["taskSubmittedEventDetails"]["output"])
    assert set(response) == {"ExecutionArn", "StartDate"}
    assert store.executions.get(response["ExecutionArn"]).status == "RUNNING"
    clock.advance(31)
    engine.run_until_idle()
    assert types(store, execution.arn)[5:] == [
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert store.executions.get(execution.arn).status == "SUCCEEDED"


def test_activity_started_when_a_worker_takes_it(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    store.activities.create(Activity(arn=ACTIVITY, name="timed", created=datetime.now(UTC)))
    definition = _task(ACTIVITY, HeartbeatSeconds=10, TimeoutSeconds=100, End=True)
    arn = deploy(store, "act-timing", definition)
    execution = engine.start_execution(arn, name="a", input="{}")
    engine.run_until_idle()
    assert types(store, execution.arn)[-1] == "ActivityScheduled"
    # Queued for longer than HeartbeatSeconds: the heartbeat has not started counting.
    clock.advance(30)
    engine.run_until_idle()
    assert types(store, execution.arn)[-1] == "ActivityScheduled"
    task = engine.get_activity_task(ACTIVITY, "worker-7", wait_seconds=0)
    engine.run_until_idle()
    history = _history(store, execution.arn)
    assert history[-1]["type"] == "ActivityStarted"
    assert history[-1]["activityStartedEventDetails"] == {"workerName": "worker-7"}
    assert history[-1]["timestamp"] - history[-2]["timestamp"] == timedelta(seconds=30)
    clock.advance(11)  # now the heartbeat counts, from ActivityStarted
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.HeartbeatTimeout"
    assert types(store, execution.arn)[-3:] == [
        "ActivityStarted",
        "ActivityTimedOut",
        "ExecutionFailed",
    ]
    assert task["taskToken"]


def test_a_rebuilt_run_replays_started_inputs(store: Store, clock: FakeClock) -> None:
    store.activities.create(Activity(arn=ACTIVITY, name="timed", created=datetime.now(UTC)))
    arn = deploy(store, "act-replay", _task(ACTIVITY, End=True))
    first = Engine(store, clock=clock, owner="first")
    execution = first.start_execution(arn, name="r", input="{}")
    first.run_until_idle()
    task = first.get_activity_task(ACTIVITY, "w", wait_seconds=0)
    first.run_until_idle()
    # Another engine (a restart) replays the journal, then takes the answer.
    second = Engine(store, clock=clock, owner="second")
    second.send_task_success(task["taskToken"], '"fine"')
    second.run_until_idle()
    assert types(store, execution.arn) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]

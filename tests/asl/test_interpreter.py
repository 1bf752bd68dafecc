"""The interpreter as a durable engine drives it: commands out, outcomes in, no I/O inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from batchyard.asl import VirtualClock, compile, execute
from batchyard.asl.integrations import Family, describe_service_resource, register
from batchyard.asl.interpreter import RunTask, StartTimer, TaskOutcome

T0 = datetime(2024, 1, 1, tzinfo=UTC)

DEFINITION = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "work", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5, "MaxAttempts": 1}],
            "OutputPath": "$.Payload",
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_interpreter_emits_commands_and_advances_on_outcomes() -> None:
    machine = compile(DEFINITION)
    interp = machine.interpreter({"n": 1}, name="durable", start_time=T0)

    commands = interp.start(T0)
    assert len(commands) == 1 and isinstance(commands[0], RunTask)
    task = commands[0]
    assert task.request.resource == "arn:aws:states:::lambda:invoke"
    assert task.request.parameters == {"FunctionName": "work", "Payload": {"n": 1}}
    assert interp.status == "RUNNING"
    assert _types(interp.events)[-1] == "TaskScheduled"

    # A failure the retrier handles: a timer, nothing else.
    commands = interp.task_completed(task.thread_id, TaskOutcome(error="Flaky", cause="x"), T0)
    assert len(commands) == 1 and isinstance(commands[0], StartTimer)
    assert commands[0].due == T0 + timedelta(seconds=5)

    commands = interp.timer_fired(commands[0].thread_id, T0 + timedelta(seconds=5))
    assert isinstance(commands[0], RunTask)
    payload = {"ExecutedVersion": "$LATEST", "Payload": {"ok": True}, "StatusCode": 200}
    commands = interp.task_completed(
        commands[0].thread_id, TaskOutcome(result=payload), T0 + timedelta(seconds=6)
    )
    assert len(commands) == 1 and isinstance(commands[0], StartTimer)
    assert commands[0].due == T0 + timedelta(seconds=66)

    assert interp.timer_fired(commands[0].thread_id, T0 + timedelta(seconds=66)) == []
    assert interp.status == "SUCCEEDED"
    assert interp.output == {"ok": True}
    assert _types(interp.events) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "WaitStateEntered",
        "WaitStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert interp.events[-1]["timestamp"] == T0 + timedelta(seconds=66)


def test_same_inputs_give_the_same_history() -> None:
    def work(event: Any, context: Any) -> Any:
        return event

    def strip(events: list[dict[str, Any]]) -> list[Any]:
        # Request ids and HTTP dates are generated per invocation, as on AWS.
        return [(e["id"], e["previousEventId"], e["type"], e["timestamp"]) for e in events]

    first = execute(
        DEFINITION, {"n": 1}, functions={"work": work}, name="a", clock=VirtualClock(T0)
    )
    second = execute(
        DEFINITION, {"n": 1}, functions={"work": work}, name="a", clock=VirtualClock(T0)
    )
    assert first.status == "SUCCEEDED"
    assert strip(first.events) == strip(second.events)


def test_execution_timeout_ends_timed_out() -> None:
    definition = {**DEFINITION, "TimeoutSeconds": 30}

    def work(event: Any, context: Any) -> Any:
        return event

    result = execute(definition, {}, functions={"work": work}, clock=VirtualClock(T0))
    assert (result.status, result.error) == ("TIMED_OUT", "States.Timeout")
    assert _types(result.events)[-2:] == ["WaitStateEntered", "ExecutionTimedOut"]
    timed_out = result.events[-1]
    assert timed_out["timestamp"] == T0 + timedelta(seconds=30)
    assert timed_out["previousEventId"] == result.events[-2]["id"]
    assert timed_out["executionTimedOutEventDetails"]["error"] == "States.Timeout"


def test_compile_once_run_many() -> None:
    machine = compile({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    outputs = [machine.execute(value).output for value in (1, "two", [3], None)]
    assert outputs == [1, "two", [3], None]


def test_abort_records_aborted_states_then_execution_aborted() -> None:
    machine = compile(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "W",
                            "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}},
                        }
                    ],
                    "End": True,
                }
            },
        }
    )
    interp = machine.interpreter({}, name="stop-me", start_time=T0)
    commands = interp.start(T0)
    assert isinstance(commands[0], StartTimer)
    interp.abort(T0 + timedelta(seconds=5), error="Stop", cause="by user")
    assert interp.status == "ABORTED"
    assert _types(interp.events)[-3:] == [
        "WaitStateAborted",
        "ParallelStateAborted",
        "ExecutionAborted",
    ]
    assert interp.events[-1]["executionAbortedEventDetails"] == {
        "error": "Stop",
        "cause": "by user",
    }


def test_replaying_recorded_outcomes_rebuilds_the_same_execution() -> None:
    """What a durable engine does after a crash: feed the persisted outcomes to a new interpreter."""
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {
                        "T": {
                            "Type": "Task",
                            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                            "Retry": [{"ErrorEquals": ["States.ALL"], "JitterStrategy": "FULL"}],
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    machine = compile(definition)
    journal: list[tuple[str, int, Any, datetime]] = []

    def drive(interp: Any, replay: list[tuple[str, int, Any, datetime]] | None) -> None:
        pending = interp.start(T0)
        now = T0
        steps = iter(replay) if replay is not None else None
        while pending:
            command = pending.pop(0)
            if steps is not None:
                kind, thread_id, value, now = next(steps)
            elif isinstance(command, RunTask):
                item = command.request.parameters
                fails = item == 2 and not any(j[0] == "task" and j[2].failed for j in journal)
                value = TaskOutcome(error="Oops", cause="x") if fails else TaskOutcome(result=item)
                kind, thread_id = "task", command.thread_id
                journal.append((kind, thread_id, value, now))
            else:
                now = command.due
                kind, thread_id, value = "timer", command.thread_id, None
                journal.append((kind, thread_id, value, now))
            if kind == "task":
                pending += interp.task_completed(thread_id, value, now)
            else:
                pending += interp.timer_fired(thread_id, now)

    first = machine.interpreter([1, 2, 3], name="replayed", start_time=T0)
    drive(first, None)
    again = machine.interpreter([1, 2, 3], name="replayed", start_time=T0)
    drive(again, journal)
    assert first.status == again.status == "SUCCEEDED"
    assert first.output == again.output == [1, 2, 3]
    assert first.events == again.events


class _Callback:
    """An integration as the durable engine will add one: the worker answers later."""

    family: Family = "Task"

    def describe(self, resource: str) -> tuple[str, str]:
        return describe_service_resource(resource)

    def invoke(self, request: Any, env: Any) -> TaskOutcome:  # pragma: no cover - engine only
        raise AssertionError("the engine answers callbacks, not the in-memory driver")


def test_callback_tasks_get_a_task_token_and_plug_in_through_the_registry() -> None:
    resource = "arn:aws:states:::batchyard-test:notify.waitForTaskToken"
    register(r"arn:aws:states:::batchyard-test:notify\.waitForTaskToken", _Callback())
    machine = compile(
        {
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": resource,
                    "Parameters": {"token.$": "$$.Task.Token", "q": 1},
                    "End": True,
                }
            },
        }
    )
    interp = machine.interpreter({}, name="cb", start_time=T0)
    (command,) = interp.start(T0)
    assert isinstance(command, RunTask)
    token = command.request.task_token
    assert token is not None and command.request.parameters == {"token": token, "q": 1}
    scheduled = interp.events[-1]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == (
        "batchyard-test",
        "notify.waitForTaskToken",
    )
    interp.task_completed(command.thread_id, TaskOutcome(result={"answer": 42}), T0)
    assert interp.status == "SUCCEEDED" and interp.output == {"answer": 42}

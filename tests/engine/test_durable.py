"""Durable executions: events persisted, timers in the store, tasks, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from batchyard.engine import Engine, ExecutionAlreadyExists, InvalidName, history_event
from batchyard.store import Store
from tests.engine.conftest import FakeClock, deploy, types

PASS_WAIT = {
    "StartAt": "P",
    "States": {
        "P": {"Type": "Pass", "Result": {"x": 1}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 30, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def test_pass_chain_succeeds_and_history_is_persisted(store: Store, engine: Engine) -> None:
    definition = {
        "StartAt": "S0",
        "States": {
            **{f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(9)},
            "S9": {"Type": "Pass", "End": True},
        },
    }
    arn = deploy(store, "chain", definition)
    execution = engine.start_execution(arn, name="one", input='{"a": 1}')
    engine.run_until_idle()
    done = engine.describe(execution.arn)
    assert done.status == "SUCCEEDED"
    assert json.loads(done.output or "") == {"a": 1}
    history = store.history.all(execution.arn)
    assert [e.id for e in history] == list(range(1, 23))
    wire = history_event(history[0])
    assert wire["type"] == "ExecutionStarted"
    assert wire["executionStartedEventDetails"]["input"] == '{"a": 1}'  # as given, as on AWS


def test_wait_timer_lives_in_the_store_and_survives_a_new_engine(
    store: Store, clock: FakeClock
) -> None:
    arn = deploy(store, "waiting", PASS_WAIT)
    first = Engine(store, clock=clock, owner="a")
    execution = first.start_execution(arn, name="w", input="{}")
    first.run_until_idle()
    assert store.executions.get(execution.arn).status == "RUNNING"
    assert [t.key for t in store.timers.for_execution(execution.arn)] == ["w:0:0"]
    assert types(store, execution.arn)[-1] == "WaitStateEntered"
    # A new engine (the first one "crashed"): the timer fires once due, not before.
    second = Engine(store, clock=clock, owner="b")
    clock.advance(10)
    second.run_until_idle()
    assert store.executions.get(execution.arn).status == "RUNNING"
    clock.advance(31)  # past the first engine's lease too
    second.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    assert types(store, execution.arn)[-3:] == [
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    ids = [e.id for e in store.history.all(execution.arn)]
    assert ids == list(range(1, len(ids) + 1))


def test_start_execution_is_idempotent_while_running(store: Store, engine: Engine) -> None:
    arn = deploy(store, "idem", PASS_WAIT)
    first = engine.start_execution(arn, name="same", input='{"k":1}')
    again = engine.start_execution(arn, name="same", input='{"k":1}')
    assert again.arn == first.arn and again.start_date == first.start_date
    with pytest.raises(ExecutionAlreadyExists) as error:
        engine.start_execution(arn, name="same", input='{"k":2}')
    assert error.value.message == f"Execution Already Exists: '{first.arn}'"


@pytest.mark.parametrize("name", ["has space", "a/b", "x" * 81, "", "tab\t"])
def test_invalid_names(store: Store, engine: Engine, name: str) -> None:
    arn = deploy(store, "names", PASS_WAIT)
    with pytest.raises(InvalidName) as error:
        engine.start_execution(arn, name=name, input="{}")
    assert error.value.message == f"Invalid Name: '{name}'"


def test_lambda_task_through_functions(store: Store, clock: FakeClock) -> None:
    calls: list[Any] = []

    def double(event: Any, context: Any) -> Any:
        calls.append(event)
        return {"n": event["n"] * 2}

    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "double", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    arn = deploy(store, "lam", definition)
    engine = Engine(store, clock=clock, functions={"double": double})
    execution = engine.start_execution(arn, name="l", input='{"n": 21}')
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and json.loads(done.output or "") == {"n": 42}
    assert calls == [{"n": 21}]
    assert types(store, execution.arn)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]


def test_stop_execution_aborts_at_once(store: Store, engine: Engine) -> None:
    arn = deploy(store, "stop", PASS_WAIT)
    execution = engine.start_execution(arn, name="s", input="{}")
    engine.run_until_idle()
    stopped = engine.stop_execution(execution.arn, error="E", cause="C")
    done = store.executions.get(execution.arn)
    assert done.status == "ABORTED" and done.stop_date == stopped
    assert types(store, execution.arn)[-1] == "ExecutionAborted"
    assert store.timers.for_execution(execution.arn) == []
    last = history_event(store.history.all(execution.arn)[-1])
    assert last["executionAbortedEventDetails"] == {"error": "E", "cause": "C"}


def test_determinism_guard_refuses_a_history_that_replay_does_not_regenerate(
    store: Store, engine: Engine
) -> None:
    from batchyard.engine import NondeterminismError

    arn = deploy(store, "guard", PASS_WAIT)
    execution = engine.start_execution(arn, name="g", input="{}")
    engine.run_until_idle()
    with store.transaction() as tx:
        tx.connection.exec_driver_sql(
            "UPDATE history_events SET type = 'Tampered' WHERE id = 2 AND execution_arn = ?",
            (execution.arn,),
        )
    with pytest.raises(NondeterminismError, match="event 2"):
        engine.core.rebuild(store.executions.get(execution.arn))


def test_takeover_replays_and_continues_without_duplicates(store: Store, clock: FakeClock) -> None:
    arn = deploy(store, "takeover", PASS_WAIT)
    first = Engine(store, clock=clock, owner="first")
    execution = first.start_execution(arn, name="t", input="{}")
    first.run_until_idle()
    # "first" keeps its Run in memory; "second" takes over after the timer, replaying.
    second = Engine(store, clock=clock, owner="second")
    clock.advance(31)
    second.run_until_idle()
    assert store.executions.get(execution.arn).status == "SUCCEEDED"
    # The stale holder wakes up: its next step is refused by the store, nothing is duplicated.
    assert first.core.process(execution.arn) is None
    ids = [e.id for e in store.history.all(execution.arn)]
    assert ids == list(range(1, len(ids) + 1))


def test_execution_timeout_is_a_durable_timer(store: Store, clock: FakeClock) -> None:
    definition = {"TimeoutSeconds": 5, **PASS_WAIT}
    arn = deploy(store, "slow", definition)
    engine = Engine(store, clock=clock)
    execution = engine.start_execution(arn, name="late", input="{}")
    engine.run_until_idle()
    assert {t.key for t in store.timers.for_execution(execution.arn)} == {"x", "w:0:0"}
    clock.advance(6)
    Engine(store, clock=clock).run_until_idle()  # another engine: the timer is in the store
    done = store.executions.get(execution.arn)
    assert done.status == "TIMED_OUT" and done.error == "States.Timeout"
    assert types(store, execution.arn)[-1] == "ExecutionTimedOut"
    assert store.timers.for_execution(execution.arn) == []


def test_child_sees_the_parent_execution_id(store: Store, engine: Engine) -> None:
    child = deploy(store, "kid", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": child,
                    "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
                },
                "OutputPath": "$.Output",
                "End": True,
            }
        },
    }
    arn = deploy(store, "mom", definition)
    execution = engine.start_execution(arn, name="m", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert json.loads(done.output or "") == {
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution.arn
    }


def test_purge_frees_names_after_90_days(store: Store, engine: Engine, clock: FakeClock) -> None:
    from batchyard.engine import journal

    arn = deploy(store, "old", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    first = engine.start_execution(arn, name="reused", input="{}")
    engine.run_until_idle()
    clock.advance(91 * 24 * 3600)
    assert engine.purge() == 1
    with store.transaction() as tx:
        assert journal.load_inputs(tx.connection, first.arn) == []
    again = engine.start_execution(arn, name="reused", input='{"new":1}')
    engine.run_until_idle()
    assert store.executions.get(again.arn).status == "SUCCEEDED"


def test_background_workers_and_long_poll(store: Store) -> None:
    import threading
    from datetime import UTC, datetime

    from batchyard.store import Activity

    activity = "arn:aws:states:us-east-1:123456789012:activity:bg"
    store.activities.create(Activity(arn=activity, name="bg", created=datetime.now(UTC)))
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = deploy(store, "bg", definition)
    engine = Engine(store)
    engine.start()
    try:
        got: list[dict[str, str]] = []
        poller = threading.Thread(
            target=lambda: got.append(engine.get_activity_task(activity, "w", wait_seconds=10))
        )
        poller.start()  # waiting before the task exists: the long poll picks it up
        execution = engine.start_execution(arn, name="bg", input='{"v":1}')
        poller.join()
        engine.send_task_success(got[0]["taskToken"], '{"ok":1}')
        for _ in range(200):
            if store.executions.get(execution.arn).status != "RUNNING":
                break
            threading.Event().wait(0.02)
        assert store.executions.get(execution.arn).output == '{"ok":1}'
    finally:
        engine.stop()


def test_leases_are_renewed_while_a_step_runs(store: Store) -> None:
    import time as real_time

    seen: list[tuple[str | None, Any]] = []

    def slow(event: Any, context: Any) -> Any:
        real_time.sleep(0.8)  # longer than the lease
        seen.append(store.work.get("execution", event["arn"]) or (None, None))
        return {}

    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "slow", "Payload": {"arn.$": "$$.Execution.Id"}},
                "End": True,
            }
        },
    }
    arn = deploy(store, "renewed", definition)
    engine = Engine(store, functions={"slow": slow}, lease_seconds=0.3, owner="holder")
    execution = engine.start_execution(arn, name="r", input="{}")
    engine.run_until_idle()
    assert store.executions.get(execution.arn).status == "SUCCEEDED"
    owner, available_at = seen[0]
    assert owner == "holder" and available_at > datetime.now(UTC)  # still leased to us

"""RedriveExecution reruns only the unsuccessful part, with AWS's rules."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from batchyard.engine import Engine, ExecutionNotRedrivable
from batchyard.store import Store
from tests.engine.conftest import FakeClock, deploy, types


def _flaky_engine(
    store: Store, clock: FakeClock, fail: dict[str, bool]
) -> tuple[Engine, Counter[str]]:
    calls: Counter[str] = Counter()

    def work(event: Any, context: Any) -> Any:
        calls[event["step"]] += 1
        if fail.get(event["step"]):
            raise RuntimeError("not yet")
        return {"done": event["step"]}

    return Engine(store, clock=clock, functions={"work": work}), calls


def _task(step: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "work", "Payload": {"step": step}},
        "ResultSelector": {"r.$": "$.Payload.done"},
        **fields,
    }


DEFINITION = {
    "StartAt": "First",
    "States": {
        "First": _task("first", ResultPath="$.first", Next="Second"),
        "Second": _task("second", ResultPath="$.second", End=True),
    },
}


def test_redrive_reruns_only_the_failed_state(store: Store, clock: FakeClock) -> None:
    fail = {"second": True}
    engine, calls = _flaky_engine(store, clock, fail)
    arn = deploy(store, "redrive", DEFINITION)
    execution = engine.start_execution(arn, name="r", input="{}")
    engine.run_until_idle()
    failed = store.executions.get(execution.arn)
    assert failed.status == "FAILED" and failed.redrive_status == "REDRIVABLE"
    failed_count = store.history.count(execution.arn)

    fail["second"] = False
    clock.advance(5)
    engine.redrive_execution(execution.arn)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and done.redrive_count == 1
    assert json.loads(done.output or "") == {"first": {"r": "first"}, "second": {"r": "second"}}
    assert calls == Counter({"first": 1, "second": 2})
    history = store.history.all(execution.arn)
    assert [e.id for e in history] == list(range(1, len(history) + 1))
    assert history[failed_count].type == "ExecutionRedriven"
    assert history[failed_count].details == {"executionRedrivenEventDetails": {"redriveCount": 1}}
    assert types(store, execution.arn).count("ExecutionStarted") == 1
    # The redriven execution replays like any other (a takeover after the redrive).
    rebuilt = engine.core.rebuild(store.executions.get(execution.arn))
    assert rebuilt.interp.status == "SUCCEEDED"


def test_redrive_rules(store: Store, clock: FakeClock) -> None:
    engine, _ = _flaky_engine(store, clock, {})
    arn = deploy(store, "fine", DEFINITION)
    execution = engine.start_execution(arn, name="ok", input="{}")
    engine.run_until_idle()
    with pytest.raises(
        ExecutionNotRedrivable, match="Execution is SUCCEEDED and cannot be redriven"
    ):
        engine.redrive_execution(execution.arn)

    broken, _ = _flaky_engine(store, clock, {"second": True})
    arn2 = deploy(store, "late", DEFINITION)
    old = broken.start_execution(arn2, name="old", input="{}")
    broken.run_until_idle()
    clock.advance(15 * 24 * 3600)
    with pytest.raises(ExecutionNotRedrivable, match="14 days"):
        broken.redrive_execution(old.arn)


def test_redrive_of_a_stopped_execution_resumes_its_wait(
    store: Store, engine: Engine, clock: FakeClock
) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    arn = deploy(store, "stopped", definition)
    execution = engine.start_execution(arn, name="s", input="{}")
    engine.run_until_idle()
    engine.stop_execution(execution.arn)
    engine.redrive_execution(execution.arn, client_token="tok")
    again = engine.redrive_execution(execution.arn, client_token="tok")  # idempotent
    assert again == store.executions.get(execution.arn).redrive_date
    clock.advance(11)
    engine.run_until_idle()
    assert store.executions.get(execution.arn).status == "SUCCEEDED"
    assert types(store, execution.arn)[-4:] == [
        "WaitStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_redrive_of_a_parallel_reruns_only_the_failed_branch(
    store: Store, clock: FakeClock
) -> None:
    fail = {"b": True}
    engine, calls = _flaky_engine(store, clock, fail)
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": _task("a", End=True)}},
                    {"StartAt": "B", "States": {"B": _task("b", End=True)}},
                ],
                "End": True,
            }
        },
    }
    arn = deploy(store, "par", definition)
    execution = engine.start_execution(arn, name="p", input="{}")
    engine.run_until_idle()
    assert store.executions.get(execution.arn).status == "FAILED"
    fail["b"] = False
    engine.redrive_execution(execution.arn)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    assert json.loads(done.output or "") == [{"r": "a"}, {"r": "b"}]
    assert calls == Counter({"a": 1, "b": 2})


def test_start_by_version_arn_runs_that_revision(store: Store, clock: FakeClock) -> None:
    from dataclasses import replace

    from batchyard.store import StateMachineVersion
    from tests.engine.conftest import T0

    engine, _ = _flaky_engine(store, clock, {})
    first = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "v1", "End": True}}}
    arn = deploy(store, "versioned", first)
    version_arn = f"{arn}:1"
    store.versions.create(
        StateMachineVersion(
            arn=version_arn, state_machine_arn=arn, version_number=1, revision_id="r1", created=T0
        )
    )
    machine = store.state_machines.get(arn)
    second = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "v2", "End": True}}}
    store.state_machines.save(replace(machine, definition=json.dumps(second), revision_id="r2"))
    by_version = engine.start_execution(version_arn, name="v", input="{}")
    latest = engine.start_execution(arn, name="l", input="{}")
    engine.run_until_idle()
    assert store.executions.get(by_version.arn).output == '"v1"'
    assert store.executions.get(by_version.arn).state_machine_version_arn == version_arn
    assert store.executions.get(latest.arn).output == '"v2"'

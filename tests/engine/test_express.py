"""EXPRESS executions: in memory, StartSyncExecution, never in the history tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchyard.engine import Engine, StateMachineTypeNotSupported
from batchyard.store import Store
from tests.engine.conftest import FakeClock, deploy

ADD = {
    "StartAt": "Add",
    "States": {
        "Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}
    },
}


def test_start_sync_execution_returns_aws_shape(store: Store, engine: Engine) -> None:
    arn = deploy(store, "fast", ADD, type_="EXPRESS")
    result: dict[str, Any] = engine.start_sync_execution(arn, name="s1", input='{"a":2,"b":3}')
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"sum": 5}
    assert result["executionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:express:fast:s1:"
    )
    assert result["inputDetails"] == {"included": True}
    assert set(result["billingDetails"]) == {"billedMemoryUsedInMB", "billedDurationInMilliseconds"}
    assert store.executions.find(result["executionArn"]) is None


def test_start_sync_execution_failure(store: Store, engine: Engine) -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}
    arn = deploy(store, "fastfail", failing, type_="EXPRESS")
    result = engine.start_sync_execution(arn, input="{}")
    assert (result["status"], result["error"], result["cause"]) == ("FAILED", "E", "C")
    assert "output" not in result


def test_start_sync_on_standard_is_refused(store: Store, engine: Engine) -> None:
    arn = deploy(store, "std", ADD)
    with pytest.raises(StateMachineTypeNotSupported):
        engine.start_sync_execution(arn, input="{}")


def test_express_start_execution_is_not_idempotent(store: Store, clock: FakeClock) -> None:
    arn = deploy(store, "fast2", ADD, type_="EXPRESS")
    engine = Engine(store, clock=clock)
    first = engine.start_execution(arn, name="same", input='{"a":1,"b":1}')
    second = engine.start_execution(arn, name="same", input='{"a":1,"b":1}')
    assert first.arn != second.arn and first.type == "EXPRESS"

"""Lambda tasks run beside the engine's workers: a slow function holds no worker."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from batchyard.engine import Engine
from batchyard.store import open_store
from tests.engine.conftest import deploy

SLOW_THEN_PASS = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "wait", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}
PASS_CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Result": {"done": True}, "End": True},
    },
}


def _wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_function_waiting_on_another_execution_does_not_block_it(tmp_path: Path) -> None:
    """With ONE engine worker, execution A's function waits until execution B has finished.
    Were the function run in the worker, B could never run and A would never end."""
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    other_done = threading.Event()

    def wait(event: Any, context: Any) -> Any:
        assert other_done.wait(timeout=30), "execution B never ran while this function waited"
        return {"waited": True, **event}

    slow = deploy(store, "slow", SLOW_THEN_PASS)
    quick = deploy(store, "quick", PASS_CHAIN)
    engine = Engine(store, functions={"wait": wait}, workers=1, lease_seconds=1.0)
    engine.start()
    try:
        a = engine.start_execution(slow, name="a", input='{"n": 1}')
        # A's function is in flight before B even exists.
        _wait_for(lambda: engine.core.invocations.busy())
        b = engine.start_execution(quick, name="b", input="{}")
        _wait_for(lambda: store.executions.get(b.arn).status == "SUCCEEDED")
        other_done.set()
        done = _wait_for(lambda: (e := store.executions.get(a.arn)).status != "RUNNING" and e)
        assert done.status == "SUCCEEDED"
        assert json.loads(done.output or "") == {"waited": True, "n": 1}
    finally:
        other_done.set()
        engine.stop()
        store.close()


def test_parallel_functions_run_together_once_each(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    calls: Counter[str] = Counter()
    both_in = threading.Barrier(2, timeout=30)  # each branch's function waits for the other

    def meet(event: Any, context: Any) -> Any:
        calls[event["branch"]] += 1
        both_in.wait()
        return event["branch"]

    def branch(name: str) -> dict[str, Any]:
        return {
            "StartAt": name,
            "States": {
                name: {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "meet", "Payload": {"branch": name}},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        }

    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {"Type": "Parallel", "Branches": [branch("L"), branch("R")], "End": True}
        },
    }
    arn = deploy(store, "both", definition)
    engine = Engine(store, functions={"meet": meet}, workers=1)
    try:
        execution = engine.start_execution(arn, name="p", input="{}")
        engine.run_until_idle(timeout=30)
        done = store.executions.get(execution.arn)
        assert done.status == "SUCCEEDED", done.cause
        assert json.loads(done.output or "") == ["L", "R"]
        assert calls == Counter({"L": 1, "R": 1})
        # The lease is given back (the execution's work item completed) once the last
        # function has ended, just after it continued the execution.
        _wait_for(lambda: store.work.get("execution", execution.arn) is None)
    finally:
        engine.stop()
        store.close()

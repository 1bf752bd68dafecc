"""kill -9 at random moments: every execution still ends exactly as an uninterrupted run."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchyard import asl
from batchyard.engine import Engine
from batchyard.store import Activity, open_store
from tests.engine.conftest import ROOT_DIR, deploy
from tests.engine.crash_worker import FUNCTIONS

INC = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "inc", "Payload.$": "$"},
    "OutputPath": "$.Payload",
}
LOOP = {
    "StartAt": "Inc",
    "States": {
        "Inc": {**INC, "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "More"},
        "More": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Inc"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}
FANOUT = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {**INC, "End": True}}},
                {
                    "StartAt": "W",
                    "States": {
                        "W": {"Type": "Wait", "Seconds": 1, "Next": "B"},
                        "B": {**INC, "End": True},
                    },
                },
            ],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$",
            "MaxConcurrency": 2,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {**INC, "End": True}}},
            "End": True,
        },
    },
}
ACTIVITY_ARN = "arn:aws:states:us-east-1:123456789012:activity:crash"
ASK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": ACTIVITY_ARN,
            "Parameters": {"n.$": "$.n"},
            "HeartbeatSeconds": 60,
            "Next": "Then",
        },
        "Then": {**INC, "End": True},
    },
}
MACHINES = {"loop": LOOP, "fanout": FANOUT, "ask": ASK}


def _answer_activities(client: Engine, stop: threading.Event) -> None:
    """The activity worker: doubles n, whatever the engine process is going through."""
    while not stop.is_set():
        task = client.get_activity_task(ACTIVITY_ARN, "crash-worker", wait_seconds=0.2)
        if task:
            n = json.loads(task["input"])["n"]
            client.send_task_success(task["taskToken"], json.dumps({"n": n * 2}))


def _reference(name: str, value: Any, execution_name: str) -> Any:
    if name == "ask":  # what the activity worker answers, then the in-memory run of the rest
        value = {"n": value["n"] * 2}
        return asl.execute(
            {"StartAt": "T", "States": {"T": {**INC, "End": True}}},
            value,
            functions=FUNCTIONS,
            name=execution_name,
        )
    return asl.execute(MACHINES[name], value, functions=FUNCTIONS, name=execution_name)


def _spawn(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.crash_worker", url],
        cwd=ROOT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url)
    arns = {name: deploy(store, name, definition) for name, definition in MACHINES.items()}
    client = Engine(store)  # starts executions only: no workers in this process
    started: list[tuple[str, str, Any]] = []
    store.activities.create(Activity(arn=ACTIVITY_ARN, name="crash", created=datetime.now(UTC)))
    stop = threading.Event()
    answering = threading.Thread(target=_answer_activities, args=(Engine(store), stop))
    answering.start()
    for i in range(15):
        name = ("fanout", "loop", "ask")[i % 3]
        value: Any = {"n": i % 3} if name == "loop" else {"n": i}
        execution = client.start_execution(arns[name], name=f"run-{i}", input=json.dumps(value))
        started.append((name, execution.arn, value))

    rng = random.Random(4)
    interrupted = 0
    for _ in range(5):
        worker = _spawn(url)
        assert worker.stdout is not None and worker.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.05, 0.8))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker.stdout.close()
        running = [a for _, a, _ in started if store.executions.get(a).status == "RUNNING"]
        interrupted += len(running)
    assert interrupted  # the kills landed while executions were in flight
    worker = _spawn(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(store.executions.get(arn).status != "RUNNING" for _, arn, _ in started):
                break
            time.sleep(0.2)
    finally:
        stop.set()
        answering.join()
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()

    for name, arn, value in started:
        execution = store.executions.get(arn)
        expected = _reference(name, value, execution.name)
        assert execution.status == expected.status == "SUCCEEDED", arn
        assert json.loads(execution.output or "") == expected.output
        history = store.history.all(arn)
        assert [e.id for e in history] == list(range(1, len(history) + 1))
        if name != "ask":
            assert Counter(e.type for e in history) == Counter(e["type"] for e in expected.events)
        else:
            assert [e.type for e in history].count("ActivitySucceeded") == 1
    store.close()

"""``kill -9`` of ``batchyard server``, five times at random moments, under 300 executions.

The proof of issue #4 §7: every execution still ends with exactly the output of an
uninterrupted run, and its history (every page of ``GetExecutionHistory``) has contiguous ids
from 1 and the event types of an uninterrupted run -- nothing lost, nothing twice.

Two oracles: the output is computed in memory by ``asl.execute`` on a *twin* definition whose
activity and callback tasks are Lambda functions answering exactly what the workers answer;
the event types are those of one execution of each kind run on the server before any kill.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from batchyard import asl
from tests.proof.servers import ServerProcess
from tests.proof.workers import (
    ActivityWorker,
    CallbackWorker,
    answer_activity,
    answer_callback,
    history,
    retrying,
)

pytestmark = pytest.mark.timeout(300)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/StepFunctions"
ACTIVITY_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:activity:proof-ask"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/proof"
EXECUTIONS = 300
KILLS = 5
SEED = 20261129
FINISH_TIMEOUT_S = 150.0

ASK: dict[str, Any] = {
    "Type": "Task",
    "Resource": ACTIVITY_ARN,
    "Parameters": {"n.$": "$.n"},
    # GetActivityTask delivers at most once, as on AWS: a response lost in a kill loses the
    # task, and only a time-out and a retry recover it (see check_history).
    "TimeoutSeconds": 20,
    "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 3}],
    "End": True,
}
CALL: dict[str, Any] = {
    "Type": "Task",
    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {
        "QueueUrl": QUEUE_URL,
        "MessageBody": {"token.$": "$$.Task.Token", "n.$": "$.n"},
    },
    "End": True,
}


def flow(ask: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """Choice, Wait, Parallel (activity beside callback), Map with a Choice inside."""
    sign = {
        "StartAt": "Sign",
        "States": {
            "Sign": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericGreaterThan": 5, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Parameters": {"big.$": "$"}, "End": True},
            "Small": {"Type": "Pass", "Parameters": {"small.$": "$"}, "End": True},
        },
    }
    return {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.kind", "StringEquals": "wide", "Next": "Pause"}],
                "Default": "Narrow",
            },
            "Narrow": {
                "Type": "Pass",
                "Parameters": {"n.$": "$.n", "items.$": "$.items", "kind": "narrowed"},
                "Next": "Pause",
            },
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Both"},
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Ask", "States": {"Ask": ask}},
                    {"StartAt": "Call", "States": {"Call": call}},
                ],
                "ResultPath": "$.answers",
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 3,
                "ItemProcessor": sign,
                "ResultPath": "$.mapped",
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


LOOP: dict[str, Any] = {
    "StartAt": "Init",
    "States": {
        "Init": {
            "Type": "Pass",
            "Parameters": {"i": 0, "n.$": "$.n", "id.$": "$.id"},
            "Next": "Tick",
        },
        "Tick": {
            "Type": "Pass",
            "Parameters": {"i.$": "States.MathAdd($.i, 1)", "n.$": "$.n", "id.$": "$.id"},
            "Next": "Gate",
        },
        "Gate": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.i", "NumericLessThanPath": "$.n", "Next": "Nap"}],
            "Default": "Done",
        },
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Tick"},
        "Done": {"Type": "Pass", "Parameters": {"count.$": "$.i", "id.$": "$.id"}, "End": True},
    },
}
FLOW = flow(ASK, CALL)
# The twin runs in memory: the same data flow, with functions in place of the workers.
TWIN_FLOW = flow(
    {**ASK, "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:ask"},
    {
        **CALL,
        "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:call",
        "Parameters": {"MessageBody": {"n.$": "$.n"}},
    },
)
TWIN_FUNCTIONS = {
    "ask": lambda event, _: answer_activity(event),
    "call": lambda event, _: answer_callback(event["MessageBody"]),
}
KINDS = ("wide", "narrow", "loop")


def machine_for(kind: str) -> str:
    return "proof-loop" if kind == "loop" else "proof-flow"


def input_for(kind: str, i: int) -> dict[str, Any]:
    if kind == "loop":
        return {"n": 3, "id": i}
    items = list(range(i % 7, i % 7 + (6 if kind == "wide" else 3)))
    return {"kind": kind, "n": i, "id": i, "items": items}


def expected_output(kind: str, value: dict[str, Any], name: str) -> Any:
    twin = LOOP if kind == "loop" else TWIN_FLOW
    result = asl.execute(twin, value, functions=TWIN_FUNCTIONS, name=name)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result.output


def machine_arn(machine: str) -> str:
    return f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{machine}"


def execution_arn(machine: str, name: str) -> str:
    return f"arn:aws:states:us-east-1:{ACCOUNT}:execution:{machine}:{name}"


PlanItem = tuple[str, str, dict[str, Any]]  # (kind, execution name, input)
Plan = list[PlanItem]


class Starter(threading.Thread):
    """Starts the executions while the server dies and comes back: StartExecution is
    retried with the same name and input, which AWS's idempotency makes safe."""

    def __init__(self, server: ServerProcess, plan: Plan, callbacks: CallbackWorker) -> None:
        super().__init__(name="starter", daemon=True)
        self.client = server.client()
        self.plan = plan
        self.callbacks = callbacks
        self.started = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for kind, name, value in self.plan:
                machine = machine_for(kind)
                arn = execution_arn(machine, name)
                request = {
                    "stateMachineArn": machine_arn(machine),
                    "name": name,
                    "input": json.dumps(value),
                }
                started = retrying(partial(self.client.start_execution, **request), timeout=90)
                assert started["executionArn"] == arn
                if kind != "loop":
                    self.callbacks.watch([arn])  # once it exists
                self.started += 1
        except BaseException as exc:  # the test reports it
            self.error = exc


def running(client: Any) -> int:
    """How many executions are RUNNING now (both machines, every page)."""
    count = 0
    for machine in ("proof-flow", "proof-loop"):
        kwargs: dict[str, Any] = {
            "stateMachineArn": machine_arn(machine),
            "statusFilter": "RUNNING",
            "maxResults": 1000,
        }
        while True:
            page = client.list_executions(**kwargs)
            count += len(page["executions"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return count


def wait_finished(client: Any, arn: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = retrying(lambda: client.describe_execution(executionArn=arn))
        if described["status"] != "RUNNING":
            return described
        assert time.monotonic() < deadline, f"{arn} still RUNNING after {timeout} s"
        time.sleep(0.1)


# What a delivery lost in a kill adds to a history: its time-out, and the retry's scheduling.
LOST_DELIVERY = {"ActivityScheduled", "ActivityTimedOut", "ActivityStarted"}


def check_history(
    events: list[dict[str, Any]], reference: Counter[str], arn: str, received: int
) -> None:
    """Ids contiguous from 1, the event types of the uninterrupted run -- plus, for each
    activity task that the workers never received (its GetActivityTask response died with the
    server), exactly one ActivityTimedOut and one more ActivityScheduled."""
    ids = [event["id"] for event in events]
    assert ids == list(range(1, len(events) + 1)), f"{arn}: event ids {ids}"
    types = Counter(event["type"] for event in events)
    assert reference - types == Counter(), f"{arn}: missing {reference - types}"
    extra = types - reference
    lost = types["ActivityScheduled"] - received
    assert set(extra) <= LOST_DELIVERY, f"{arn}: extra {extra}"
    assert extra["ActivityScheduled"] == extra["ActivityTimedOut"] == lost, (arn, extra, received)
    assert extra["ActivityStarted"] <= lost, (arn, extra)
    assert events[-1]["type"] == "ExecutionSucceeded", arn


def stuck(client: Any, left: int, asks: list[ActivityWorker], callbacks: CallbackWorker) -> str:
    """Why executions are still RUNNING: their last events, and what the workers received."""
    lines = [f"{left} executions still RUNNING"]
    asked = {task_input["n"] for worker in asks for task_input in worker.inputs}
    for machine in ("proof-flow", "proof-loop"):
        page = client.list_executions(
            stateMachineArn=machine_arn(machine), statusFilter="RUNNING", maxResults=1000
        )
        for execution in page["executions"]:
            arn = execution["executionArn"]
            events = history(client, arn)
            n = json.loads(events[0]["executionStartedEventDetails"]["input"]).get("n")
            answered = [token for token in callbacks.tokens if any(token in str(e) for e in events)]
            lines.append(
                f"{arn}: activity input received by a worker: {n in asked}; "
                f"callback answered: {bool(answered)}; last events:"
            )
            for event in events[-8:]:
                details = {k: v for k, v in event.items() if k.endswith("EventDetails")}
                lines.append(
                    f"  {event['id']} {event['type']} {json.dumps(details, default=str)[:200]}"
                )
    return "\n".join(lines)


def verify(
    client: Any, reference: dict[str, Counter[str]], asked: Counter[int], item: PlanItem
) -> tuple[int, int]:
    """Check one execution's status, output and history; return how many events it has and
    how many of its activity deliveries were lost in a kill."""
    kind, name, value = item
    arn = execution_arn(machine_for(kind), name)
    described = client.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == expected_output(kind, value, name), arn
    events = history(client, arn, page_size=25)  # several pages each
    received = asked[value["n"]] if kind != "loop" else 0
    check_history(events, reference[kind], arn, received)
    lost = sum(1 for event in events if event["type"] == "ActivityTimedOut")
    return len(events), lost


def test_kill9_five_times_under_300_executions(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    server.start()
    client = server.client()
    workers: list[ActivityWorker | CallbackWorker] = []
    try:
        client.create_activity(name="proof-ask")
        for machine, definition in (("proof-flow", FLOW), ("proof-loop", LOOP)):
            client.create_state_machine(
                name=machine, definition=json.dumps(definition), roleArn=ROLE
            )
        asks = [ActivityWorker(server.client, ACTIVITY_ARN, f"worker-{i}") for i in range(3)]
        callbacks = CallbackWorker(server.client, callbacks_per_execution=1)
        workers = [*asks, callbacks]
        for worker in workers:
            worker.start()

        # Uninterrupted runs first: one per kind, whose event types every execution must have.
        reference: dict[str, Counter[str]] = {}
        for i, kind in enumerate(KINDS):
            name, value = f"reference-{kind}", input_for(kind, 1000 + i)
            arn = execution_arn(machine_for(kind), name)
            client.start_execution(
                stateMachineArn=machine_arn(machine_for(kind)), name=name, input=json.dumps(value)
            )
            if kind != "loop":
                callbacks.watch([arn])
            described = wait_finished(client, arn, timeout=30)
            assert described["status"] == "SUCCEEDED", described
            assert json.loads(described["output"]) == expected_output(kind, value, name)
            reference[kind] = Counter(event["type"] for event in history(client, arn))

        plan: Plan = []
        for i in range(EXECUTIONS):
            kind = KINDS[i % len(KINDS)]
            plan.append((kind, f"proof-{i:03d}", input_for(kind, i)))
        starter = Starter(server, plan, callbacks)
        started_at = time.monotonic()
        starter.start()

        rng = random.Random(SEED)
        interrupted: list[int] = []
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 4.0))
            interrupted.append(running(client))
            server.kill9()
            server.start()  # same port, same data directory
        starter.join(timeout=120)
        assert starter.error is None, repr(starter.error)
        assert starter.started == EXECUTIONS

        deadline = time.monotonic() + FINISH_TIMEOUT_S
        while (left := retrying(lambda: running(client))) > 0:
            assert time.monotonic() < deadline, stuck(client, left, asks, callbacks)
            time.sleep(0.5)
        elapsed = time.monotonic() - started_at

        # Every execution, checked through the API (a few at a time: histories are paged).
        with ThreadPoolExecutor(max_workers=4) as pool:
            asked = Counter(task["n"] for worker in asks for task in worker.inputs)
            checked = list(pool.map(partial(verify, client, reference, asked), plan))
        events_checked = sum(events for events, _ in checked)
        lost = sum(lost for _, lost in checked)

        flows = sum(1 for kind, _, _ in plan if kind != "loop")
        activity_tokens = sum((w.tokens for w in asks), Counter[str]())
        assert [p for w in asks for p in w.problems] + callbacks.problems == []
        assert sorted(activity_tokens.values()) == [1] * (flows + 2)  # 2 reference runs
        assert sorted(callbacks.tokens.values()) == [1] * (flows + 2)
        assert sum(interrupted) > 0  # the kills landed while executions were in flight
        print(
            f"\nkill -9 proof: {EXECUTIONS} executions, {KILLS} kills "
            f"(RUNNING at each kill: {interrupted}), {events_checked} history events checked, "
            f"{sum(activity_tokens.values())} activity tasks and {len(callbacks.tokens)} "
            f"callbacks answered once each ({lost} activity deliveries lost in a kill, "
            f"recovered by time-out and retry), all done in {elapsed:.1f} s"
        )
    finally:
        for worker in workers:
            worker.stop.set()
        server.kill9()  # its data is no longer needed; SIGTERM would drain long polls first
        for worker in workers:
            worker.join(timeout=10)

"""ECS tasks from state machines on the durable engine: ``ecs:runTask``, ``.sync``,
``.waitForTaskToken``, and the ``ECS.TaskFailedToStart`` extension of Retry and Catch.

The ECS side here is a small in-test double with the service's contract (``run_task`` with a
waiter, ``on_task_stopped``, ``stop_task``), so that each engine rule is checked on its own,
with a fake clock; ``tests/proof/test_start_failure_story.py`` runs the real service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batchyard import asl
from batchyard.asl.retry import error_matches
from batchyard.engine import Engine, history_event
from batchyard.engine.ecs_tasks import attach, to_request
from batchyard.store import Store
from tests.engine.conftest import FakeClock, deploy, types

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/default"
FAILED_TO_START = "ResourceInitializationError: failed to configure ENI: netplugin failed"


class EcsError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FakeEcs:
    """RunTask idempotent by clientToken; tasks stop when the test says so."""

    def __init__(self, start_failures: int = 0) -> None:
        self.requests: list[tuple[dict[str, Any], str | None]] = []
        self.tasks: dict[str, dict[str, Any]] = {}  # by task ARN
        self.by_token: dict[str, str] = {}
        self.waiters: dict[str, str] = {}
        self.callbacks: list[Callable[[dict[str, Any], str], None]] = []
        self.stops: list[dict[str, Any]] = []
        self.start_failures = start_failures
        self.error: EcsError | None = None
        self.failures: list[dict[str, str]] = []

    def run_task(self, request: dict[str, Any], *, waiter: str | None = None) -> dict[str, Any]:
        self.requests.append((request, waiter))
        if self.error is not None:
            raise self.error
        if self.failures:
            return {"tasks": [], "failures": self.failures}
        known = self.by_token.get(request["clientToken"])
        if known is not None:
            return {"tasks": [self.tasks[known]], "failures": []}
        arn = f"arn:aws:ecs:us-east-1:123456789012:task/default/{len(self.tasks):032x}"
        overrides = request.get("overrides", {}).get("containerOverrides", [])
        task: dict[str, Any] = {
            "taskArn": arn,
            "clusterArn": CLUSTER,
            "lastStatus": "PROVISIONING",
            "desiredStatus": "RUNNING",
            "createdAt": datetime(2024, 1, 1, tzinfo=UTC),
            "startedBy": request.get("startedBy"),
            "containers": [{"name": "app", "taskArn": arn, "lastStatus": "PENDING"}],
            "overrides": {"containerOverrides": overrides},
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/job:1",
            "version": 1,
        }
        self.tasks[arn] = task
        self.by_token[request["clientToken"]] = arn
        if waiter is not None:
            self.waiters[arn] = waiter
        return {"tasks": [task], "failures": []}

    def on_task_stopped(self, callback: Callable[[dict[str, Any], str], None]) -> None:
        self.callbacks.append(callback)

    def stop_task(
        self, task_arn: str, *, reason: str | None = None, cluster: str | None = None
    ) -> dict[str, Any]:
        self.stops.append({"cluster": cluster, "task": task_arn, "reason": reason})
        return self.tasks[task_arn]

    def finish(self, arn: str, exit_code: int = 0) -> None:
        """The task ends; a task among the first ``start_failures`` never started."""
        task = self.tasks[arn]
        task["lastStatus"] = task["desiredStatus"] = "STOPPED"
        task["stoppedAt"] = 1_704_067_260_000  # the service keeps epoch milliseconds
        container = task["containers"][0]
        container["lastStatus"] = "STOPPED"
        if self.start_failures > 0:
            self.start_failures -= 1
            task["stopCode"] = "TaskFailedToStart"
            task["stoppedReason"] = FAILED_TO_START
            container["reason"] = FAILED_TO_START
        else:
            task["stopCode"] = "EssentialContainerExited"
            task["stoppedReason"] = "Essential container in task exited"
            container["exitCode"] = exit_code
        waiter = self.waiters.get(arn)
        if waiter is not None:
            for callback in self.callbacks:
                callback(task, waiter)

    def last(self) -> str:
        return list(self.tasks)[-1]

    optional: tuple[str, ...] = ()  # containers the task definition marks essential: false

    def operation(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        assert name == "DescribeTaskDefinition" and request["taskDefinition"]
        names = ("app", *self.optional)
        return {
            "taskDefinition": {
                "containerDefinitions": [
                    {"name": n, "essential": n not in self.optional} for n in names
                ]
            }
        }


def _machine(resource: str, **fields: Any) -> dict[str, Any]:
    parameters = {
        "Cluster": CLUSTER,
        "TaskDefinition": "job",
        "LaunchType": "FARGATE",
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "ENABLED"}
        },
        "Overrides": {
            "ContainerOverrides": [
                {"Name": "app", "Command": ["run"], "Environment": [{"Name": "A", "Value": "1"}]}
            ]
        },
    }
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return {"StartAt": "Run", "States": {"Run": {**state, **fields}}}


@pytest.fixture
def ecs(engine: Engine) -> FakeEcs:
    fake = FakeEcs()
    attach(engine.core, fake)
    return fake


def _history(store: Store, arn: str) -> list[dict[str, Any]]:
    return [history_event(e) for e in store.history.all(arn)]


def test_sync_success_records_the_task_as_aws_does(
    store: Store, engine: Engine, ecs: FakeEcs
) -> None:
    arn = deploy(store, "sync", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="s", input="{}")
    engine.run_until_idle()
    request, waiter = ecs.requests[0]
    assert waiter is not None and len(request["clientToken"]) == 64
    assert request["startedBy"] == "AWS Step Functions"
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}
    }
    assert request["overrides"]["containerOverrides"][0] == {
        "name": "app",
        "command": ["run"],
        "environment": [{"name": "A", "value": "1"}],
    }
    assert store.executions.get(execution.arn).status == "RUNNING"
    ecs.finish(ecs.last())
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    history = _history(store, execution.arn)
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    submitted = json.loads(history[4]["taskSubmittedEventDetails"]["output"])
    assert sorted(submitted) == ["Failures", "SdkHttpMetadata", "SdkResponseMetadata", "Tasks"]
    assert submitted["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert submitted["Tasks"][0]["LastStatus"] == "PROVISIONING"
    assert submitted["Tasks"][0]["CreatedAt"] == 1_704_067_200_000  # epoch milliseconds
    output = json.loads(done.output or "")
    assert output["TaskArn"] == ecs.last() and output["StopCode"] == "EssentialContainerExited"
    assert output["StoppedAt"] == 1_704_067_260_000
    assert output["StartedBy"] == "AWS Step Functions"
    assert output["Containers"][0]["ExitCode"] == 0
    # List members are always present, as the AWS SDK writes them.
    assert output["Containers"][0]["GpuIds"] == [] and output["Attachments"] == []
    assert list(output) == sorted(output)
    scheduled = json.loads(history[2]["taskScheduledEventDetails"]["parameters"])
    assert list(scheduled)[-1] == "StartedBy" and scheduled["StartedBy"] == "AWS Step Functions"


def test_sync_failure_is_task_failed_with_the_task_as_cause(
    store: Store, engine: Engine, ecs: FakeEcs
) -> None:
    arn = deploy(store, "fail", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="f", input="{}")
    engine.run_until_idle()
    ecs.finish(ecs.last(), exit_code=1)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.TaskFailed"
    cause = json.loads(done.cause or "")
    assert cause["Containers"][0]["ExitCode"] == 1 and cause["TaskArn"] == ecs.last()
    assert types(store, execution.arn)[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_retry_on_task_failed_to_start(
    store: Store, engine: Engine, ecs: FakeEcs, clock: FakeClock
) -> None:
    ecs.start_failures = 2
    retry = [{"ErrorEquals": ["ECS.TaskFailedToStart"], "IntervalSeconds": 5, "MaxAttempts": 3}]
    arn = deploy(store, "retry", _machine("arn:aws:states:::ecs:runTask.sync", Retry=retry))
    execution = engine.start_execution(arn, name="r", input="{}")
    for _ in range(3):
        engine.run_until_idle()
        ecs.finish(ecs.last())
        engine.run_until_idle()
        clock.advance(10)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    assert len(ecs.tasks) == 3 and len({r["clientToken"] for r, _ in ecs.requests}) == 3
    history = _history(store, execution.arn)
    failed = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
    # The recorded error keeps AWS's name; only matching knows the stop code.
    assert [f["error"] for f in failed] == ["States.TaskFailed"] * 2
    assert [json.loads(f["cause"])["StopCode"] for f in failed] == ["TaskFailedToStart"] * 2
    assert json.loads(failed[0]["cause"])["StoppedReason"] == FAILED_TO_START
    assert [e["type"] for e in history].count("TaskScheduled") == 3


def test_task_failed_to_start_does_not_match_a_container_failure(
    store: Store, engine: Engine, ecs: FakeEcs
) -> None:
    catch = [
        {"ErrorEquals": ["ECS.TaskFailedToStart"], "Next": "Again"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.result", "Next": "Other"},
    ]
    definition = _machine("arn:aws:states:::ecs:runTask.sync", Catch=catch)
    definition["States"]["Again"] = {"Type": "Pass", "End": True}
    definition["States"]["Other"] = {"Type": "Pass", "End": True}
    arn = deploy(store, "catch", definition)
    execution = engine.start_execution(arn, name="c", input="{}")
    engine.run_until_idle()
    ecs.finish(ecs.last(), exit_code=2)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    output = json.loads(done.output or "")
    assert output["result"]["Error"] == "States.TaskFailed"
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in _history(store, execution.arn)
        if e["type"] == "PassStateEntered"
    ]
    assert entered == ["Other"]


@pytest.mark.parametrize("optional", [True, False])
def test_only_essential_containers_decide(
    store: Store, engine: Engine, ecs: FakeEcs, optional: bool
) -> None:
    ecs.optional = ("sidecar",) if optional else ()
    arn = deploy(store, f"ess-{optional}", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="e", input="{}")
    engine.run_until_idle()
    task = ecs.tasks[ecs.last()]
    task["containers"].append({"name": "sidecar", "taskArn": ecs.last(), "exitCode": 1})
    ecs.finish(ecs.last())
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == ("SUCCEEDED" if optional else "FAILED")


def test_request_response_returns_the_run_task_response(
    store: Store, engine: Engine, ecs: FakeEcs
) -> None:
    arn = deploy(store, "rr", _machine("arn:aws:states:::ecs:runTask"))
    execution = engine.start_execution(arn, name="q", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    output = json.loads(done.output or "")
    assert output["Tasks"][0]["TaskArn"] == ecs.last() and output["Failures"] == []
    assert output["SdkResponseMetadata"]["RequestId"]
    request, waiter = ecs.requests[0]
    assert waiter is None and "startedBy" not in request
    assert "TaskSubmitted" not in types(store, execution.arn)


def test_failures_fail_sync_but_not_request_response(
    store: Store, engine: Engine, ecs: FakeEcs
) -> None:
    ecs.failures = [{"arn": CLUSTER, "reason": "MISSING"}]
    sync = deploy(store, "fs", _machine("arn:aws:states:::ecs:runTask.sync"))
    plain = deploy(store, "fp", _machine("arn:aws:states:::ecs:runTask"))
    failed = engine.start_execution(sync, name="a", input="{}")
    answered = engine.start_execution(plain, name="b", input="{}")
    engine.run_until_idle()
    done = store.executions.get(failed.arn)
    assert done.status == "FAILED" and done.error == "AmazonECS.Unknown"
    assert json.loads(done.cause or "")["Failures"] == [{"Arn": CLUSTER, "Reason": "MISSING"}]
    output = json.loads(store.executions.get(answered.arn).output or "")
    assert output["Failures"] == [{"Arn": CLUSTER, "Reason": "MISSING"}]


def test_api_error_is_named_after_its_code(store: Store, engine: Engine, ecs: FakeEcs) -> None:
    ecs.error = EcsError("ClusterNotFoundException", "Cluster not found.")
    arn = deploy(store, "err", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="e", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "ECS.ClusterNotFoundException"
    assert (done.cause or "").startswith(
        "Cluster not found. (Service: AmazonECS; Status Code: 400; "
        "Error Code: ClusterNotFoundException; Request ID: "
    )
    assert (done.cause or "").endswith("; Proxy: null)")


def test_unknown_parameter_is_named(store: Store, engine: Engine, ecs: FakeEcs) -> None:
    definition = _machine("arn:aws:states:::ecs:runTask.sync")
    definition["States"]["Run"]["Parameters"]["Overrides"]["ContainerOverrides"][0]["Cmd"] = []
    arn = deploy(store, "bad", definition)
    execution = engine.start_execution(arn, name="b", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.Runtime"
    assert "Overrides.ContainerOverrides.Cmd" in (done.cause or "")
    assert ecs.requests == []


def test_wait_for_task_token_reaches_the_container(
    store: Store, engine: Engine, ecs: FakeEcs
) -> None:
    definition = _machine("arn:aws:states:::ecs:runTask.waitForTaskToken")
    override = definition["States"]["Run"]["Parameters"]["Overrides"]["ContainerOverrides"][0]
    override["Environment"] = [{"Name": "TASK_TOKEN", "Value.$": "$$.Task.Token"}]
    arn = deploy(store, "cb", definition)
    execution = engine.start_execution(arn, name="w", input="{}")
    engine.run_until_idle()
    request, waiter = ecs.requests[0]
    assert waiter is None
    token = request["overrides"]["containerOverrides"][0]["environment"][0]["value"]
    engine.send_task_success(token, '{"rows":3}')
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and json.loads(done.output or "") == {"rows": 3}
    assert "TaskSubmitted" in types(store, execution.arn)


def test_stop_execution_stops_the_task(store: Store, engine: Engine, ecs: FakeEcs) -> None:
    arn = deploy(store, "stop", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="x", input="{}")
    engine.run_until_idle()
    engine.stop_execution(execution.arn, error="Halt")
    assert ecs.stops == [
        {
            "cluster": CLUSTER,
            "task": ecs.last(),
            "reason": f"Step Functions execution {execution.arn} was stopped",
        }
    ]
    ecs.finish(ecs.last(), exit_code=143)  # the late stop notice changes nothing
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "ABORTED"
    assert types(store, execution.arn)[-1] == "ExecutionAborted"


def test_timeout_then_late_stop(
    store: Store, engine: Engine, ecs: FakeEcs, clock: FakeClock
) -> None:
    arn = deploy(store, "slow", _machine("arn:aws:states:::ecs:runTask.sync", TimeoutSeconds=30))
    execution = engine.start_execution(arn, name="t", input="{}")
    engine.run_until_idle()
    clock.advance(31)
    engine.run_until_idle()
    reason = f"Step Functions execution {execution.arn} no longer waits for this task"
    assert ecs.stops == [{"cluster": CLUSTER, "task": ecs.last(), "reason": reason}]
    ecs.finish(ecs.last())
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.Timeout"


def test_a_failed_branch_stops_the_task_of_its_sibling(
    store: Store, engine: Engine, ecs: FakeEcs, clock: FakeClock
) -> None:
    run_task = _machine("arn:aws:states:::ecs:runTask.sync")
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    run_task,
                    {
                        "StartAt": "Wait",
                        "States": {
                            "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Boom"},
                            "Boom": {"Type": "Fail", "Error": "Boom"},
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    arn = deploy(store, "par", definition)
    execution = engine.start_execution(arn, name="p", input="{}")
    engine.run_until_idle()
    assert ecs.stops == []
    clock.advance(6)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "Boom"
    assert [stop["task"] for stop in ecs.stops] == [ecs.last()]


def test_catch_on_task_failed_to_start(store: Store, engine: Engine, ecs: FakeEcs) -> None:
    ecs.start_failures = 1
    catch = [{"ErrorEquals": ["ECS.TaskFailedToStart"], "Next": "Again"}]
    definition = _machine("arn:aws:states:::ecs:runTask.sync", Catch=catch)
    definition["States"]["Again"] = {"Type": "Pass", "End": True}
    arn = deploy(store, "catch-start", definition)
    execution = engine.start_execution(arn, name="c", input="{}")
    engine.run_until_idle()
    ecs.finish(ecs.last())
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED"
    output = json.loads(done.output or "")
    assert output["Error"] == "States.TaskFailed"
    assert json.loads(output["Cause"])["StoppedReason"] == FAILED_TO_START


def test_heartbeat_seconds_still_apply(
    store: Store, engine: Engine, ecs: FakeEcs, clock: FakeClock
) -> None:
    definition = _machine("arn:aws:states:::ecs:runTask.sync", HeartbeatSeconds=10)
    arn = deploy(store, "beat", definition)
    execution = engine.start_execution(arn, name="h", input="{}")
    engine.run_until_idle()
    clock.advance(11)
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.HeartbeatTimeout"
    assert [stop["task"] for stop in ecs.stops] == [ecs.last()]


def test_takeover_reattaches_without_running_again(
    store: Store, engine: Engine, ecs: FakeEcs, clock: FakeClock
) -> None:
    arn = deploy(store, "take", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="k", input="{}")
    engine.run_until_idle()
    other = Engine(store, clock=clock, owner="other-engine")
    attach(other.core, ecs)
    other.core.forget(execution.arn)
    engine.core.forget(execution.arn)
    ecs.callbacks = ecs.callbacks[-1:]  # the first engine is gone
    ecs.finish(ecs.last())
    other.run_until_idle()
    assert store.executions.get(execution.arn).status == "SUCCEEDED"
    assert len(ecs.requests) == 1


def test_without_an_ecs_service_the_task_fails_clearly(store: Store, engine: Engine) -> None:
    arn = deploy(store, "none", _machine("arn:aws:states:::ecs:runTask.sync"))
    execution = engine.start_execution(arn, name="n", input="{}")
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "FAILED" and done.error == "States.Runtime"
    assert "ECS service" in (done.cause or "")


def test_jsonata_arguments(store: Store, engine: Engine, ecs: FakeEcs) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Arguments": {"Cluster": CLUSTER, "TaskDefinition": "{% $states.input.job %}"},
                "Output": "{% $states.result.Containers[0].ExitCode %}",
                "End": True,
            }
        },
    }
    arn = deploy(store, "jsonata", definition)
    execution = engine.start_execution(arn, name="j", input='{"job": "nightly"}')
    engine.run_until_idle()
    request, _ = ecs.requests[0]
    assert request["taskDefinition"] == "nightly" and request["startedBy"] == "AWS Step Functions"
    ecs.finish(ecs.last())
    engine.run_until_idle()
    done = store.executions.get(execution.arn)
    assert done.status == "SUCCEEDED" and json.loads(done.output or "") == 0


def test_in_memory_interpreter_cannot_run_ecs_tasks() -> None:
    result = asl.execute(_machine("arn:aws:states:::ecs:runTask.sync"), {})
    assert result.status == "FAILED" and result.error == "States.Runtime"
    assert "arn:aws:states:::ecs:runTask.sync" in (result.cause or "")


def test_parameters_keep_acronyms() -> None:
    request = to_request(
        {"EnableECSManagedTags": True, "Tags": [{"Key": "k", "Value": "v"}], "Count": 1}
    )
    assert request == {
        "enableECSManagedTags": True,
        "tags": [{"key": "k", "value": "v"}],
        "count": 1,
    }


def _cause(stop_code: str) -> str:
    return json.dumps({"TaskArn": "arn:aws:ecs:us-east-1:1:task/c/t", "StopCode": stop_code})


@pytest.mark.parametrize(
    ("error_equals", "error", "cause", "matches"),
    [
        (["ECS.TaskFailedToStart"], "States.TaskFailed", _cause("TaskFailedToStart"), True),
        (["ECS.TaskFailedToStart"], "States.TaskFailed", _cause("EssentialContainerExited"), False),
        (["ECS.TaskFailedToStart"], "States.Timeout", _cause("TaskFailedToStart"), False),
        (["ECS.TaskFailedToStart"], "States.TaskFailed", "not json", False),
        (["ECS.TaskFailedToStart"], "States.TaskFailed", '{"StopCode":"TaskFailedToStart"}', False),
        (["ECS.TaskFailedToStart"], "ECS.TaskFailedToStart", None, True),
        (["States.TaskFailed"], "States.TaskFailed", _cause("TaskFailedToStart"), True),
        (["States.ALL"], "States.TaskFailed", _cause("TaskFailedToStart"), True),
    ],
)
def test_error_matching(
    error_equals: list[str], error: str, cause: str | None, matches: bool
) -> None:
    assert error_matches(error_equals, error, cause) is matches


def test_the_guide_lists_every_injected_reason_in_order() -> None:
    from batchyard.runners.classify import INJECTED_REASONS

    guide = (Path(__file__).resolve().parents[2] / "docs" / "start-failures.md").read_text()
    listed = re.findall(r"^\d+\. `(.+)`$", guide, re.M)
    assert listed == list(INJECTED_REASONS)

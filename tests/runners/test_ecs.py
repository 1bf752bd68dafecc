"""The ecs runner against moto's ECS and CloudWatch Logs (AWS itself is out of reach here).

What this proves and what it cannot is written in ``runners/ecs.py``'s docstring.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batchyard.logs import LogStore
from batchyard.runners import AwsLogs, ContainerSpec, StartFailure, TaskSpec, make_runner
from batchyard.runners.ecs import EcsRunner, to_task_exit

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

REGION = "eu-west-1"
AWS_GROUP = "/ecs/nightly"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    from moto.moto_api import state_manager

    # moto moves a task RUNNING -> ... -> STOPPED on its own as it is described; a real task
    # runs until its container exits. Keep moto's tasks RUNNING until StopTask.
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 1_000_000})
    with moto.mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tasks", Description="t", VpcId=vpc)["GroupId"]
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="batch")
        ecs.register_task_definition(
            family="nightly",
            # awsvpc would be right for Fargate, but moto 5.2's ENI lacks privateDnsName and
            # fails RunTask; the request still carries the awsvpcConfiguration (checked below).
            networkMode="bridge",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "busybox",
                    "cpu": 256,
                    "memory": 512,
                    "essential": True,
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": AWS_GROUP,
                            "awslogs-stream-prefix": "ecs",
                            "awslogs-region": REGION,
                        },
                    },
                }
            ],
        )
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName=AWS_GROUP)
        yield {"ecs": ecs, "logs": logs, "subnet": subnet, "security_group": group}
    state_manager.unset_transition("ecs::task")


@pytest.fixture
def runner(aws: dict[str, Any], tmp_path: Path) -> Iterator[EcsRunner]:
    made = EcsRunner(
        REGION,
        cluster="batch",
        subnets=[aws["subnet"]],
        security_groups=[aws["security_group"]],
        assign_public_ip="ENABLED",
        poll_interval=0.05,
        log_flush_interval=0.0,
        state_dir=tmp_path,
        client=aws["ecs"],
        logs_client=aws["logs"],
    )
    yield made
    made.close()


def spec(task_id: str | None = None) -> TaskSpec:
    task_id = task_id or uuid.uuid4().hex
    return TaskSpec(
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/local/{task_id}",
        task_id=task_id,
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/local",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/nightly:1",
        containers=[
            ContainerSpec(
                "app",
                "busybox",
                command=["sh", "-c", "echo hi"],
                environment={"RUN": "1"},
                logs=AwsLogs(AWS_GROUP, "ecs", create_group=True),
            )
        ],
    )


def test_run_task_request_shape(runner: EcsRunner, aws: dict[str, Any]) -> None:
    task_spec = spec("0123456789abcdef0123456789abcdef")
    assert runner.run_task_request(task_spec) == {
        "cluster": "batch",
        "taskDefinition": "nightly:1",
        "count": 1,
        "launchType": "FARGATE",
        "startedBy": "batchyard/0123456789abcdef0123456789abcdef",
        "clientToken": "0123456789abcdef0123456789abcdef",
        "overrides": {
            "containerOverrides": [
                {
                    "name": "app",
                    "command": ["sh", "-c", "echo hi"],
                    "environment": [{"name": "RUN", "value": "1"}],
                }
            ]
        },
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": [aws["subnet"]],
                "securityGroups": [aws["security_group"]],
                "assignPublicIp": "ENABLED",
            }
        },
    }


def test_start_sends_run_task_with_client_token_and_is_idempotent(
    runner: EcsRunner, aws: dict[str, Any]
) -> None:
    sent: list[dict[str, Any]] = []
    aws["ecs"].meta.events.register(
        "provide-client-params.ecs.RunTask", lambda params, **_: sent.append(dict(params))
    )
    task_spec = spec()
    store = LogStore(None)
    first = runner.start(task_spec, store)
    assert [p["clientToken"] for p in sent] == [task_spec.task_id]
    assert sent[0]["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [aws["subnet"]]
    described = aws["ecs"].describe_tasks(cluster="batch", tasks=[first.aws_task_arn])["tasks"][0]
    assert described["startedBy"] == f"batchyard/{task_spec.task_id}"
    assert described["launchType"] == "FARGATE"
    assert described["overrides"]["containerOverrides"][0]["command"] == ["sh", "-c", "echo hi"]
    # a restarted server: a new runner object finds the task instead of starting another
    again = EcsRunner(
        REGION, cluster="batch", poll_interval=0.05, client=aws["ecs"], logs_client=aws["logs"]
    )
    try:
        second = again.start(task_spec, store)
        assert second.aws_task_arn == first.aws_task_arn
        assert len(sent) == 1
        assert len(aws["ecs"].list_tasks(cluster="batch")["taskArns"]) == 1
    finally:
        again.close()


def test_stop_and_logs_forwarded_from_cloudwatch(runner: EcsRunner, aws: dict[str, Any]) -> None:
    store = LogStore(None)
    task_spec = spec()
    task = runner.start(task_spec, store)
    aws_id = task.aws_task_arn.rsplit("/", 1)[-1]
    aws_stream = f"ecs/app/{aws_id}"
    aws["logs"].create_log_stream(logGroupName=AWS_GROUP, logStreamName=aws_stream)
    now = int(time.time() * 1000)
    aws["logs"].put_log_events(
        logGroupName=AWS_GROUP,
        logStreamName=aws_stream,
        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(2)]
        + [{"timestamp": now + 2, "message": "a multi-line\nevent stays one"}],
    )
    assert task.wait(0.2) is None
    task.stop("Stopped by the scheduler")
    exit = task.wait(10)
    assert exit is not None
    assert exit.stopped_reason == "Stopped by the scheduler"
    assert [c.name for c in exit.containers] == ["app"]
    local = store.get_log_events(AWS_GROUP, f"ecs/app/{task_spec.task_id}", start_from_head=True)
    assert [(e["timestamp"], e["message"]) for e in local["events"]] == [
        (now, "line 0"),
        (now + 1, "line 1"),
        (now + 2, "a multi-line\nevent stays one"),
    ]


def test_unknown_task_definition_fails_to_start(runner: EcsRunner) -> None:
    bad = spec()
    bad = TaskSpec(bad.task_arn, bad.task_id, bad.cluster_arn, "absent:7", bad.containers)
    with pytest.raises(StartFailure) as failure:
        runner.start(bad, None)
    assert failure.value.reason.startswith("ClientException: ")


def test_mapping_of_a_stopped_task() -> None:
    """A DescribeTasks task as AWS returns it (boto3 shape) for a container that exited 1."""
    started = datetime(2019, 10, 6, 16, 21, 48, tzinfo=UTC)
    stopped = datetime(2019, 10, 6, 16, 22, 36, tzinfo=UTC)
    task = {
        "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/default/0a1b",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "startedAt": started,
        "stoppedAt": stopped,
        "containers": [
            {"name": "app", "exitCode": 1, "lastStatus": "STOPPED"},
            {
                "name": "sidecar",
                "exitCode": 137,
                "reason": "OutOfMemoryError: Container killed due to memory usage",
                "lastStatus": "STOPPED",
            },
        ],
    }
    exit = to_task_exit(task)
    assert exit.stop_code == "EssentialContainerExited"
    assert exit.stopped_reason == "Essential container in task exited"
    assert exit.started_at == started and exit.stopped_at == stopped
    assert [(c.name, c.exit_code, c.reason) for c in exit.containers] == [
        ("app", 1, None),
        ("sidecar", 137, "OutOfMemoryError: Container killed due to memory usage"),
    ]
    failed = to_task_exit(
        {
            "stopCode": "TaskFailedToStart",
            "stoppedReason": "Timeout waiting for network interface provisioning to complete.",
            "stoppedAt": stopped,
            "containers": [{"name": "app"}],
        }
    )
    assert failed.stop_code == "TaskFailedToStart" and failed.containers[0].exit_code is None


def test_make_runner_builds_an_ecs_runner(aws: dict[str, Any]) -> None:
    runner = make_runner("ecs", {"region": REGION, "cluster": "batch"})
    assert isinstance(runner, EcsRunner) and runner.cluster == "batch"


def test_timeout_stops_the_task_with_a_reason(runner: EcsRunner) -> None:
    timed = dataclasses.replace(spec(), timeout_seconds=0.2)
    exit = runner.start(timed, None).wait(10)
    assert exit is not None
    assert exit.stopped_reason == "Task timed out after 0.2 seconds"


class ScriptedEcs:
    """An ECS client answering RunTask / DescribeTasks from a script: the shapes moto never
    produces (a task that fails to start, RunTask failures)."""

    def __init__(self, run: dict[str, Any], described: list[dict[str, Any]]) -> None:
        self.run = run
        self.described = described

    def list_tasks(self, **_: Any) -> dict[str, Any]:
        return {"taskArns": []}

    def run_task(self, **_: Any) -> dict[str, Any]:
        return self.run

    def describe_tasks(self, **_: Any) -> dict[str, Any]:
        return {"tasks": [self.described.pop(0) if len(self.described) > 1 else self.described[0]]}


def test_a_task_stopped_before_running_is_a_start_failure_with_aws_reason() -> None:
    arn = "arn:aws:ecs:eu-west-1:123456789012:task/batch/abc"
    reason = "ResourceInitializationError: failed to configure ENI: context deadline exceeded"
    client = ScriptedEcs(
        {"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []},
        [
            {"taskArn": arn, "lastStatus": "PENDING"},
            {"taskArn": arn, "lastStatus": "STOPPED", "stopCode": "TaskFailedToStart",
             "stoppedReason": reason},
        ],
    )  # fmt: skip
    runner = EcsRunner(REGION, poll_interval=0.01, client=client, logs_client=object())
    with pytest.raises(StartFailure) as failure:
        runner.start(spec(), None)
    assert failure.value.reason == reason


def test_run_task_failures_are_start_failures() -> None:
    client = ScriptedEcs(
        {"tasks": [], "failures": [{"arn": "arn:x", "reason": "MISSING", "detail": "no ENI"}]},
        [{}],
    )
    runner = EcsRunner(REGION, client=client, logs_client=object())
    with pytest.raises(StartFailure) as failure:
        runner.start(spec(), None)
    assert failure.value.reason == "MISSING (no ENI)"


def test_log_forwarding_resumes_after_a_restart_without_repeating(
    runner: EcsRunner, aws: dict[str, Any], tmp_path: Path
) -> None:
    store = LogStore(None)
    task_spec = spec()
    task = runner.start(task_spec, store)
    aws_stream = f"ecs/app/{task.aws_task_arn.rsplit('/', 1)[-1]}"
    local_stream = f"ecs/app/{task_spec.task_id}"
    aws["logs"].create_log_stream(logGroupName=AWS_GROUP, logStreamName=aws_stream)
    now = int(time.time() * 1000)

    def put(*messages: str, at: int = 0) -> None:
        aws["logs"].put_log_events(
            logGroupName=AWS_GROUP,
            logStreamName=aws_stream,
            logEvents=[{"timestamp": now + at + i, "message": m} for i, m in enumerate(messages)],
        )

    def local() -> list[str]:
        events = store.get_log_events(AWS_GROUP, local_stream, start_from_head=True)["events"]
        return [e["message"] for e in events]

    put("before 1", "before 2")
    deadline = time.monotonic() + 10
    while local() != ["before 1", "before 2"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    runner.close()  # the server goes away
    put("after", at=10)
    again = EcsRunner(
        REGION, cluster="batch", poll_interval=0.05, log_flush_interval=0.0, state_dir=tmp_path,
        client=aws["ecs"], logs_client=aws["logs"],
    )  # fmt: skip
    try:
        second = again.start(task_spec, store)
        second.stop()
        assert second.wait(10) is not None
    finally:
        again.close()
    assert local() == ["before 1", "before 2", "after"]

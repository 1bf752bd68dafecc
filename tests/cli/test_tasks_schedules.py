"""``batchyard tasks`` and ``batchyard schedules`` against a real server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import RunningServer
from tests.cli.conftest import Cli

CLUSTER = "cli-local"


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def stopped_task(server: RunningServer) -> dict[str, Any]:
    ecs = server.client("ecs")
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/ecs/cli")
    ecs.create_cluster(clusterName=CLUSTER, tags=[{"key": "batchyard:runner", "value": "local"}])
    ecs.register_task_definition(
        family="cli-echo",
        containerDefinitions=[
            {
                "name": "app",
                "image": "busybox",
                "essential": True,
                "command": ["sh", "-c", "echo first line; echo second line; exit 3"],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/cli",
                        "awslogs-region": "us-east-1",
                        "awslogs-stream-prefix": "echo",
                    },
                },
            }
        ],
    )
    arn = ecs.run_task(cluster=CLUSTER, taskDefinition="cli-echo")["tasks"][0]["taskArn"]

    def stopped() -> dict[str, Any] | None:
        task = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
        return dict(task) if task["lastStatus"] == "STOPPED" else None

    return dict(wait_for(stopped))


def test_tasks_list_shows_stop_and_exit_codes(cli: Cli, stopped_task: dict[str, Any]) -> None:
    result = cli("tasks", "list", "--cluster", CLUSTER, "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    row = next(r for r in rows if r["arn"] == stopped_task["taskArn"])
    assert row["status"] == "STOPPED"
    assert row["stop code"] == "EssentialContainerExited"
    assert row["exit"] == "3"
    assert row["definition"] == "cli-echo:1"
    everywhere = cli("tasks", "list", "--status", "STOPPED")
    assert everywhere.exit_code == 0
    assert stopped_task["taskArn"].rsplit("/", 1)[-1] in everywhere.stdout


def test_tasks_logs_prints_the_awslogs_stream(cli: Cli, stopped_task: dict[str, Any]) -> None:
    task_id = stopped_task["taskArn"].rsplit("/", 1)[-1]
    result = cli("tasks", "logs", task_id)
    assert result.exit_code == 0, result.output
    messages = [line.split(" ", 1)[1] for line in result.stdout.splitlines()]
    assert messages == ["first line", "second line"]


def test_tasks_logs_of_unknown_task(cli: Cli, stopped_task: dict[str, Any]) -> None:
    result = cli("tasks", "logs", "0123456789abcdef", "--cluster", CLUSTER)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


def test_schedules_list_with_next_fire_times(cli: Cli, server: RunningServer) -> None:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="cli-scheduled",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    server.client("scheduler").create_schedule(
        Name="cli-nightly",
        ScheduleExpression="cron(0 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": "arn:aws:iam::123456789012:role/x"},
    )
    result = cli("schedules", "list", "--next", "2", "-o", "json")
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.stdout) if r["name"] == "cli-nightly")
    assert row["target"] == "stateMachine:cli-scheduled"
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in row["next fire times"]]
    assert len(times) == 2 and times[0] > datetime.now(UTC)
    assert all(t.astimezone(UTC).hour in (0, 1) for t in times)  # 02:00 in Berlin
    assert (times[1] - times[0]).total_seconds() == 86400 or times[0].month in (3, 10)
    table = cli("schedules", "list")
    assert "cli-nightly" in table.stdout and "Europe/Berlin" in table.stdout


def test_schedule_history_of_a_firing_schedule(cli: Cli, server: RunningServer) -> None:
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="cli-once",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    soon = datetime.now(UTC) + timedelta(seconds=2)
    server.client("scheduler").create_schedule(
        Name="cli-soon",
        ScheduleExpression=f"at({soon:%Y-%m-%dT%H:%M:%S})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": "arn:aws:iam::123456789012:role/x"},
    )

    def started() -> list[dict[str, Any]]:
        result = cli("schedules", "history", "cli-soon", "-o", "json")
        assert result.exit_code == 0, result.output
        return [row for row in json.loads(result.stdout) if row["status"] == "STARTED"]

    slots = wait_for(started)
    assert slots[0]["started"].startswith(machine.replace(":stateMachine:", ":execution:") + ":")
    table = cli("schedules", "history", "cli-soon")
    assert "STARTED" in table.stdout
    missing = cli("schedules", "history", "no-such-schedule")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: ResourceNotFoundException: ")


def test_tasks_logs_follow_until_the_task_stops(
    cli: Cli, server: RunningServer, stopped_task: dict[str, Any]
) -> None:
    ecs = server.client("ecs")
    ecs.register_task_definition(
        family="cli-slow",
        containerDefinitions=[
            {
                "name": "app",
                "image": "busybox",
                "essential": True,
                "command": ["sh", "-c", "echo begin; sleep 2; echo end"],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/cli", "awslogs-stream-prefix": "slow"},
                },
            }
        ],
    )
    arn = ecs.run_task(cluster=CLUSTER, taskDefinition="cli-slow")["tasks"][0]["taskArn"]
    result = cli("tasks", "logs", arn, "--cluster", CLUSTER, "--follow")
    assert result.exit_code == 0, result.output
    assert [line.split(" ", 1)[1] for line in result.stdout.splitlines()] == ["begin", "end"]
    task = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED"


def test_graph_shows_a_start_failure_that_was_retried(
    cli: Cli, server: RunningServer, stopped_task: dict[str, Any]
) -> None:
    ecs = server.client("ecs")
    ecs.register_task_definition(
        family="cli-flaky",
        containerDefinitions=[
            {"name": "app", "image": "busybox", "essential": True, "command": ["true"]}
        ],
        tags=[{"key": "batchyard:inject-start-failures", "value": "1"}],
    )
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {"Cluster": CLUSTER, "TaskDefinition": "cli-flaky"},
                "Retry": [{"ErrorEquals": ["ECS.TaskFailedToStart"], "IntervalSeconds": 1}],
                "End": True,
            }
        },
    }
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="cli-flaky",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 60)
    result = cli("executions", "graph", arn)
    assert result.exit_code == 0, result.output
    assert "Run (Task) SUCCEEDED (retried after 1 failure(s): States.TaskFailed)" in result.stdout

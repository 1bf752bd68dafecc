"""Schedules delivering to the server's own ECS and Lambda services (a full ``build_app``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from batchyard.api import ServerConfig, build_app
from batchyard.scheduler import slot_history
from tests.api.conftest import RunningServer, free_port, serve_app
from tests.ecs.conftest import RUNNER_TAG, shell_definition, wait_for
from tests.functions.conftest import create as create_function

ROLE = "arn:aws:iam::123456789012:role/scheduler"
SOURCE = """
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return event
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("scheduled-targets")
    port = free_port()
    app = build_app(ServerConfig(port=port, data_dir=data_dir, strict_output=True))
    for url in serve_app(app, port):
        yield RunningServer(app, url, data_dir)


def _store(server: RunningServer) -> Any:
    worker = next(w for w in server.app.workers if type(w).__name__ == "Scheduler")
    return worker.store  # type: ignore[attr-defined]


def test_a_schedule_runs_an_ecs_task(server: RunningServer) -> None:
    ecs = server.client("ecs")
    cluster = ecs.create_cluster(clusterName="scheduled", tags=[RUNNER_TAG])["cluster"]
    definition = shell_definition(ecs, "scheduled-job", "echo scheduled")
    arn = server.client("scheduler").create_schedule(
        Name="ecs-job",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": cluster["clusterArn"],
            "RoleArn": ROLE,
            "EcsParameters": {"TaskDefinitionArn": definition, "TaskCount": 1},
        },
    )["ScheduleArn"]
    tasks = wait_for(lambda: ecs.list_tasks(cluster="scheduled", desiredStatus="STOPPED")["taskArns"]
                     or ecs.list_tasks(cluster="scheduled")["taskArns"])  # fmt: skip
    assert len(tasks) == 1
    described = ecs.describe_tasks(cluster="scheduled", tasks=tasks)["tasks"][0]
    assert described["startedBy"] == "batchyard-scheduler"
    slot = wait_for(
        lambda: [s for s in slot_history(_store(server), arn, 1) if s.status == "STARTED"]
    )
    assert slot[0].target_ref == tasks[0]


def test_a_schedule_invokes_a_function(server: RunningServer, tmp_path: Any) -> None:
    out = tmp_path / "calls.jsonl"
    lam = server.client("lambda")
    function = create_function(
        lam, "scheduled-fn", SOURCE, Environment={"Variables": {"OUT": str(out)}}
    )
    arn = server.client("scheduler").create_schedule(
        Name="fn-job",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": function["FunctionArn"],
            "RoleArn": ROLE,
            "Input": json.dumps({"slot": "<aws.scheduler.scheduled-time>"}),
        },
    )["ScheduleArn"]
    lines = wait_for(lambda: out.exists() and out.read_text().splitlines(), timeout=60)
    assert len(lines) == 1 and json.loads(lines[0])["slot"].endswith("Z")
    slot = wait_for(
        lambda: [s for s in slot_history(_store(server), arn, 1) if s.status == "STARTED"]
    )
    assert slot[0].target_ref

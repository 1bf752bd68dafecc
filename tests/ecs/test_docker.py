"""Tasks on the real Docker runner (a local busybox image), through boto3."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ecs.conftest import exit_code, wait_for, wait_stopped
from tests.support.images import busybox_image, require_docker


@pytest.fixture
def docker_cluster(ecs: Any) -> str:
    require_docker()
    ecs.create_cluster(clusterName="docker", tags=[{"key": "batchyard:runner", "value": "docker"}])
    return "docker"


def _definition(ecs: Any, family: str, image: str, script: str, **tags: str) -> str:
    response = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{
            "name": "app", "image": image, "command": ["sh", "-c", script], "memory": 64,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/ecs/{family}", "awslogs-stream-prefix": "ecs",
                "awslogs-create-group": "true"}},
        }],
        tags=[{"key": k, "value": v} for k, v in tags.items()],
    )  # fmt: skip
    arn: str = response["taskDefinition"]["taskDefinitionArn"]
    return arn


def _lines(logs: Any, family: str, task_arn: str) -> list[str]:
    stream = f"ecs/app/{task_arn.rsplit('/', 1)[1]}"
    events = logs.get_log_events(logGroupName=f"/ecs/{family}", logStreamName=stream)["events"]
    return [e["message"] for e in events]


def test_busybox_exit_code_and_logs(ecs: Any, logs: Any, docker_cluster: str) -> None:
    image = busybox_image()
    arn = _definition(ecs, "docker-exit3", image, "echo hi; exit 3")
    (task,) = ecs.run_task(cluster=docker_cluster, taskDefinition=arn)["tasks"]
    stopped = wait_stopped(ecs, docker_cluster, task["taskArn"], timeout=60)
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert exit_code(stopped) == 3
    assert wait_for(lambda: _lines(logs, "docker-exit3", task["taskArn"])) == ["hi"]


def test_missing_image_fails_to_start(ecs: Any, docker_cluster: str) -> None:
    arn = _definition(ecs, "docker-missing", "batchyard-test/absent:latest", "true")
    (task,) = ecs.run_task(cluster=docker_cluster, taskDefinition=arn)["tasks"]
    stopped = wait_stopped(ecs, docker_cluster, task["taskArn"], timeout=60)
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError: ")


def test_egress_profile_selects_the_docker_network(
    ecs: Any, logs: Any, docker_cluster: str
) -> None:
    image = busybox_image()
    isolated = _definition(ecs, "docker-none", image, "ls /sys/class/net")
    hostnet = _definition(
        ecs, "docker-host", image, "ls /sys/class/net", **{"batchyard:egress": "hostnet"}
    )
    results = {}
    for family, arn in (("docker-none", isolated), ("docker-host", hostnet)):
        (task,) = ecs.run_task(cluster=docker_cluster, taskDefinition=arn)["tasks"]
        assert exit_code(wait_stopped(ecs, docker_cluster, task["taskArn"], timeout=60)) == 0
        results[family] = wait_for(lambda f=family, t=task: _lines(logs, f, t["taskArn"]))
    assert results["docker-none"] == ["lo"]  # the runner's default: --network none
    assert set(results["docker-host"]) > {"lo"}  # the host's interfaces: the profile's network


def test_stop_task_on_docker(ecs: Any, docker_cluster: str) -> None:
    arn = _definition(ecs, "docker-sleep", busybox_image(), "sleep 60")
    (task,) = ecs.run_task(cluster=docker_cluster, taskDefinition=arn)["tasks"]
    wait_for(
        lambda: (
            ecs.describe_tasks(cluster=docker_cluster, tasks=[task["taskArn"]])["tasks"][0][
                "lastStatus"
            ]
            == "RUNNING"
        ),
        timeout=60,
    )
    ecs.stop_task(cluster=docker_cluster, task=task["taskArn"])
    stopped = wait_stopped(ecs, docker_cluster, task["taskArn"], timeout=60)
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "Task stopped by user"

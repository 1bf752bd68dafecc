"""Fixtures of the ECS tests: a real server driven by boto3, stores on both backends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.api import ServerConfig, build_app
from tests.api.conftest import RunningServer, free_port, serve_app
from tests.store.conftest import (  # noqa: F401 - fixtures shared with the store's tests
    _postgres_or_skip,
    backend,
    postgres_schema,
    sqlite_template,
    store_url,
)

ROOT = Path(__file__).resolve().parents[2]
RUNNER_TAG = {"key": "batchyard:runner", "value": "local"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("batchyard")
    (data_dir / "egress.json").write_text(
        '{"corp-proxy": {"proxy": "http://127.0.0.1:3128", "no_proxy": "localhost,.internal"},'
        ' "hostnet": {"docker_network": "host"}}'
    )
    port = free_port()
    app = build_app(ServerConfig(port=port, data_dir=data_dir, strict_output=True))
    for url in serve_app(app, port):
        yield RunningServer(app, url, data_dir)


@pytest.fixture
def ecs(server: RunningServer) -> Any:
    return server.client("ecs")


@pytest.fixture
def logs(server: RunningServer) -> Any:
    return server.client("logs")


@pytest.fixture
def local_cluster(ecs: Any, request: pytest.FixtureRequest) -> str:
    """A cluster whose tasks run on the local runner, fresh for each test."""
    name = f"local-{request.node.name[:40].replace('[', '-').replace(']', '')}"
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    ecs.create_cluster(clusterName=name, tags=[RUNNER_TAG])
    return name


def wait_for(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(interval)


def wait_stopped(ecs: Any, cluster: str, task_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    def stopped() -> dict[str, Any] | None:
        task: dict[str, Any] = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    result: dict[str, Any] = wait_for(stopped, timeout=timeout)
    return result


def shell_definition(
    ecs: Any, family: str, script: str, *, tags: list[dict[str, str]] | None = None, **extra: Any
) -> str:
    """Register a one-container task definition running ``sh -c script``; its ARN."""
    container = {
        "name": "app",
        "image": "busybox",
        "command": ["sh", "-c", script],
        "essential": True,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/ecs/{family}",
                "awslogs-stream-prefix": "ecs",
                "awslogs-create-group": "true",
            },
        },
        **extra,
    }
    response = ecs.register_task_definition(
        family=family, containerDefinitions=[container], tags=tags or []
    )
    arn: str = response["taskDefinition"]["taskDefinitionArn"]
    return arn


def data_dir(server: RunningServer) -> Path:
    return server.data_dir


def exit_code(task: dict[str, Any]) -> int:
    """The essential container's exit code; a clear failure (the whole task) when it has none."""
    container = task["containers"][0]
    assert "exitCode" in container, f"the task did not run to its end: {task}"
    code: int = container["exitCode"]
    return code

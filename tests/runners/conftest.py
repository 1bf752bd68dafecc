"""Fixtures for runner tests: a real log store, real processes, a real Docker engine.

``runner`` is parametrised over the backends that share the contract (``local``, ``docker``);
Docker cases skip without an engine unless ``BATCHYARD_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.logs import LogStore
from batchyard.runners import AwsLogs, ContainerSpec, Runner, TaskSpec, make_runner
from tests.support.images import busybox_image, require_docker

GROUP = "/ecs/runner-tests"
PREFIX = "ecs"
DEFAULT_LOGS = AwsLogs(GROUP, PREFIX)
TASK_ARN_PREFIX = "arn:aws:ecs:us-east-1:123456789012:task/runner-tests/"

SpecFactory = Callable[..., TaskSpec]


@pytest.fixture
def store() -> Iterator[LogStore]:
    logs = LogStore(None)
    logs.create_log_group(GROUP)
    yield logs
    logs.close()


def runner_options(kind: str, state_dir: Path) -> dict[str, Any]:
    return {"state_dir": str(state_dir), "stop_grace_seconds": 1, "log_flush_interval": 0.1}


@pytest.fixture(params=["local", "docker"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        require_docker()
    return str(request.param)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def new_runner(kind: str, state_dir: Path) -> Iterator[Callable[[], Runner]]:
    """Builds runner objects on one state directory (a second one = a restarted server)."""
    made: list[Runner] = []

    def build() -> Runner:
        runner = make_runner(kind, runner_options(kind, state_dir))
        made.append(runner)
        return runner

    yield build
    for runner in made:
        runner.close()
    if kind == "docker":
        _remove_test_containers()


@pytest.fixture
def runner(new_runner: Callable[[], Runner]) -> Runner:
    return new_runner()


def _remove_test_containers() -> None:
    import docker
    import docker.errors

    client = docker.from_env(version="auto")
    for found in client.api.containers(all=True, filters={"label": "batchyard.task-arn"}):
        if TASK_ARN_PREFIX in (found.get("Labels") or {}).get("batchyard.task-arn", ""):
            with contextlib.suppress(docker.errors.APIError):  # the runner removed it meanwhile
                client.api.remove_container(found["Id"], force=True)
    client.close()


@pytest.fixture
def image(kind: str) -> str:
    return busybox_image() if kind == "docker" else "ignored-by-the-local-runner"


@pytest.fixture
def make_spec(image: str) -> SpecFactory:
    def build(
        command: list[str],
        *,
        task_id: str | None = None,
        timeout_seconds: float | None = None,
        logs: AwsLogs | None = DEFAULT_LOGS,
        **container: Any,
    ) -> TaskSpec:
        task_id = task_id or uuid.uuid4().hex
        return TaskSpec(
            task_arn=f"{TASK_ARN_PREFIX}{task_id}",
            task_id=task_id,
            cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/test",
            task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/test:1",
            containers=[
                ContainerSpec(
                    name=container.pop("name", "app"),
                    image=container.pop("image", image),
                    command=command,
                    logs=logs,
                    **container,
                )
            ],
            timeout_seconds=timeout_seconds,
        )

    return build


def messages(store: LogStore, task_id: str, container: str = "app") -> list[str]:
    """Every message of the container's stream, in stored order."""
    stream = f"{PREFIX}/{container}/{task_id}"
    with store.lock:
        con = store.connection
        (stream_id,) = [sid for sid, name in store.stream_names().items() if name == stream]
        rows = con.execute(
            f"SELECT message FROM {store.events_relation} WHERE stream_id = ? ORDER BY seq",
            [stream_id],
        ).fetchall()
    return [row[0] for row in rows]

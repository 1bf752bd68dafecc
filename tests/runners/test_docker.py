"""What only the docker runner does: images, limits, names, OOM, removal, network mode."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.logs import LogStore
from batchyard.runners import ContainerSpec, StartFailure, TaskSpec, make_runner
from batchyard.runners.docker import DockerRunner, container_name
from tests.runners.conftest import DEFAULT_LOGS, TASK_ARN_PREFIX, messages
from tests.support.images import busybox_image, require_docker


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[DockerRunner]:
    require_docker()
    made = make_runner(
        "docker", {"state_dir": str(tmp_path), "stop_grace_seconds": 1, "log_flush_interval": 0.1}
    )
    assert isinstance(made, DockerRunner)
    yield made
    made.close()


@pytest.fixture
def client() -> Iterator[Any]:
    require_docker()
    import docker

    engine = docker.from_env(version="auto")
    yield engine
    engine.close()


def spec(command: list[str], image: str | None = None, **container: Any) -> TaskSpec:
    task_id = uuid.uuid4().hex
    return TaskSpec(
        task_arn=f"{TASK_ARN_PREFIX}{task_id}",
        task_id=task_id,
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/test",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/test:1",
        containers=[
            ContainerSpec(
                "app", image or busybox_image(), command=command, logs=DEFAULT_LOGS, **container
            )
        ],
    )


def test_missing_image_is_cannot_pull_without_touching_a_registry(
    runner: DockerRunner, store: LogStore
) -> None:
    with pytest.raises(StartFailure) as failure:
        runner.start(spec(["true"], image="batchyard-test/absent:1.0"), store)
    assert failure.value.reason == (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
        "resolve ref docker.io/batchyard-test/absent:1.0: docker.io/batchyard-test/absent:1.0: "
        "not found"
    )


def test_out_of_memory_is_reported_like_ecs(runner: DockerRunner, store: LogStore) -> None:
    exit = runner.start(spec(["tail", "/dev/zero"], memory_mib=16), store).wait(60)
    assert exit is not None
    assert exit.containers[0].exit_code == 137
    assert exit.containers[0].reason == "OutOfMemoryError: Container killed due to memory usage"


def test_name_limits_and_network_of_a_running_container(
    runner: DockerRunner, store: LogStore, client: Any
) -> None:
    task_spec = spec(["sleep", "30"], memory_mib=32, cpu=512)
    task = runner.start(task_spec, store)
    try:
        container = client.containers.get(container_name(task_spec.task_id, "app"))
        host = container.attrs["HostConfig"]
        assert container.name == f"batchyard-{task_spec.task_id}-app"
        assert host["Memory"] == 32 * 1024 * 1024
        assert host["MemorySwap"] == 32 * 1024 * 1024
        assert host["NanoCpus"] == 500_000_000
        assert host["NetworkMode"] == "none"
        assert host["LogConfig"]["Type"] == "local"  # the engine's copy, replayed on re-attach
        assert container.labels["batchyard.task-arn"] == task_spec.task_arn
    finally:
        task.stop()
    assert task.wait(30) is not None


def test_second_start_reattaches_to_the_same_container(
    runner: DockerRunner, store: LogStore, client: Any, tmp_path: Path
) -> None:
    task_spec = spec(["sh", "-c", "echo started; sleep 2"])
    first = runner.start(task_spec, store)
    container_id = client.containers.get(container_name(task_spec.task_id, "app")).id
    other = make_runner("docker", {"state_dir": str(tmp_path), "stop_grace_seconds": 1})
    try:
        second = other.start(task_spec, store)
        names = [c.name for c in client.containers.list(all=True)]
        assert names.count(f"batchyard-{task_spec.task_id}-app") == 1
        assert client.containers.get(container_name(task_spec.task_id, "app")).id == container_id
        exit = second.wait(30)
        assert exit is not None and exit.containers[0].exit_code == 0
        assert first.wait(30) is not None
    finally:
        other.close()


def test_container_removed_after_exit_is_reported(
    runner: DockerRunner, store: LogStore, client: Any
) -> None:
    import docker.errors

    task_spec = spec(["sh", "-c", "echo bye; exit 2"])
    exit = runner.start(task_spec, store).wait(30)
    assert exit is not None and exit.containers[0].exit_code == 2
    deadline = time.monotonic() + 30  # removed right after the exit was reported
    with pytest.raises(docker.errors.NotFound):
        while time.monotonic() < deadline:
            client.containers.get(container_name(task_spec.task_id, "app"))
            time.sleep(0.05)
    assert messages(store, task_spec.task_id) == ["bye"]


def test_default_bridge_is_refused(tmp_path: Path) -> None:
    require_docker()
    with pytest.raises(ValueError, match="never join the default bridge"):
        make_runner("docker", {"state_dir": str(tmp_path), "network_mode": "bridge"})


def test_long_lines_are_split_and_both_streams_shipped(
    runner: DockerRunner, store: LogStore
) -> None:
    # 300,000 characters: more than one event holds (262,118 bytes)
    command = ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo; echo err >&2"]
    task_spec = spec(command)
    exit = runner.start(task_spec, store).wait(30)
    assert exit is not None and exit.containers[0].exit_code == 0
    lines = messages(store, task_spec.task_id)
    long_parts = [m for m in lines if m.startswith("x")]
    assert [len(m) for m in long_parts] == [262_118, 300_000 - 262_118]
    assert "err" in lines


def test_a_container_created_but_never_started_is_started_on_reattach(
    runner: DockerRunner, store: LogStore, client: Any
) -> None:
    """The server died between create and start: the next start starts it, output included."""
    task_spec = spec(["sh", "-c", "echo from the created container; exit 5"])
    client.containers.create(
        busybox_image(),
        task_spec.containers[0].command,
        name=container_name(task_spec.task_id, "app"),
        network_mode="none",
        labels={"batchyard.task-arn": task_spec.task_arn},
    )
    exit = runner.start(task_spec, store).wait(30)
    assert exit is not None and exit.containers[0].exit_code == 5
    assert messages(store, task_spec.task_id) == ["from the created container"]


def test_a_container_silent_longer_than_the_client_timeout_is_followed(
    tmp_path: Path, store: LogStore
) -> None:
    require_docker()
    import docker

    engine = docker.from_env(version="auto", timeout=1)  # API calls time out after 1 s
    runner = DockerRunner(state_dir=tmp_path, client=engine)
    try:
        exit = runner.start(spec(["sh", "-c", "sleep 2.5; echo late; exit 4"]), store).wait(30)
    finally:
        runner.close()
    assert exit is not None and exit.containers[0].exit_code == 4

"""What only the local runner does: rlimits, process groups, host paths, its state files."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.logs import LogStore
from batchyard.runners import ContainerSpec, StartFailure, TaskSpec, make_runner
from batchyard.runners.local import LocalRunner
from tests.runners.conftest import DEFAULT_LOGS, messages


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[LocalRunner]:
    made = make_runner(
        "local", {"state_dir": str(tmp_path), "stop_grace_seconds": 1, "log_flush_interval": 0.1}
    )
    assert isinstance(made, LocalRunner)
    yield made
    made.close()


def spec(command: list[str], *, memory_mib: int | None = None, **container: Any) -> TaskSpec:
    task_id = uuid.uuid4().hex
    return TaskSpec(
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/local/{task_id}",
        task_id=task_id,
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/local",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/local:1",
        containers=[
            ContainerSpec("app", "ignored", command=command, logs=DEFAULT_LOGS, **container)
        ],
        memory_mib=memory_mib,
    )


def test_memory_limit_makes_allocations_fail(runner: LocalRunner, store: LogStore) -> None:
    code = "bytearray(400 * 1024 * 1024)"
    task_spec = spec([sys.executable, "-c", code], memory_mib=200)
    exit = runner.start(task_spec, store).wait(30)
    assert exit is not None
    assert exit.containers[0].exit_code == 1
    assert "MemoryError" in messages(store, task_spec.task_id)
    unlimited = runner.start(spec([sys.executable, "-c", code]), store).wait(30)
    assert unlimited is not None and unlimited.containers[0].exit_code == 0


def test_cpu_time_limit(tmp_path: Path, store: LogStore) -> None:
    runner = make_runner("local", {"state_dir": str(tmp_path), "cpu_time_limit_seconds": 1})
    try:
        exit = runner.start(spec(["sh", "-c", "while :; do :; done"]), store).wait(30)
    finally:
        runner.close()
    assert exit is not None
    assert exit.containers[0].exit_code == 128 + 9 or exit.containers[0].exit_code == 128 + 24


def test_stop_kills_the_whole_process_group(runner: LocalRunner, store: LogStore) -> None:
    task_spec = spec(["sh", "-c", "sleep 60 & echo $! > child; wait"])
    task = runner.start(task_spec, store)
    child_file = runner.task_dir(task_spec.task_id) / "app" / "work" / "child"
    deadline = time.monotonic() + 10
    while not child_file.exists() or not child_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    child = int(child_file.read_text())
    os.kill(child, 0)  # running
    task.stop()
    exit = task.wait(30)
    assert exit is not None and exit.stop_code == "UserInitiated"
    deadline = time.monotonic() + 5
    while _alive(child):
        assert time.monotonic() < deadline, "the command's child outlived the stop"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_missing_working_directory_fails_to_start(runner: LocalRunner, store: LogStore) -> None:
    with pytest.raises(StartFailure) as failure:
        runner.start(spec(["true"], working_directory="/no/such/dir"), store)
    assert failure.value.reason.startswith("CannotStartContainerError: ")
    assert 'chdir to cwd ("/no/such/dir")' in failure.value.reason


def test_no_command_fails_to_start(runner: LocalRunner, store: LogStore) -> None:
    with pytest.raises(StartFailure, match=r"^CannotStartContainerError: .*No command specified"):
        runner.start(spec([]), store)


def test_environment_is_minimal_plus_the_containers(runner: LocalRunner, store: LogStore) -> None:
    os.environ["BATCHYARD_HOST_ONLY"] = "leak"
    try:
        task_spec = spec(["sh", "-c", "env | sort"], environment={"ONE": "1"})
        exit = runner.start(task_spec, store).wait(30)
    finally:
        del os.environ["BATCHYARD_HOST_ONLY"]
    assert exit is not None and exit.containers[0].exit_code == 0
    names = {line.split("=", 1)[0] for line in messages(store, task_spec.task_id)}
    assert "ONE" in names and "PATH" in names and "HOME" in names
    assert "BATCHYARD_HOST_ONLY" not in names


def test_exit_code_survives_a_killed_runner_process(tmp_path: Path, store: LogStore) -> None:
    """The exit code is written by the wrapper, not by the runner: a new runner reads it."""
    task_spec = spec(["sh", "-c", "sleep 0.3; exit 9"])
    first = make_runner("local", {"state_dir": str(tmp_path)})
    first.start(task_spec, store)
    first.close()
    time.sleep(1)
    exit_file = tmp_path / task_spec.task_id / "app" / "exit"
    assert exit_file.read_text() == "9\n"
    second = make_runner("local", {"state_dir": str(tmp_path)})
    try:
        exit = second.start(task_spec, store).wait(10)
    finally:
        second.close()
    assert exit is not None and exit.containers[0].exit_code == 9


def test_bad_task_id_is_refused(runner: LocalRunner, store: LogStore) -> None:
    bad = TaskSpec("arn", "../escape", "c", "td", [ContainerSpec("app", "i", command=["true"])])
    with pytest.raises(ValueError, match=r"task id '\.\./escape'"):
        runner.start(bad, store)

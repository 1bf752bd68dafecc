"""The supervisor on both store backends: durable stop callbacks, and a takeover after kill -9.

These drive ``EcsService`` through its Python API (as the scheduler and the Step Functions
integration do) with the real local runner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchyard.ecs import Backends, EcsService
from batchyard.runners import make_runner
from batchyard.store import open_store
from tests.ecs.conftest import ROOT, wait_for


def _service(url: str, state_dir: Path, owner: str, lease: float = 30.0) -> EcsService:
    store = open_store(url)
    backends = Backends(
        lambda kind: make_runner(kind, {"state_dir": str(state_dir)}), lambda: "local"
    )
    return EcsService(
        store,
        backends,
        region="us-east-1",
        account="123456789012",
        owner=owner,
        lease_seconds=lease,
        poll_seconds=0.1,
    )


@pytest.fixture
def service(store_url: str, tmp_path: Path) -> Iterator[EcsService]:
    ecs = _service(store_url, tmp_path / "runner", "replica-a")
    ecs.supervisor.start()
    yield ecs
    ecs.supervisor.stop()
    ecs.close()
    ecs.ctx.store.close()


def _register(ecs: EcsService, family: str, script: str) -> str:
    response = ecs.operation(
        "RegisterTaskDefinition",
        {
            "family": family,
            "containerDefinitions": [
                {"name": "app", "image": "busybox", "command": ["sh", "-c", script]}
            ],
        },
    )
    arn: str = response["taskDefinition"]["taskDefinitionArn"]
    return arn


def _stopped(ecs: EcsService, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        task = ecs.describe_task(arn)
        return task if task is not None and task["lastStatus"] == "STOPPED" else None

    result: dict[str, Any] = wait_for(check, timeout=60)
    return result


def test_stop_callbacks_are_durable(service: EcsService) -> None:
    definition = _register(service, "waited", "exit 4")
    (task,) = service.run_task({"taskDefinition": definition}, waiter="token-1")["tasks"]
    _stopped(service, task["taskArn"])
    record = service.ctx.tasks.get(task["taskArn"].rsplit("/", 1)[1])
    assert record is not None and record.waiter == "token-1" and not record.delivered

    calls: list[tuple[str, int, str]] = []
    failures = iter([RuntimeError("the engine is busy")])
    delivered = threading.Event()

    def callback(stopped: dict[str, Any], waiter: str) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        calls.append((stopped["taskArn"], stopped["containers"][0]["exitCode"], waiter))
        delivered.set()

    service.on_task_stopped(callback)
    wait_for(lambda: service.supervisor.sweep() >= 0 and calls)  # the first call fails
    assert calls == [(task["taskArn"], 4, "token-1")]
    record = service.ctx.tasks.get(record.task_id)
    assert record is not None and record.delivered
    assert service.supervisor.sweep() == 0  # delivered once: nothing left


def test_callback_after_stop_and_stop_task(service: EcsService) -> None:
    seen: list[str] = []
    service.on_task_stopped(lambda task, waiter: seen.append(f"{waiter}:{task['stopCode']}"))
    definition = _register(service, "long", "sleep 30")
    (task,) = service.run_task(
        {"taskDefinition": definition, "clientToken": "slot-2026-11-29T10:00"}, waiter="w"
    )["tasks"]
    wait_for(lambda: (service.describe_task(task["taskArn"]) or {}).get("lastStatus") == "RUNNING")
    answer = service.stop_task(task["taskArn"], reason="Step Functions execution stopped")
    assert answer["desiredStatus"] == "STOPPED"
    stopped = _stopped(service, task["taskArn"])
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "Step Functions execution stopped"
    wait_for(lambda: seen)
    assert seen == ["w:UserInitiated"]
    again = service.run_task(
        {"taskDefinition": definition, "clientToken": "slot-2026-11-29T10:00"}, waiter="w"
    )
    assert [t["taskArn"] for t in again["tasks"]] == [task["taskArn"]]


def test_a_killed_replica_s_task_is_taken_over_and_runs_once(
    store_url: str, tmp_path: Path
) -> None:
    state_dir = tmp_path / "runner"  # one host: both replicas see the local runner's state
    marker = tmp_path / "starts"
    first = subprocess.Popen(
        [sys.executable, "-m", "tests.ecs.supervisor_process", store_url, str(state_dir),
         "replica-a", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    survivor = _service(store_url, state_dir, "replica-b", lease=2.0)
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "ready"
        definition = _register(survivor, "durable", f"echo started >> {marker}; sleep 4; exit 5")
        (task,) = survivor.run_task({"taskDefinition": definition})["tasks"]
        wait_for(
            lambda: (survivor.describe_task(task["taskArn"]) or {}).get("lastStatus") == "RUNNING"
        )
        owner = survivor.ctx.store.work.get("ecs-task", task["taskArn"])
        assert owner is not None and owner[0] == "replica-a"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        # Retagging the cluster now must not move the running task to another backend.
        survivor.operation(
            "TagResource",
            {
                "resourceArn": "arn:aws:ecs:us-east-1:123456789012:cluster/default",
                "tags": [{"key": "batchyard:runner", "value": "docker"}],
            },
        )
        survivor.supervisor.start()
        stopped = _stopped(survivor, task["taskArn"])
        assert stopped["stopCode"] == "EssentialContainerExited"
        assert stopped["containers"][0]["exitCode"] == 5
        assert marker.read_text().splitlines() == ["started"]  # re-attached, not started again
        assert {"name": "batchyard.runner", "value": "local"} in stopped["attributes"]
        # The work item is completed just after the STOPPED task is persisted.
        wait_for(lambda: survivor.ctx.store.work.get("ecs-task", task["taskArn"]) is None)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if first.stdout is not None:
            first.stdout.close()
        survivor.supervisor.stop()
        survivor.close()
        survivor.ctx.store.close()


def test_two_live_replicas_run_each_task_once(store_url: str, tmp_path: Path) -> None:
    replicas = [_service(store_url, tmp_path / f"runner-{n}", f"replica-{n}") for n in "ab"]
    marker = tmp_path / "runs"
    for replica in replicas:
        replica.supervisor.start()
    try:
        definition = _register(replicas[0], "shared", f'echo "$TASK" >> {marker}')
        arns = []
        for n in range(8):
            request = {
                "taskDefinition": definition,
                "overrides": {"containerOverrides": [
                    {"name": "app", "environment": [{"name": "TASK", "value": str(n)}]}
                ]},
            }  # fmt: skip
            arns.append(replicas[n % 2].run_task(request)["tasks"][0]["taskArn"])
        for arn in arns:
            assert _stopped(replicas[0], arn)["containers"][0]["exitCode"] == 0
        assert sorted(marker.read_text().split()) == [str(n) for n in range(8)]
    finally:
        for replica in replicas:
            replica.supervisor.stop()
            replica.close()
            replica.ctx.store.close()


class _Hiccups:
    """The real local runner behind a start that raises ``failures`` unexpected errors first
    (a Docker engine restarting, say) — not ``StartFailure``, which ends the task at once."""

    name = "local"

    def __init__(self, state_dir: Path, failures: int) -> None:
        self.inner = make_runner("local", {"state_dir": str(state_dir)})
        self.failures = failures
        self.calls = 0

    def start(self, spec: Any, logs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("the engine is restarting")
        return self.inner.start(spec, logs)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize(("failures", "outcome"), [(2, "EssentialContainerExited"),
                                                    (99, "TaskFailedToStart")])  # fmt: skip
def test_unexpected_start_errors_are_retried_then_given_up(
    store_url: str, tmp_path: Path, failures: int, outcome: str
) -> None:
    runner = _Hiccups(tmp_path / "runner", failures)
    ecs = EcsService(
        open_store(store_url),
        Backends(lambda kind: runner, lambda: "local"),  # type: ignore[arg-type, return-value]
        region="us-east-1",
        account="123456789012",
        poll_seconds=0.05,
    )
    ecs.supervisor.retry_seconds = 0.05
    ecs.supervisor.start()
    try:
        definition = _register(ecs, "hiccups", "true")
        (task,) = ecs.run_task({"taskDefinition": definition})["tasks"]
        stopped = _stopped(ecs, task["taskArn"])
    finally:
        ecs.supervisor.stop()
        ecs.close()
        ecs.ctx.store.close()
    assert stopped["stopCode"] == outcome
    if outcome == "TaskFailedToStart":
        assert stopped["stoppedReason"] == "CannotStartContainerError: the engine is restarting"
        assert runner.calls == 5
    else:
        assert stopped["containers"][0]["exitCode"] == 0 and runner.calls == 3

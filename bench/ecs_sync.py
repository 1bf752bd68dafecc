"""End-to-end ``ecs:runTask.sync`` of a busybox ``true`` container beside a plain ``docker run``.

Run with ``python bench/ecs_sync.py`` (a Docker engine and the local busybox image of
``tests/support/images.py``); ``bench/tasks.py`` prints its row in the tasks table.

(a) batchyard: a ``batchyard server`` subprocess (SQLite, its own data directory); a state
    machine whose one state is ``ecs:runTask.sync`` on a cluster tagged
    ``batchyard:runner = docker``; per run, ``StartExecution`` then ``DescribeExecution`` polled
    every 10 ms until the execution ends — what a user waiting on the job sees.
(b) plain: ``docker run --rm --network none <busybox> true`` with the Docker CLI.

Both after one untimed warm-up, interleaved (one of each per round, so that a busy machine slows
both alike); the median of ``--runs`` runs each. Goal: (a) <= 1.3 x (b).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.images, when run as a script
sys.path.insert(0, str(ROOT / "bench"))

from engine import batchyard_server  # noqa: E402 - bench/ is on sys.path

ROLE = "arn:aws:iam::123456789012:role/bench"
CLIENT_CONFIG = Config(retries={"max_attempts": 1}, read_timeout=60)
POLL_S = 0.01
GOAL = 1.3

Row = tuple[str, str, str, str]


def _client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CLIENT_CONFIG,
    )


def _machine(url: str, image: str) -> str:
    ecs = _client(url, "ecs")
    ecs.create_cluster(clusterName="bench", tags=[{"key": "batchyard:runner", "value": "docker"}])
    ecs.register_task_definition(
        family="true",
        containerDefinitions=[{"name": "true", "image": image, "command": ["true"]}],
    )
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {"Cluster": "bench", "TaskDefinition": "true"},
                "End": True,
            }
        },
    }
    sfn = _client(url, "stepfunctions")
    created = sfn.create_state_machine(name="sync", definition=json.dumps(definition), roleArn=ROLE)
    return str(created["stateMachineArn"])


def _sync_once(sfn: Any, machine: str) -> float:
    started = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        time.sleep(POLL_S)
    elapsed = time.perf_counter() - started
    if status != "SUCCEEDED":
        raise RuntimeError(f"{arn} ended {status}")
    return elapsed


def measure(image: str, runs: int) -> tuple[list[float], list[float]]:
    """Both, interleaved (one of each per round), so that the load of a shared machine weighs on
    both columns alike; one untimed warm-up of each first."""
    docker = shutil.which("docker")
    if docker is None:
        raise RuntimeError("the docker CLI is not on PATH")
    command = [docker, "run", "--rm", "--network", "none", image, "true"]

    def plain() -> float:
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - started

    with batchyard_server() as url:
        machine = _machine(url, image)
        sfn = _client(url, "stepfunctions")
        _sync_once(sfn, machine)  # warm-up: the runner's Docker client, the definition
        plain()
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(runs):
            ours.append(_sync_once(sfn, machine))
            theirs.append(plain())
        return ours, theirs


def rows(runs: int = 10) -> list[Row]:
    """The table rows: both medians and the ratio against its goal (or why it did not run)."""
    from tests.support.images import busybox_image, docker_available

    if not docker_available():
        return [("ecs:runTask.sync busybox true", "s (median)", "-", "no Docker engine")]
    ours_runs, plain_runs = measure(busybox_image(), runs)
    ours = statistics.median(ours_runs)
    plain = statistics.median(plain_runs)
    ratio = ours / plain
    verdict = "meets" if ratio <= GOAL else "misses"
    return [
        ("ecs:runTask.sync busybox true (e2e)", "s (median)", f"{ours:.3f}", ""),
        ("docker run --rm busybox true", "s (median)", f"{plain:.3f}", ""),
        (
            "ecs:runTask.sync / docker run",
            "ratio",
            f"{ratio:.2f}",
            f"goal <= {GOAL}x ({verdict})",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"{'workload':<40} {'unit':<12} {'value':>8}  note")
    for workload, unit, value, note in rows(args.runs):
        print(f"{workload:<40} {unit:<12} {value:>8}  {note}")


if __name__ == "__main__":
    main()

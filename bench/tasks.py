"""Tasks and functions, each beside what it replaces: one table, one run.

Run with ``python bench/tasks.py`` (a Docker engine for the Docker rows; they say so and are
skipped without one). One function per row group, each returning ``Row`` tuples
``(workload, unit, value, note)``; ``SECTIONS`` lists them in table order, so adding a row is
adding a function and a line there.

* local runner ``true`` vs a plain ``subprocess.run(["true"])``: start to exit, median.
* docker runner busybox ``true`` vs ``docker run --rm --network none <busybox> true``: start to
  exit (container removed) vs the Docker CLI doing the same, median.
* log shipping: lines/s from one container printing 1,000,000 lines (``seq``) into a real
  ``LogStore``, start to the last event stored; goal >= 100,000 lines/s. Local runner too.
* ``ecs:runTask.sync`` end to end and function invocation latency: ``bench/ecs_sync.py`` and
  ``bench/functions.py`` (their own ``rows()``).

Medians after one untimed warm-up. Timings are wall-clock on a shared machine: compare the
columns of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.images, when run as a script
sys.path.insert(0, str(ROOT / "bench"))

from batchyard.logs import LogStore  # noqa: E402
from batchyard.runners import AwsLogs, ContainerSpec, Runner, TaskSpec, make_runner  # noqa: E402

Row = tuple[str, str, str, str]
LOG_GOAL = 100_000
LINES = 1_000_000


def _spec(command: list[str], image: str, logs: AwsLogs | None = None) -> TaskSpec:
    task_id = uuid.uuid4().hex
    return TaskSpec(
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/bench/{task_id}",
        task_id=task_id,
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/bench",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/bench:1",
        containers=[ContainerSpec("app", image, command=command, logs=logs)],
    )


def _run_task(runner: Runner, spec: TaskSpec, logs: LogStore | None) -> float:
    """Seconds from ``start`` to the reported exit (container removed on Docker)."""
    began = time.perf_counter()
    exit = runner.start(spec, logs).wait(600)
    elapsed = time.perf_counter() - began
    if exit is None or exit.containers[0].exit_code != 0:
        raise RuntimeError(f"bench task failed: {exit}")
    return elapsed


def _median(measure: Callable[[], float], runs: int) -> float:
    measure()  # warm-up
    return statistics.median(measure() for _ in range(runs))


def _ratio_rows(name: str, ours: float, plain: float, plain_name: str) -> list[Row]:
    return [
        (name, "ms (median)", f"{ours * 1000:.1f}", ""),
        (plain_name, "ms (median)", f"{plain * 1000:.1f}", ""),
        (f"{name} / plain", "ratio", f"{ours / plain:.2f}", ""),
    ]


def local_runner_true(runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as state:
        runner = make_runner("local", {"state_dir": state})
        try:
            ours = _median(lambda: _run_task(runner, _spec(["true"], "-"), None), runs)
        finally:
            runner.close()

    def plain_run() -> float:
        began = time.perf_counter()
        subprocess.run(["true"], check=True)
        return time.perf_counter() - began

    plain = _median(plain_run, runs)
    return _ratio_rows("local runner `true`", ours, plain, "subprocess.run(['true'])")


def docker_runner_true(runs: int) -> list[Row]:
    from tests.support.images import busybox_image, docker_available

    if not docker_available():
        return [("docker runner busybox `true`", "ms (median)", "-", "no Docker engine")]
    image = busybox_image()
    docker_cli = shutil.which("docker")
    with tempfile.TemporaryDirectory() as state:
        runner = make_runner("docker", {"state_dir": state})
        try:
            ours = _median(lambda: _run_task(runner, _spec(["true"], image), None), runs)
        finally:
            runner.close()
    if docker_cli is None:
        return [("docker runner busybox `true`", "ms (median)", f"{ours * 1000:.1f}", "no CLI")]

    def plain_run() -> float:
        began = time.perf_counter()
        subprocess.run(
            [docker_cli, "run", "--rm", "--network", "none", image, "true"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - began

    plain = _median(plain_run, runs)
    return _ratio_rows("docker runner busybox `true`", ours, plain, "docker run --rm busybox true")


def _ship(kind: str, options: dict[str, object], image: str) -> float:
    """Lines/s of one task printing LINES lines, all of them checked stored."""
    store = LogStore(None)
    store.create_log_group("/bench")
    runner = make_runner(kind, options)
    try:
        spec = _spec(["seq", "1", str(LINES)], image, AwsLogs("/bench", "bench"))
        seconds = _run_task(runner, spec, store)
    finally:
        runner.close()
    with store.lock:
        (count,) = store.connection.execute(
            f"SELECT count(*) FROM {store.events_relation}"
        ).fetchone()
    store.close()
    if count != LINES:
        raise RuntimeError(f"{count} events stored, {LINES} printed")
    return LINES / seconds


def log_shipping(runs: int) -> list[Row]:
    from tests.support.images import busybox_image, docker_available

    del runs  # one run of a million lines each
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as state:
        if docker_available():
            rate = _ship("docker", {"state_dir": state}, busybox_image())
            verdict = "meets" if rate >= LOG_GOAL else "misses"
            rows.append(("log shipping, one docker container", "lines/s", f"{rate:,.0f}",
                         f"goal >= {LOG_GOAL:,} ({verdict})"))  # fmt: skip
        else:
            rows.append(("log shipping, one docker container", "lines/s", "-", "no Docker engine"))
        rate = _ship("local", {"state_dir": state}, "-")
        verdict = "meets" if rate >= LOG_GOAL else "misses"
        rows.append(("log shipping, one local process", "lines/s", f"{rate:,.0f}",
                     f"goal >= {LOG_GOAL:,} ({verdict})"))  # fmt: skip
    return rows


def ecs_sync_rows(runs: int) -> list[Row]:
    import ecs_sync

    return ecs_sync.rows(runs)


def function_rows(runs: int) -> list[Row]:
    import functions

    del runs
    return functions.rows()


SECTIONS: list[tuple[str, Callable[[int], list[Row]]]] = [
    ("local", local_runner_true),
    ("docker", docker_runner_true),
    ("logs", log_shipping),
    ("ecs-sync", ecs_sync_rows),
    ("functions", function_rows),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per median")
    parser.add_argument(
        "--only", action="append", choices=[name for name, _ in SECTIONS], help="sections to run"
    )
    args = parser.parse_args()
    print(f"{'workload':<42} {'unit':<12} {'value':>10}  note", flush=True)
    for name, section in SECTIONS:
        if args.only and name not in args.only:
            continue
        for workload, unit, value, note in section(args.runs):
            print(f"{workload:<42} {unit:<12} {value:>10}  {note}", flush=True)


if __name__ == "__main__":
    main()

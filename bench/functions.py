"""Function invocation latency: warm and cold, beside a plain in-process call and moto's Lambda.

Run with ``python bench/functions.py``; ``bench/tasks.py`` prints its rows in the tasks table
(``rows()`` answers ``(workload, unit, value, note)`` like ``bench/ecs_sync.py``).

(a) plain: the handler called in this process, ``handler(event, None)``.
(b) warm, Python API: ``FunctionService.invoke`` on a SQLite store with a real log store (the
    function row read, the worker reused, the payload over the pipes, the result back, the log
    events queued for the log store) -- what the engine, the scheduler and the console call.
(c) warm, HTTP: ``lambda.invoke`` through boto3 against a ``batchyard server`` subprocess.
(d) cold: the same invocation with the warm workers retired first (a new interpreter, the
    handler imported, then the call).
(e) moto's Lambda runs each invocation in a Docker container of an AWS Lambda image pulled
    from Docker Hub (``mlupin/docker-lambda``); with no registry reachable it cannot run here,
    and the row says so.

Goal: warm invocation (b) p50 <= 5 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from batchyard.functions import FunctionService  # noqa: E402
from batchyard.logs import LogStore  # noqa: E402
from batchyard.store import open_store  # noqa: E402
from engine import batchyard_server  # noqa: E402 - bench/ is on sys.path

GOAL_MS = 5.0
SOURCE = "def handler(event, context):\n    return {'n': event['n'] + 1}\n"
ROLE = "arn:aws:iam::123456789012:role/bench"
Row = tuple[str, str, str, str]


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", SOURCE)
    return buffer.getvalue()


def _create_params() -> dict[str, Any]:
    return {
        "FunctionName": "bench",
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": _package()},
    }


def _times(
    call: Callable[[], object], runs: int, before: Callable[[], object] | None = None
) -> list[float]:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plain(runs: int) -> list[float]:
    namespace: dict[str, Any] = {}
    exec(SOURCE, namespace)
    handler = namespace["handler"]
    return _times(lambda: handler(json.loads(b'{"n": 1}'), None), runs)


def python_api(warm_runs: int, cold_runs: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-functions-") as directory:
        data = Path(directory)
        store = open_store(f"sqlite:///{data / 'state.db'}")
        logs = LogStore(str(data / "logs.duckdb"))
        service = FunctionService(store, logs, data_dir=data)
        try:
            service.create_function(_create_params())
            service.invoke("bench", b'{"n": 1}')  # untimed: the first worker starts
            warm = _times(lambda: service.invoke("bench", b'{"n": 1}'), warm_runs)
            cold = _times(
                lambda: service.invoke("bench", b'{"n": 1}'),
                cold_runs,
                before=lambda: service.pool.retire("bench"),
            )
            service.flush_logs()
        finally:
            service.close()
            logs.close()
            store.close()
    return warm, cold


def http(runs: int) -> list[float]:
    import boto3  # type: ignore[import-untyped]

    with batchyard_server() as url:
        client = boto3.client(
            "lambda",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_function(**_create_params())
        client.invoke(FunctionName="bench", Payload=b'{"n": 1}')
        return _times(
            lambda: client.invoke(FunctionName="bench", Payload=b'{"n": 1}')["Payload"].read(),
            runs,
        )


def moto_lambda_note() -> str:
    """Why moto's Lambda is not measured here (it needs a Lambda image from Docker Hub)."""
    try:
        images = subprocess.run(
            ["docker", "images", "--format", "{{.Repository}}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return "not run: no Docker engine (moto's Lambda runs each call in a container)"
    if not any("docker-lambda" in image or "lambda/python" in image for image in images):
        return (
            "not run: moto's Lambda pulls mlupin/docker-lambda images from Docker Hub; "
            "no registry is reachable here"
        )
    return "not run: a Lambda image is present, but this bench does not drive moto's Lambda yet"


def rows(warm_runs: int = 2000, cold_runs: int = 20, http_runs: int = 300) -> list[Row]:
    base = plain(warm_runs)
    warm, cold = python_api(warm_runs, cold_runs)
    over_http = http(http_runs)
    verdict = "meets" if _p(warm, 0.5) <= GOAL_MS else "misses"
    return [
        ("function call in process (p50)", "ms", f"{_p(base, 0.5):.4f}", "handler(event, None)"),
        ("function call in process (p99)", "ms", f"{_p(base, 0.99):.4f}", ""),
        (
            "Invoke warm, Python API (p50)",
            "ms",
            f"{_p(warm, 0.5):.3f}",
            f"goal <= {GOAL_MS} ms ({verdict})",
        ),
        ("Invoke warm, Python API (p99)", "ms", f"{_p(warm, 0.99):.3f}", ""),
        ("Invoke warm, HTTP boto3 (p50)", "ms", f"{_p(over_http, 0.5):.3f}", "server subprocess"),
        ("Invoke warm, HTTP boto3 (p99)", "ms", f"{_p(over_http, 0.99):.3f}", ""),
        ("Invoke cold, Python API (p50)", "ms", f"{_p(cold, 0.5):.1f}", "new worker process"),
        ("Invoke cold, Python API (p99)", "ms", f"{_p(cold, 0.99):.1f}", ""),
        ("moto Lambda invoke", "ms", "-", moto_lambda_note()),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--http-runs", type=int, default=300)
    args = parser.parse_args()
    print(f"{'workload':<36} {'unit':<6} {'value':>9}  note")
    for workload, unit, value, note in rows(args.warm_runs, args.cold_runs, args.http_runs):
        print(f"{workload:<36} {unit:<6} {value:>9}  {note}")


if __name__ == "__main__":
    main()

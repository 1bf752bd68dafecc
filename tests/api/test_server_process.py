"""``batchyard server`` as a process: the AWS CLI against it, metrics, SIGTERM shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

from batchyard.logs import LogStore
from tests.api.conftest import free_port


@dataclass
class Process:
    proc: subprocess.Popen[str]
    url: str
    data_dir: Path


def _launch(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchyard.cli.main", "server", "--port", str(port),
         "--data-dir", str(data_dir), "--log-level", "debug", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(proc: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.communicate()[0]}")
        try:
            with urllib.request.urlopen(url + "/healthz") as response:
                if json.loads(response.read())["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not become healthy")


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    data_dir = tmp_path_factory.mktemp("server")
    proc, url = _launch(data_dir)
    try:
        _wait_healthy(proc, url)
        yield Process(proc, url, data_dir)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _aws(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", url, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _logs(url: str) -> Any:
    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_aws_cli_unchanged(process: Process) -> None:
    created = _aws(process.url, "logs", "create-log-group", "--log-group-name", "/cli/group")
    assert created.returncode == 0, created.stderr
    described = _aws(process.url, "logs", "describe-log-groups", "--log-group-name-prefix", "/cli")
    assert described.returncode == 0, described.stderr
    assert [g["logGroupName"] for g in json.loads(described.stdout)["logGroups"]] == ["/cli/group"]
    missing = _aws(process.url, "logs", "delete-log-group", "--log-group-name", "/cli/none")
    assert missing.returncode == 255  # awscli v1: 255 for a service error (v2 says 254)
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DeleteLogGroup "
        "operation: The specified log group does not exist." in missing.stderr
    )


def test_metrics_count_requests_per_operation(process: Process) -> None:
    _logs(process.url).describe_log_groups()
    with urllib.request.urlopen(process.url + "/metrics") as response:
        text = response.read().decode()
    assert (
        'batchyard_api_requests_total{operation="DescribeLogGroups",service="logs",status="200"}'
        in text
    )
    assert "batchyard_api_request_seconds_bucket" in text


def test_sigterm_stops_cleanly_and_flushes(process: Process) -> None:
    logs = _logs(process.url)
    logs.create_log_group(logGroupName="/before/sigterm")
    logs.create_log_stream(logGroupName="/before/sigterm", logStreamName="s")
    logs.put_log_events(
        logGroupName="/before/sigterm",
        logStreamName="s",
        logEvents=[{"timestamp": time.time_ns() // 1_000_000, "message": "last words"}],
    )
    process.proc.send_signal(signal.SIGTERM)
    output, _ = process.proc.communicate(timeout=30)
    assert process.proc.returncode == 0, output
    assert "batchyard server stopped" in output
    assert "logs.PutLogEvents -> 200" in output  # one debug line per request
    with LogStore(str(process.data_dir / "logs.duckdb")) as store:
        events = store.get_log_events("/before/sigterm", "s", start_from_head=True)["events"]
    assert [e["message"] for e in events] == ["last words"]


def test_non_loopback_without_credentials_refuses_to_start(tmp_path: Path) -> None:
    proc, _ = _launch(tmp_path, "--host", "0.0.0.0")
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "configure credentials" in output
    assert not (tmp_path / "logs.duckdb").exists()


def test_sigterm_answers_open_activity_long_polls_at_once(tmp_path: Path) -> None:
    """A worker's GetActivityTask long poll (up to 60 s) must not hold the shutdown."""
    import threading

    from botocore.config import Config  # type: ignore[import-untyped]

    proc, url = _launch(tmp_path)
    try:
        _wait_healthy(proc, url)
        sfn = boto3.client(
            "stepfunctions", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(read_timeout=90, retries={"max_attempts": 1}),
        )  # fmt: skip
        arn = sfn.create_activity(name="idle")["activityArn"]
        answers: list[dict[str, Any]] = []
        poller = threading.Thread(
            target=lambda: answers.append(sfn.get_activity_task(activityArn=arn)), daemon=True
        )
        poller.start()
        time.sleep(1.0)  # the poll is open and waiting
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        poller.join(timeout=10)
        assert proc.returncode == 0, output
        assert time.monotonic() - stopped_at < 15, "SIGTERM waited for the long poll"
        assert len(answers) == 1
        assert "taskToken" not in answers[0]  # no task: the empty answer AWS gives
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

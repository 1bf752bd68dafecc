"""``batchyard logs query`` and ``logs tail`` against a real server."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.api.conftest import RunningServer
from tests.cli.conftest import Cli

GROUP = "/cli/jobs"


@pytest.fixture(scope="module")
def events(server: RunningServer) -> list[dict[str, Any]]:
    logs = server.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="app/1")
    now = int(time.time() * 1000)
    batch = [
        {"timestamp": now - 60_000 + i, "message": json.dumps({"job": job, "ms": ms})}
        for i, (job, ms) in enumerate([("import", 120), ("import", 80), ("report", 30)])
    ]
    batch.append({"timestamp": now - 50_000, "message": "plain text ERROR line"})
    logs.put_log_events(logGroupName=GROUP, logStreamName="app/1", logEvents=batch)
    return batch


def test_query_table_json_and_csv(cli: Cli, events: list[dict[str, Any]]) -> None:
    query = "filter ispresent(job) | stats count(*) as runs, sum(ms) as total by job | sort job"
    as_json = cli("logs", "query", query, "--group", GROUP, "--since", "1h", "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == [
        {"job": "import", "runs": "2", "total": "200"},
        {"job": "report", "runs": "1", "total": "30"},
    ]
    as_csv = cli("logs", "query", query, "-g", GROUP, "--since", "1h", "-o", "csv")
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["job", "runs", "total"],
        ["import", "2", "200"],
        ["report", "1", "30"],
    ]
    table = cli("logs", "query", query, "-g", GROUP, "--since", "1h")
    assert table.exit_code == 0
    assert "import" in table.stdout and "200" in table.stdout
    assert "2 row(s)" in table.stderr


def test_query_time_range_excludes_events(cli: Cli, events: list[dict[str, Any]]) -> None:
    start = str(events[0]["timestamp"] // 1000 - 7200)
    end = str(events[0]["timestamp"] // 1000 - 3600)
    result = cli(
        "logs",
        "query",
        "fields @message",
        "-g",
        GROUP,
        "--start",
        start,
        "--end",
        end,
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_query_limit(cli: Cli, events: list[dict[str, Any]]) -> None:
    result = cli("logs", "query", "fields @message", "-g", GROUP, "--limit", "2", "-o", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 2


def test_query_syntax_error_is_the_servers_message(cli: Cli, events: list[dict[str, Any]]) -> None:
    result = cli("logs", "query", "stats count(* by", "-g", GROUP)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: MalformedQueryException: ")


def test_query_unknown_group(cli: Cli) -> None:
    result = cli("logs", "query", "fields @message", "-g", "/cli/none")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ResourceNotFoundException: ")


def test_query_bad_duration_is_usage_error(cli: Cli) -> None:
    result = cli("logs", "query", "fields @message", "-g", GROUP, "--since", "yesterday")
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_tail_prints_events_and_filters(cli: Cli, events: list[dict[str, Any]]) -> None:
    result = cli("logs", "tail", "--group", GROUP, "--since", "1h")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert all("app/1" in line for line in lines)
    assert lines[-1].endswith("plain text ERROR line")
    filtered = cli("logs", "tail", "-g", GROUP, "--since", "1h", "--filter-pattern", "ERROR")
    assert filtered.stdout.splitlines() == [lines[-1]]


def test_tail_follow_prints_events_as_they_arrive(server: RunningServer) -> None:
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/cli/follow")
    logs.create_log_stream(logGroupName="/cli/follow", logStreamName="s")
    command = [
        sys.executable,
        "-m",
        "batchyard.cli.main",
        "logs",
        "tail",
        "-g",
        "/cli/follow",
        "-f",
    ]
    env = {**os.environ, "BATCHYARD_ENDPOINT": server.url, "NO_COLOR": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        try:
            lines: list[str] = []
            for number in range(2):
                logs.put_log_events(
                    logGroupName="/cli/follow",
                    logStreamName="s",
                    logEvents=[
                        {"timestamp": int(time.time() * 1000), "message": f"event {number}"}
                    ],
                )
                assert process.stdout is not None
                lines.append(process.stdout.readline())  # blocks until the follower prints it
            assert [line.rstrip().split(" ", 2)[2] for line in lines] == ["event 0", "event 1"]
        finally:
            process.terminate()
            process.wait(timeout=30)

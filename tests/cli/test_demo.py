"""``batchyard demo``: the README's main job, run for real with the local runner.

The end-to-end test starts the real demo (a server subprocess, the example deployed through
boto3, slots fired by the scheduler, tasks run as host processes) and reads its printed table:
a row per command of each execution, and the injected start failure retried. The other tests
pin the pieces the table depends on without a server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from batchyard.cli import demo
from batchyard.logs import LogStore

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = ("--timeout", "360")
COMMANDS = ("orders-import", "invoices-build", "reports-send")
# A table row: [window,] execution, command, start, end, seconds, attempts, warnings.
ROW = re.compile(
    r"^(?:(\d\d:\d0)\s+)?(\S+)\s+(" + "|".join(COMMANDS) + r")\s+"
    r"(\d\d:\d\d:\d\d)\s+(\d\d:\d\d:\d\d)\s+([\d.]+)\s+(\d+)\s+(\d+)\s*$",
    re.M,
)


def _run_demo(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    """The demo as a person runs it. Its own deadline is raised (the product keeps to two
    minutes; a test on a loaded machine must not fail for being slow)."""
    environment = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    environment.pop("BATCHYARD_RUNNER", None)
    return subprocess.run(
        [sys.executable, "-m", "batchyard.cli.main", "demo", "--runner", "local", *DEADLINE, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.mark.timeout(420)
def test_the_demo_runs_the_nightly_batch_and_prints_its_run_times(tmp_path: Path) -> None:
    result = _run_demo("--data-dir", str(tmp_path / "data"), "--slots", "3")
    output = result.stdout
    assert result.returncode == 0, output + result.stderr

    rows = ROW.findall(output)
    executions = {row[1] for row in rows}
    assert len(executions) >= 3, output
    ran = re.search(r"^(\d+) executions \(SUCCEEDED\)", output, re.M)
    assert ran and int(ran.group(1)) == len(executions), output  # a row set for each run
    for execution in executions:
        commands = sorted(row[2] for row in rows if row[1] == execution)
        assert commands == sorted(COMMANDS), (execution, output)
    # orders-import's first launch is injected to fail to start; the Retry ran it again.
    attempts = {(row[1], row[2]): int(row[6]) for row in rows}
    assert max(attempts.values()) == 2, output
    assert [key[1] for key, n in attempts.items() if n == 2] == ["orders-import"]
    assert "start failures retried: 1" in output
    assert "TaskFailedToStart: ResourceInitializationError" in output
    for row in rows:
        assert float(row[5]) > 0  # each command took time: started, logged, ended
        # The commands' own output is in the query: invoices-build logs one warning a run.
        assert int(row[7]) == (1 if row[2] == "invoices-build" else 0), row
    assert "Console: http://127.0.0.1:" in output
    assert "Server stopped" in output
    assert "rate(10 seconds)" in output  # the demo says how the slots come
    assert (tmp_path / "data" / "state.db").exists()


@pytest.mark.timeout(420)
def test_keep_leaves_the_server_running_and_a_rerun_shows_only_its_own_runs(
    tmp_path: Path,
) -> None:
    result = _run_demo("--data-dir", str(tmp_path / "data"), "--slots", "1", "--keep")
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"keeps running at (http://127\.0\.0\.1:\d+); stop it with: kill (\d+)",
                      result.stdout)  # fmt: skip
    assert found, result.stdout
    url, pid = found.group(1), int(found.group(2))
    assert f"the retried run {url}/ui/execution?arn=arn%3Aaws%3Astates" in result.stdout
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            assert "ecs" in json.load(response)["services"]
    finally:
        os.kill(pid, signal.SIGTERM)
    first = {row[1] for row in ROW.findall(result.stdout)}
    for _ in range(300):  # the kept server lets go of the data directory
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)

    again = _run_demo("--data-dir", str(tmp_path / "data"), "--slots", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "= state machine nightly-batch" in again.stdout  # deployed before: unchanged
    rows = ROW.findall(again.stdout)
    assert len({row[1] for row in rows}) == 1 and {row[1] for row in rows} != first
    assert len(rows) == len(COMMANDS)
    assert "1 execution (SUCCEEDED)" in again.stdout


@pytest.mark.timeout(180)
def test_sigterm_stops_the_demo_and_its_server(tmp_path: Path) -> None:
    """The server runs in a session of its own; a demo that is told to stop stops it too."""
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    command = [sys.executable, "-m", "batchyard.cli.main", "demo", "--runner", "local",
               *DEADLINE, "--data-dir", str(tmp_path / "data")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    assert process.stdout is not None
    server_pid = None
    for line in process.stdout:
        found = re.search(r"server\s+http://127\.0\.0\.1:\d+ \(pid (\d+)", line)
        if found:
            server_pid = int(found.group(1))
            break
    assert server_pid is not None, "the demo never said which server it started"
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=120)[0]
    assert process.returncode == 128 + signal.SIGTERM, rest
    assert "Server stopped" in rest
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)  # stopped and reaped by the demo, not left running


@pytest.mark.timeout(120)
def test_a_demo_out_of_time_says_so_and_stops_its_server(tmp_path: Path) -> None:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    command = [sys.executable, "-m", "batchyard.cli.main", "demo", "--runner", "local",
               "--timeout", "3", "--data-dir", str(tmp_path / "data")]  # fmt: skip
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=environment,
        timeout=100,
    )
    assert result.returncode == 1
    assert "executions ended in time" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Server stopped" in result.stdout


def test_a_project_the_demo_cannot_run_is_refused_before_a_server_starts(
    tmp_path: Path,
) -> None:
    (tmp_path / "empty.yaml").write_text("project: empty\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(
        "project: broken\nschedules:\n  nightly:\n    expression: cron(99 * * * ? *)\n",
        encoding="utf-8",
    )
    empty = _run_demo("--example", str(tmp_path / "empty.yaml"), timeout=60)
    assert empty.returncode == 1
    assert "declares no state machine" in empty.stderr
    broken = _run_demo("--example", str(tmp_path / "broken.yaml"), timeout=60)
    assert broken.returncode == 1
    assert "broken.yaml:4" in broken.stderr  # the problem's file and line
    for result in (empty, broken):
        assert "server" not in result.stdout and "Traceback" not in result.stderr


def test_a_missing_project_file_is_a_clear_error(tmp_path: Path) -> None:
    result = _run_demo("--example", str(tmp_path / "nope.yaml"), timeout=60)
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ the pieces, no server


def _event(n: int, kind: str, details: dict[str, object], arn: str) -> dict[str, object]:
    line = {
        "id": str(n),
        "type": kind,
        "details": details,
        "previous_event_id": str(n - 1),
        "event_timestamp": str(1_764_400_000_000 + n * 1000),
        "execution_arn": arn,
        "redrive_count": "0",
    }
    message = json.dumps(line, separators=(",", ":"))  # compact, as the engine writes it
    return {"timestamp": 1_764_400_000_000 + n * 1000, "message": message}


def test_the_run_time_query_joins_execution_events_and_command_output() -> None:
    """The query over events shaped as the engine writes them at level ALL, and the command's
    tagged Ruby Logger lines in its awslogs stream."""
    store = LogStore(None)
    events_group, output_group = "/aws/vendedlogs/states/nightly-batch", "/ecs/nightly-batch"
    arn = "arn:aws:states:us-east-1:123456789012:execution:nightly-batch:one"
    parameters = {"Cluster": "c", "TaskDefinition": "invoices-build"}
    scheduled = {"parameters": json.dumps(parameters, separators=(",", ":"))}
    kinds = [
        ("ExecutionStarted", {}),
        ("TaskStateEntered", {"name": "invoices-build"}),
        ("TaskScheduled", scheduled),
        ("TaskFailed", {"error": "States.TaskFailed"}),
        ("TaskScheduled", scheduled),
        ("TaskSucceeded", {}),
        ("TaskStateExited", {"name": "invoices-build"}),
        ("ExecutionSucceeded", {}),
    ]
    events = [_event(n, kind, details, arn) for n, (kind, details) in enumerate(kinds, 1)]
    output = [
        {"timestamp": 1_764_400_005_200, "message": f"I, [t #1]  INFO -- : [{arn}] started"},
        {"timestamp": 1_764_400_005_400, "message": f"W, [t #1]  WARN -- : [{arn}] skipped 3"},
        {"timestamp": 1_764_400_005_600, "message": "I, [t #1]  INFO -- : [] not tagged"},
    ]
    for group, stream, batch in (
        (events_group, "states/x", events),
        (output_group, "invoices-build/app/abc123", output),
    ):
        store.create_log_group(group)
        store.create_log_stream(group, stream)
        store.put_log_events(group, stream, batch)
    result = store.query(
        demo.RUN_TIME_QUERY, [events_group, output_group], 1_764_399_000, 1_764_401_000
    )
    assert result.rows == [
        {
            "window": "2025-11-29 07:00:00.000",
            "execution_arn": arn,
            "commands": "invoices-build",
            "startTime": "2025-11-29 07:06:42.000",
            "endTime": "2025-11-29 07:06:47.000",
            "seconds": "5",
            "attempts": "2",
            "warnings": "1",
        }
    ]


def test_a_start_failure_is_read_from_the_task_in_the_cause() -> None:
    task = {"TaskArn": "arn:t", "StopCode": "TaskFailedToStart", "StoppedReason": "Timeout x"}
    failed = {
        "type": "TaskFailed",
        "taskFailedEventDetails": {"error": "States.TaskFailed", "cause": json.dumps(task)},
    }
    assert demo.failed_to_start(failed) == "Timeout x"
    exited = dict(task, StopCode="EssentialContainerExited")
    failed["taskFailedEventDetails"] = {"error": "States.TaskFailed", "cause": json.dumps(exited)}
    assert demo.failed_to_start(failed) is None
    failed["taskFailedEventDetails"] = {"error": "States.Timeout", "cause": "not json"}
    assert demo.failed_to_start(failed) is None


def test_the_table_fits_eighty_columns() -> None:
    from rich.console import Console

    rows = [
        {
            "window": "2026-11-29 14:30:00.000",
            "execution_arn": f"arn:aws:states:us-east-1:1:execution:m:nightly-batch-demo-57c1e91a-20261129T14375{i}Z",
            "commands": command,
            "startTime": "2026-11-29 14:37:53.123",
            "endTime": "2026-11-29 14:37:58.456",
            "seconds": "5.333",
            "attempts": "1",
            "warnings": "0",
        }
        for i in range(2)
        for command in COMMANDS
    ]
    console = Console(width=80, record=True)
    console.print(demo.results_table(rows))
    text = console.export_text()
    assert "…" not in text  # nothing cut
    found = ROW.findall(text)
    assert len(found) == 6
    assert {row[0] for row in found} == {""}  # one window: in the title, not a column
    assert "window 14:30" in text
    assert "the name after nightly-batch-demo-57c1e91a-" in text
    rows[-1]["window"] = "2026-11-29 14:40:00.000"  # a run that starts in the next window
    console = Console(width=100, record=True)
    console.print(demo.results_table(rows))
    assert {row[0] for row in ROW.findall(console.export_text())} == {"14:30", "14:40"}


def test_the_example_is_what_the_demo_promises() -> None:
    from batchyard.deploy import load_project

    project = load_project(ROOT / "examples" / "nightly-batch" / "batchyard.yaml")
    assert sorted(project.task_definitions) == sorted(COMMANDS)
    (machine,) = project.state_machines.values()
    assert machine.log_level == "ALL" and machine.include_execution_data
    for name in COMMANDS:
        state = machine.definition["States"][name]
        assert state["Resource"] == "arn:aws:states:::ecs:runTask.sync"
        assert state["Retry"][0]["ErrorEquals"] == ["ECS.TaskFailedToStart"]
        assert state["Parameters"]["TaskDefinition"] == name
    tags = project.task_definitions["orders-import"]["tags"]
    assert {"key": "batchyard:inject-start-failures", "value": "1"} in tags
    (schedule,) = project.schedules.values()
    assert schedule.expression.startswith("cron(")


def test_the_readme_starts_with_the_demo() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.findall(r"```sh\n(.+?)\n```", text)[0]
    assert first == "pip install -e . && batchyard demo"


def test_overlapping_runs_read_one_run_at_a_time() -> None:
    """Rows come sorted by startTime; the table groups them by execution, in order of start."""
    from rich.console import Console

    def row(execution: str, command: str, start: str) -> dict[str, str]:
        return {
            "window": "2026-11-29 14:40:00.000",
            "execution_arn": f"arn:aws:states:us-east-1:1:execution:m:run-{execution}",
            "commands": command,
            "startTime": f"2026-11-29 14:45:{start}.000",
            "endTime": f"2026-11-29 14:45:{start}.500",
            "seconds": "0.5",
            "attempts": "1",
            "warnings": "0",
        }

    rows = [
        row("a", "orders-import", "11"),
        row("b", "orders-import", "21"),
        row("a", "invoices-build", "22"),
        row("b", "invoices-build", "25"),
    ]
    console = Console(width=80, record=True)
    console.print(demo.results_table(rows))
    printed = [(found[1], found[2]) for found in ROW.findall(console.export_text())]
    assert printed == [
        ("a", "orders-import"),
        ("a", "invoices-build"),
        ("b", "orders-import"),
        ("b", "invoices-build"),
    ]


def test_the_quick_start_shows_the_query_the_demo_runs() -> None:
    text = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n(.*?)\n```", text, re.S)
    assert demo.RUN_TIME_QUERY in blocks


@pytest.mark.timeout(120)
def test_a_port_taken_before_the_server_binds_it_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo probes for a free port, then the server binds it; another process may take
    it in between. The server then fails to start, and the demo tries another port."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy, demo._free_port()])
        monkeypatch.setattr(demo, "_free_port", lambda: next(ports))
        server = demo.DemoServer.start(tmp_path, ["--log-level", "warning"], {})
        try:
            assert server.url != f"http://127.0.0.1:{busy}"
            assert server.health() is not None
            assert "address already in use" in server.log_path.read_text()
        finally:
            server.stop()


def test_only_a_static_binary_is_put_alone_in_an_image(tmp_path: Path) -> None:
    """The Docker image is built from the host's busybox only when it needs no loader."""
    text = tmp_path / "script.sh"
    text.write_text("#!/bin/sh\n", encoding="utf-8")
    assert not demo._is_static(str(text))
    assert not demo._is_static(sys.executable)  # CPython is linked dynamically
    assert not demo._is_static(str(tmp_path / "missing"))
    static = Path("/bin/busybox")
    if (
        static.exists()
        and b"statically linked"
        in subprocess.run(["file", "-L", str(static)], capture_output=True, check=False).stdout
    ):
        assert demo._is_static(str(static))

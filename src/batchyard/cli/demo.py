"""``batchyard demo``: the README's main job — a team's nightly batch, moved off cron.

The demo is an AWS client like any other: it starts ``batchyard server`` as a subprocess (a
free port, its data in a temporary directory unless ``--data-dir``), deploys
``examples/nightly-batch/batchyard.yaml`` with ``batchyard deploy``'s own plan (log groups, an
ECS cluster, three task definitions, a state machine logging at level ALL, a cron schedule, all
through boto3), adds a ``rate(10 seconds)`` schedule -- the scheduler's test-only extension --
so that slots fire during the demo, follows the executions, and prints the result of the
run-time Logs Insights query over the execution events and the commands' output. Nothing here
reaches into the server's internals, so what the demo shows is what a client of the server
gets.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import boto3  # type: ignore[import-untyped]
import typer
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from batchyard import deploy as project_deploy

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "nightly-batch"
REGION = "us-east-1"
ACCOUNT = "123456789012"
INJECT_TAG = "batchyard:inject-start-failures"
DEMO_SCHEDULE = "nightly-batch-demo"
SLOT_SECONDS = 10

# The run-time query of the team's runbook, over two log groups at once: the execution events
# the engine writes at level ALL (JSON lines whose fields -- execution_arn, type, details.name,
# details.parameters -- Logs Insights discovers) and the commands' own output (Ruby Logger
# lines tagged with the execution, in streams named <command>/<container>/<task id>). One row
# per command of each execution: when it started and ended, how many times its task was
# scheduled (more than once when a start failure was retried) and how many warnings it logged.
# A command is its state's name on TaskStateEntered/Exited, the task definition that
# TaskScheduled's parameters name, and its log stream's prefix (the example names all alike).
RUN_TIME_QUERY = r"""fields @timestamp, type
| parse @message /-- : \[(?<taggedArn>arn:[^\]]+)\] /
| parse details.parameters '"TaskDefinition":"*"' as taskDefinition
| parse @logStream "*/" as streamCommand
| filter ispresent(taggedArn) or type in ["TaskStateEntered", "TaskScheduled", "TaskStateExited"]
| stats earliest(@timestamp) as startTime, latest(@timestamp) as endTime,
    sum(type = "TaskScheduled") as attempts, sum(@message like /^W, /) as warnings
    by coalesce(details.name, taskDefinition, streamCommand) as commands,
    coalesce(execution_arn, taggedArn) as execution_arn
| fields datefloor(startTime, 10m) as window, (endTime - startTime) / 1000 as seconds
| display window, execution_arn, commands, startTime, endTime, seconds, attempts, warnings
| sort startTime asc"""


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DemoServer:
    """A ``batchyard server`` subprocess on loopback, stopped with SIGTERM like any server."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    @classmethod
    def start(
        cls,
        data_dir: Path,
        extra_args: list[str],
        environment: dict[str, str],
        timeout_s: float = 30.0,
    ) -> DemoServer:
        data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            server = cls._launch(_free_port(), data_dir, extra_args, environment)
            try:
                server._wait_healthy(timeout_s)
                return server
            except DemoError:
                # The free port may be taken between our probe and the server's bind.
                if attempt == 2 or "address already in use" not in server._log_tail():
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _launch(
        cls, port: int, data_dir: Path, extra_args: list[str], environment: dict[str, str]
    ) -> DemoServer:
        log_path = data_dir / "server.log"
        command = [
            sys.executable, "-m", "batchyard.cli.main", "server",
            "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
            *extra_args,
        ]  # fmt: skip
        with log_path.open("ab") as log_file:
            # A session of its own: Ctrl-C in the demo's terminal stops the demo, which then
            # stops the server (or leaves it running with --keep).
            process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **environment},
            )
        return cls(f"http://127.0.0.1:{port}", process, data_dir, log_path)

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoError(
                    f"the server exited with status {self.process.returncode}; "
                    f"its log is {self.log_path}:\n{self._log_tail()}"
                )
            if self.health() is not None:
                return
            time.sleep(0.1)
        self.stop()
        raise DemoError(f"the server did not answer within {timeout_s:.0f} s; see {self.log_path}")

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                answer: dict[str, Any] = json.load(response)
                return answer
        except (OSError, ValueError):
            return None

    def services(self) -> set[str]:
        return set((self.health() or {}).get("services", []))

    def console_url(self) -> str | None:
        """The web console's address, when this server serves one (HTML under ``/``)."""
        try:
            with urllib.request.urlopen(f"{self.url}/", timeout=2) as response:
                kind = response.headers.get("content-type", "")
                return f"{self.url}/" if kind.startswith("text/html") else None
        except (OSError, urllib.error.HTTPError):
            return None

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- the clients


@dataclass
class Clients:
    """boto3 clients pointed at the server, signed with its loopback credentials."""

    url: str
    _made: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = boto3.session.Session().client(
                service,
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 2}, inject_host_prefix=False),
            )
        return self._made[service]


def _error_code(exc: ClientError) -> str:
    code: str = exc.response.get("Error", {}).get("Code", "")
    return code


# --------------------------------------------------------------------------- deploying


@dataclass
class Deployed:
    """What the demo created on the server, read from the project it deployed."""

    project: str
    execution_log_group: str
    task_log_groups: list[str]  # where the task definitions' awslogs go
    state_machine_arn: str
    task_definitions: list[str]
    injected: dict[str, str]  # family -> the inject-start-failures tag's value
    schedules: list[str]  # "name: expression timezone"
    plan: list[str]  # the deploy plan's lines


def load_project(project_file: Path) -> project_deploy.Project:
    """The project to deploy, checked before any server starts."""
    try:
        project = project_deploy.load_project(project_file)
    except project_deploy.ProjectError as exc:
        raise DemoError("\n".join(str(problem) for problem in exc.problems)) from exc
    if not project.state_machines:
        raise DemoError(f"{project_file} declares no state machine to run")
    return project


def deploy(clients: Clients, project: project_deploy.Project) -> Deployed:
    """``batchyard deploy`` of the project: the same plan and the same AWS calls."""
    try:
        changes = project_deploy.plan(project, clients.__getitem__)
        project_deploy.apply(changes)
    except project_deploy.ServiceMissing as exc:
        raise DemoError(str(exc)) from exc
    machine = next(iter(project.state_machines.values()))
    injected = {
        family: str(tag["value"])
        for family, request in project.task_definitions.items()
        for tag in request.get("tags", [])
        if tag["key"] == INJECT_TAG
    }
    return Deployed(
        project=project.name,
        execution_log_group=machine.log_group or "",
        task_log_groups=sorted(
            {
                str(container["logConfiguration"]["options"]["awslogs-group"])
                for request in project.task_definitions.values()
                for container in request["containerDefinitions"]
                if container.get("logConfiguration", {}).get("logDriver") == "awslogs"
            }
        ),
        state_machine_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine.name}",
        task_definitions=list(project.task_definitions),
        injected=injected,
        schedules=[f"{s.name}: {s.expression} {s.timezone}" for s in project.schedules.values()],
        plan=[change.line() for change in changes],
    )


def schedule_demo_slots(clients: Clients, deployed: Deployed, every_s: int) -> str:
    """A second schedule on the same state machine whose slots come every few seconds.

    ``rate(N seconds)`` is the scheduler's documented test-only extension, which the demo's
    server enables (``BATCHYARD_SCHEDULER_SECOND_RATES=1``); AWS's finest rate is a minute.
    """
    clients["scheduler"].create_schedule(
        Name=DEMO_SCHEDULE,
        GroupName=deployed.project,
        ScheduleExpression=f"rate({every_s} seconds)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": deployed.state_machine_arn,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/batchyard-demo",
            "Input": json.dumps({"batch": "nightly", "demo": True}),
        },
    )
    return f"rate({every_s} seconds)"


def delete_demo_schedule(clients: Clients, deployed: Deployed) -> None:
    try:
        clients["scheduler"].delete_schedule(Name=DEMO_SCHEDULE, GroupName=deployed.project)
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise


# --------------------------------------------------------------------------- following the runs


@dataclass
class Progressed:
    executions: dict[str, str]  # arn -> status
    # (execution ARN, stoppedReason) of each task that failed to start
    start_failures: list[tuple[str, str]]


_OPEN = {"RUNNING", "PENDING_REDRIVE"}


def failed_to_start(event: dict[str, Any]) -> str | None:
    """The stoppedReason of a TaskFailed whose cause is an ECS task stopped with
    ``TaskFailedToStart`` — what ``ErrorEquals: ["ECS.TaskFailedToStart"]`` retries (the
    error itself stays States.TaskFailed, as on AWS)."""
    if event["type"] != "TaskFailed":
        return None
    cause = event.get("taskFailedEventDetails", {}).get("cause", "")
    try:
        task = json.loads(cause)
    except ValueError:
        return None
    if not isinstance(task, dict) or task.get("StopCode") != "TaskFailedToStart":
        return None
    return str(task.get("StoppedReason", ""))


def poll(clients: Clients, state_machine: str, since: datetime) -> Progressed:
    """The state machine's executions started since ``since`` (a data directory used before
    keeps older runs), and the start failures their retries absorbed."""
    sfn = clients["stepfunctions"]
    executions = {
        item["executionArn"]: item["status"]
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine)
        for item in page["executions"]
        if item["startDate"] >= since
    }
    reasons = [
        (arn, reason)
        for arn in executions
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        for event in page["events"]
        if (reason := failed_to_start(event)) is not None
    ]
    return Progressed(executions, reasons)


# --------------------------------------------------------------------------- the query


def run_time_query(
    clients: Clients, groups: list[str], since: datetime, timeout_s: float = 30.0
) -> list[dict[str, str]]:
    """The run-time query's rows, as GetQueryResults gives them."""
    logs = clients["logs"]
    query_id = logs.start_query(
        logGroupNames=groups,
        startTime=int(since.timestamp()),  # this demo's runs, not a reused directory's
        endTime=int(time.time()) + 60,
        queryString=RUN_TIME_QUERY,
    )["queryId"]
    deadline = time.monotonic() + timeout_s
    while True:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] in {"Complete", "Failed", "Cancelled", "Timeout"}:
            break
        if time.monotonic() > deadline:
            raise DemoError(f"the run-time query did not complete within {timeout_s:.0f} s")
        time.sleep(0.2)
    if answer["status"] != "Complete":
        raise DemoError(f"the run-time query ended {answer['status']}")
    return [
        {cell["field"]: cell["value"] for cell in row if not cell["field"].startswith("@ptr")}
        for row in answer["results"]
    ]


def results_table(rows: list[dict[str, str]]) -> Table:
    """The query's rows, compact enough for an 80-column terminal: times without their date
    (it is in the title) or milliseconds (``seconds`` has them), execution names without the
    prefix they all share (it is in the caption), and the 10-minute window in the title when
    every row has the same one."""
    rows = _by_execution(rows)
    names = [row.get("execution_arn", "").rsplit(":", 1)[-1] for row in rows]
    prefix = _shared_prefix(names)
    windows = sorted({row.get("window", "")[:16] for row in rows})
    day = rows[0].get("startTime", "")[:10] if rows else ""
    title = f"Run times per command and execution, {day} (UTC)"
    if len(windows) == 1:
        title += f", window {windows[0][11:]}"
    table = Table(
        title=title,
        caption=f"execution: the name after {prefix}" if prefix else None,
        box=box.SIMPLE_HEAD,
        padding=(0, 0),
        pad_edge=False,
        show_edge=False,
    )
    columns = ["execution", "commands", "startTime", "endTime"]
    if len(windows) > 1:
        columns.insert(0, "window")
    for name in columns:
        table.add_column(name, no_wrap=True)
    for name in ("seconds", "attempts", "warnings"):
        table.add_column(name, justify="right", no_wrap=True)
    previous = None
    for row, name in zip(rows, names, strict=True):
        if previous is not None and name != previous:
            table.add_section()
        previous = name
        cells = {
            "window": row.get("window", "")[11:16],
            "execution": name[len(prefix) :],
            "commands": row.get("commands", ""),
            "startTime": row.get("startTime", "")[11:19],
            "endTime": row.get("endTime", "")[11:19],
        }
        table.add_row(
            *[cells[c] for c in columns],
            row.get("seconds", ""),
            row.get("attempts", ""),
            row.get("warnings", ""),
        )
    return table


def _by_execution(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows (sorted by startTime) grouped by execution, executions in order of their first
    row: the commands of one run read together even when runs overlap."""
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        first.setdefault(row.get("execution_arn", ""), index)
    return sorted(rows, key=lambda row: first[row.get("execution_arn", "")])


def _shared_prefix(names: list[str]) -> str:
    """The prefix all names share, up to its last '-' (nothing for a single name)."""
    if len(names) < 2:
        return ""
    first, last = min(names), max(names)  # the shared prefix of all is theirs
    size = next(
        (i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first)
    )
    return first[: first.rfind("-", 0, size) + 1]


# --------------------------------------------------------------------------- the runner


class RunnerChoice(StrEnum):
    AUTO = "auto"
    DOCKER = "docker"
    LOCAL = "local"


def docker_image(image: str = "busybox:latest") -> str | None:
    """How Docker has ``image``: "present", "built" from the host's static busybox (``docker
    import``, as the CI builds its images: no registry is ever asked), or None when no engine
    answers or no image can be had."""
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]

        client = docker.from_env(timeout=5)
        client.ping()
        client.images.get(image)
        return "present"
    except Exception as exc:
        if type(exc).__name__ != "ImageNotFound":
            return None
    busybox = shutil.which("busybox")
    if busybox is None or not _is_static(busybox):
        return None
    repository, tag = image.split(":")
    try:
        client.api.import_image_from_data(
            _busybox_rootfs(Path(busybox)), repository=repository, tag=tag
        )
        client.images.get(image)
    except Exception:
        return None
    return "built"


def _is_static(path: str) -> bool:
    """Whether an ELF executable needs no dynamic loader (no PT_INTERP program header), so
    that it runs alone in an otherwise empty image."""
    try:
        with open(path, "rb") as binary:
            header = binary.read(64)
            if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit ELF only
                return False
            order: Literal["little", "big"] = "little" if header[5] == 1 else "big"
            table = int.from_bytes(header[32:40], order)  # e_phoff
            size = int.from_bytes(header[54:56], order)  # e_phentsize
            count = int.from_bytes(header[56:58], order)  # e_phnum
            binary.seek(table)
            entries = binary.read(size * count)
    except OSError:
        return False
    kinds = {int.from_bytes(entries[i : i + 4], order) for i in range(0, len(entries), size)}
    return 3 not in kinds  # PT_INTERP


def _busybox_rootfs(busybox: Path) -> bytes:
    """A root filesystem with busybox as /bin/busybox and the applets the commands use."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("bin", "tmp"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(busybox), arcname="bin/busybox")
        for applet in ("sh", "date", "sleep", "printf", "echo", "cat"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "/bin/busybox"
            tar.addfile(info)
    return buffer.getvalue()


def choose_runner(requested: str) -> tuple[str, str]:
    """The runner for the demo's tasks, and why."""
    if requested == "local":
        return "local", "local processes (--runner local)"
    found = docker_image()
    if found is not None:
        origin = " (built from this host's busybox, no registry asked)" if found == "built" else ""
        return "docker", f"Docker containers of the image busybox:latest{origin}"
    if requested == "docker":
        raise DemoError(
            "--runner docker: no Docker engine answers, or it has no busybox image and the "
            "host has no static busybox to build one from"
        )
    return "local", "local processes (no Docker engine with a busybox image here)"


# --------------------------------------------------------------------------- the command


@contextmanager
def _data_directory(data_dir: Path | None, keep: bool) -> Iterator[Path]:
    if data_dir is not None:
        yield data_dir
        return
    path = Path(tempfile.mkdtemp(prefix="batchyard-demo-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="The server's data directory (default: a temporary one, removed)."),
    ] = None,
    slots: Annotated[
        int, typer.Option(min=1, max=6, help="How many schedule slots to let fire.")
    ] = 3,
    runner: Annotated[
        RunnerChoice,
        typer.Option(
            help="Where the tasks run: docker, local (processes) or auto (Docker when an "
            "engine answers)."
        ),
    ] = RunnerChoice.AUTO,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Leave the server running at the end (its URL is printed)."),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 110.0,
    example: Annotated[
        Path | None,
        typer.Option(
            help="The project file to deploy (default: examples/nightly-batch/batchyard.yaml "
            "of this checkout).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run the nightly batch example on a server of its own and print its run times.

    Starts `batchyard server` on a free loopback port, deploys the example project through
    the AWS APIs (three container tasks, a state machine that retries start failures,
    execution logging at level ALL, a cron schedule), lets several schedule slots fire (a
    rate(10 seconds) schedule: the scheduler's test-only extension), waits for the
    executions and prints the result of the run-time Logs Insights query. The server stops
    at the end unless --keep. Exit code 0 when every execution succeeded, 1 when one failed
    or the demo could not run, 2 on bad usage.
    """
    console = Console(highlight=False)
    began = datetime.now(UTC)
    try:
        project = load_project(example or EXAMPLE / "batchyard.yaml")
        kind, how = choose_runner(runner.value)
        with _data_directory(data_dir, keep) as directory, _stopped_by_signals():
            run = _Run(console, directory, slots, keep, time.monotonic() + timeout, began)
            run.main(project, kind, how)
    except (DemoError, ClientError, BotoCoreError) as exc:
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {escape(_explain(exc))}")
        raise typer.Exit(1) from exc


def _explain(exc: Exception) -> str:
    """One line for a person: the server's error code and message, or what went wrong."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (
            f"the server refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
        )
    return str(exc)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the demo as Ctrl-C does: by an exception, so that the server
    (in a session of its own, which no terminal signal reaches) is stopped on the way out."""

    def leave(signum: int, _: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, leave) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class _Run:
    console: Console
    directory: Path
    slots: int
    keep: bool
    deadline: float
    began: datetime
    outcome: Progressed = field(default_factory=lambda: Progressed({}, []))

    def say(self, label: str, text: str) -> None:
        self.console.print(f"  [bold]{label:<9}[/bold] {escape(text)}")

    def main(self, project: project_deploy.Project, runner: str, how: str) -> None:
        self.console.print(
            "[bold]batchyard demo[/bold]: a nightly batch of three rake commands, moved off cron"
        )
        # The scheduler's test-only rate(N seconds), so that slots come during the demo.
        environment = {"BATCHYARD_SCHEDULER_SECOND_RATES": "1"}
        arguments = ["--log-level", "warning", "--runner", runner]
        with self.console.status("starting batchyard server"):
            server = DemoServer.start(self.directory, arguments, environment)
        succeeded = False
        try:
            self.say("server", f"{server.url} (pid {server.process.pid}, data in {self.directory})")
            self.say("tasks", f"run as {how}")
            succeeded = self._demo(server, project)
        except DemoError as exc:
            # The data directory (and the log in it) may be removed on the way out.
            tail = server._log_tail(10)
            raise DemoError(
                f"{exc}\nthe server's log ends with:\n{tail}" if tail else str(exc)
            ) from exc
        finally:
            if self.keep:
                self.console.print(
                    f"The server keeps running at {server.url}; stop it with: "
                    f"kill {server.process.pid}"
                )
            else:
                with self.console.status("stopping the server"):
                    server.stop()
                self.console.print("Server stopped (--keep leaves it running).")
        if not succeeded:
            raise typer.Exit(1)

    def _demo(self, server: DemoServer, project: project_deploy.Project) -> bool:
        clients = Clients(server.url)
        missing = {"logs", "stepfunctions", "ecs", "scheduler"} - server.services()
        if missing:
            raise DemoError(
                "this server does not serve " + ", ".join(sorted(missing)) + "; the demo "
                "needs CloudWatch Logs, Step Functions, ECS and EventBridge Scheduler"
            )
        with self.console.status(f"deploying {project.name} (batchyard deploy)"):
            deployed = deploy(clients, project)
        self.say("deployed", "the plan of batchyard deploy, applied through the AWS APIs:")
        for line in deployed.plan:
            self.console.print(f"              {escape(line)}")
        for family, value in deployed.injected.items():
            self.say(
                "injected",
                f"{INJECT_TAG}={value} on {family}: "
                + ("its first launch fails" if value == "1" else f"its first {value} launches fail")
                + " to start (stopCode TaskFailedToStart), and the Retry on "
                "ECS.TaskFailedToStart runs the task again",
            )
        for schedule in deployed.schedules:
            self.say("schedule", f"{schedule} (the nightly slot, as the example declares it)")
        rate = schedule_demo_slots(clients, deployed, SLOT_SECONDS)
        self.say(
            "slots",
            f"{DEMO_SCHEDULE}: {rate} on the same state machine — batchyard's test-only "
            f"seconds rate (AWS's finest is a minute), deleted after {self.slots} slots",
        )
        try:
            succeeded = self._wait(clients, deployed)
        finally:  # a kept server must not go on firing the demo's slots
            delete_demo_schedule(clients, deployed)
        groups = [deployed.execution_log_group, *deployed.task_log_groups]
        rows = run_time_query(clients, groups, self.began)
        self.console.print(results_table(rows))
        statuses = sorted(set(self.outcome.executions.values()))
        self.console.print(
            f"{len(self.outcome.executions)} execution"
            f"{'' if len(self.outcome.executions) == 1 else 's'} ({', '.join(statuses)}); "
            f"start failures retried: {len(self.outcome.start_failures)}"
        )
        for reason in sorted({reason for _, reason in self.outcome.start_failures}):
            self.console.print(f"  TaskFailedToStart: {escape(reason)}")
        self.console.print(f"[dim]The query (Logs Insights, on {escape(', '.join(groups))}):[/dim]")
        self.console.print(RUN_TIME_QUERY, markup=False)
        self._console_links(server, deployed)
        return succeeded

    def _console_links(self, server: DemoServer, deployed: Deployed) -> None:
        home = server.console_url()
        if home is None:
            self.console.print("Console: not served by this server")
            return
        if not self.keep:
            self.console.print(f"Console: {home} (the server stops now; --keep leaves it up)")
            return
        self.console.print(f"Console: {home}")
        machine = urllib.parse.quote(deployed.state_machine_arn, safe="")
        links = [
            ("executions", f"ui/executions?stateMachineArn={machine}"),
            ("run durations", f"ui/durations?stateMachineArn={machine}"),
        ]
        retried = [arn for arn, _ in self.outcome.start_failures]
        if retried:
            arn = urllib.parse.quote(retried[0], safe="")
            links.append(("the retried run", f"ui/execution?arn={arn}"))
        for label, path in links:
            self.console.print(f"  {label:<16}{home}{path}", soft_wrap=True)

    def _wait(self, clients: Clients, deployed: Deployed) -> bool:
        """Follow the executions until every slot's execution ended; True if all succeeded."""
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        scheduling = True
        with Progress(*columns, console=self.console) as progress:
            fired = progress.add_task("slots fired", total=self.slots)
            ended = progress.add_task("executions ended", total=self.slots)
            while True:
                state = poll(clients, deployed.state_machine_arn, self.began)
                if scheduling and len(state.executions) >= self.slots:
                    delete_demo_schedule(clients, deployed)
                    scheduling = False
                    state = poll(clients, deployed.state_machine_arn, self.began)
                expected = max(self.slots, len(state.executions))
                done = [s for s in state.executions.values() if s not in _OPEN]
                progress.update(fired, completed=len(state.executions), total=expected)
                progress.update(
                    ended,
                    completed=len(done),
                    total=expected,
                    description=f"executions ended (start failures retried: "
                    f"{len(state.start_failures)})",
                )
                if not scheduling and len(done) == len(state.executions):
                    self.outcome = state
                    return all(status == "SUCCEEDED" for status in done)
                if time.monotonic() > self.deadline:
                    raise DemoError(
                        f"{len(done)} of {expected} executions ended in time "
                        f"({len(state.executions)} started)"
                    )
                time.sleep(0.5)

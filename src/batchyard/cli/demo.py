"""``batchyard demo``: the README's main job — a team's nightly batch, moved off cron.

The demo is an AWS client like any other: it starts ``batchyard server`` as a subprocess (a
free port, its data in a temporary directory unless ``--data-dir``), deploys
``examples/nightly-batch`` through boto3 with the same calls a team makes against AWS (log
groups, an ECS cluster, three task definitions, a state machine with execution logging at
level ALL, an EventBridge schedule), lets several schedule slots fire, waits for their
executions, and prints the result of the run-time Logs Insights query on the execution log
group. Nothing here reaches into the server's internals, so what the demo shows is what a
client of the server gets.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import boto3  # type: ignore[import-untyped]
import typer
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "nightly-batch"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# Every minute: the example's nightly cron would not fire during a two-minute demo.
DEMO_CRON = "cron(* * * * ? *)"

# The run-time query of the team's runbook, over the events the engine writes at level ALL:
# one row per command of each execution, when it started and ended, and how many times its
# task was scheduled (more than once when a start failure was retried).
RUN_TIME_QUERY = """fields @timestamp, @message
| parse @message '"execution_arn":"*"' as execution_arn
| parse details.parameters '"TaskDefinition":"*"' as taskDefinition
| filter type in ["TaskStateEntered", "TaskScheduled", "TaskStateExited"]
| stats earliest(@timestamp) as startTime, latest(@timestamp) as endTime,
    sum(type = "TaskScheduled") as attempts
    by coalesce(details.name, taskDefinition) as commands, execution_arn
| fields datefloor(startTime, 10m) as window, (endTime - startTime) / 1000 as seconds
| display window, execution_arn, commands, startTime, endTime, seconds, attempts
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
    def start(cls, data_dir: Path, extra_args: list[str], timeout_s: float = 30.0) -> DemoServer:
        port = _free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
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
                command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(f"http://127.0.0.1:{port}", process, data_dir, log_path)
        server._wait_healthy(timeout_s)
        return server

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
    """What the demo created on the server."""

    execution_log_group: str
    state_machine_arn: str
    task_definitions: list[str]
    injected: dict[str, str]  # family -> the inject-start-failures tag's value
    schedule: str | None = None


def load_example(example: Path) -> dict[str, Any]:
    """The example's definition set, its command and definition files read in."""
    path = example / "nightly-batch.json"
    try:
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for definition in spec["taskDefinitions"]:
            script = (example / definition.pop("commandFile")).read_text(encoding="utf-8")
            definition["containerDefinitions"][0]["command"] = ["sh", "-c", script]
        machine = spec["stateMachine"]
        machine["definition"] = (example / machine.pop("definitionFile")).read_text("utf-8")
    except (OSError, ValueError, KeyError) as exc:
        raise DemoError(f"cannot read the example in {example}: {exc}") from exc
    return spec


def deploy(clients: Clients, spec: dict[str, Any]) -> Deployed:
    """Create (or update) everything the example declares, through the AWS APIs."""
    logs, ecs, sfn = clients["logs"], clients["ecs"], clients["stepfunctions"]
    for group in spec["logGroups"]:
        try:
            logs.create_log_group(logGroupName=group)
        except ClientError as exc:
            if _error_code(exc) != "ResourceAlreadyExistsException":
                raise
    ecs.create_cluster(clusterName=spec["cluster"])
    families, injected = [], {}
    for definition in spec["taskDefinitions"]:
        answer = ecs.register_task_definition(**definition)
        families.append(answer["taskDefinition"]["family"])
        for tag in definition.get("tags", []):
            if tag["key"] == "batchyard:inject-start-failures":
                injected[definition["family"]] = tag["value"]
    machine = spec["stateMachine"]
    try:
        arn = sfn.create_state_machine(**machine)["stateMachineArn"]
    except ClientError as exc:
        if _error_code(exc) != "StateMachineAlreadyExists":
            raise
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine['name']}"
        sfn.update_state_machine(
            stateMachineArn=arn,
            definition=machine["definition"],
            loggingConfiguration=machine["loggingConfiguration"],
        )
    group_arn = machine["loggingConfiguration"]["destinations"][0]["cloudWatchLogsLogGroup"]
    group = group_arn["logGroupArn"].split(":log-group:", 1)[1].removesuffix(":*")
    return Deployed(group, arn, families, injected)


def schedule_every_minute(clients: Clients, spec: dict[str, Any], state_machine: str) -> str:
    """The example's schedule with the demo's cron: the nightly slot would not come soon."""
    schedule = dict(spec["schedule"], ScheduleExpression=DEMO_CRON)
    schedule["Target"] = dict(schedule["Target"], Arn=state_machine)
    scheduler = clients["scheduler"]
    try:
        scheduler.create_schedule(**schedule)
    except ClientError as exc:
        if _error_code(exc) != "ConflictException":
            raise
        scheduler.update_schedule(**schedule)
    return str(schedule["Name"])


# --------------------------------------------------------------------------- slots


def start_slots_directly(clients: Clients, state_machine: str, slots: int) -> list[str]:
    """One execution per slot, started by the demo (when the server runs no scheduler)."""
    sfn = clients["stepfunctions"]
    arns = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for slot in range(slots):
        answer = sfn.start_execution(
            stateMachineArn=state_machine,
            name=f"demo-{stamp}-slot-{slot + 1}",
            input=json.dumps({"batch": "nightly", "slot": slot + 1}),
        )
        arns.append(answer["executionArn"])
    return arns


@dataclass
class Progressed:
    executions: dict[str, str]  # arn -> status
    start_failures: int


_OPEN = {"RUNNING", "PENDING_REDRIVE"}


def _failed_to_start(event: dict[str, Any]) -> bool:
    """A TaskFailed whose cause is an ECS task stopped with ``TaskFailedToStart`` (the failure
    ``ErrorEquals: ["ECS.TaskFailedToStart"]`` retries; its error stays States.TaskFailed)."""
    if event["type"] != "TaskFailed":
        return False
    cause = event.get("taskFailedEventDetails", {}).get("cause", "")
    try:
        task = json.loads(cause)
    except ValueError:
        return False
    return isinstance(task, dict) and task.get("StopCode") == "TaskFailedToStart"


def poll(clients: Clients, state_machine: str) -> Progressed:
    """Every execution of the state machine, and the start failures its retries absorbed."""
    sfn = clients["stepfunctions"]
    executions = {
        item["executionArn"]: item["status"]
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine)
        for item in page["executions"]
    }
    failures = 0
    for arn in executions:
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            failures += sum(1 for event in page["events"] if _failed_to_start(event))
    return Progressed(executions, failures)


# --------------------------------------------------------------------------- the query


def run_time_query(
    clients: Clients, group: str, since: datetime, timeout_s: float = 30.0
) -> list[dict[str, str]]:
    """The run-time query's rows, as GetQueryResults gives them."""
    logs = clients["logs"]
    query_id = logs.start_query(
        logGroupNames=[group],
        startTime=int(since.timestamp()) - 60,
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
    table = Table(title="Run times per command and execution (Logs Insights)", expand=False)
    columns = ["window", "execution", "commands", "startTime", "endTime", "seconds", "attempts"]
    for column in columns:
        table.add_column(column, justify="right" if column in {"seconds", "attempts"} else "left")
    for row in rows:
        execution = row.get("execution_arn", "").rsplit(":", 1)[-1]
        table.add_row(*[execution if c == "execution" else row.get(c, "") for c in columns])
    return table


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
        int, typer.Option(min=1, max=5, help="How many schedule slots to let fire.")
    ] = 3,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Leave the server running at the end (its URL is printed)."),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 110.0,
    example: Annotated[
        Path | None,
        typer.Option(
            help="The example to deploy (default: examples/nightly-batch of this checkout).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Run the nightly batch example on a server of its own and print its run times.

    Starts `batchyard server` on a free loopback port, deploys the example through the AWS
    APIs (three container tasks, a state machine that retries start failures, execution
    logging at level ALL, a cron schedule), lets several slots fire, waits for the
    executions and prints the result of the run-time Logs Insights query. The server stops
    at the end unless --keep. Exit code 0 when every execution succeeded.
    """
    console = Console(highlight=False)
    began = datetime.now(UTC)
    try:
        spec = load_example(example or EXAMPLE)
        with _data_directory(data_dir, keep) as directory:
            _run(console, spec, directory, slots, keep, timeout, began)
    except DemoError as exc:
        Console(stderr=True, highlight=False).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _run(
    console: Console,
    spec: dict[str, Any],
    directory: Path,
    slots: int,
    keep: bool,
    timeout: float,
    began: datetime,
) -> None:
    deadline = time.monotonic() + timeout
    console.print("[bold]batchyard demo[/bold]: the nightly batch of examples/nightly-batch")
    with console.status("starting batchyard server"):
        server = DemoServer.start(directory, ["--log-level", "warning"])
    succeeded = False
    try:
        console.print(f"  server    {server.url} (pid {server.process.pid}, data in {directory})")
        clients = Clients(server.url)
        missing = {"logs", "stepfunctions", "ecs"} - server.services()
        if missing:
            raise DemoError(
                "this server does not serve " + ", ".join(sorted(missing)) + " yet; "
                "the demo needs CloudWatch Logs, Step Functions and ECS"
            )
        with console.status("deploying examples/nightly-batch through the AWS APIs"):
            deployed = deploy(clients, spec)
        console.print(
            f"  deployed  {len(deployed.task_definitions)} task definitions "
            f"({', '.join(deployed.task_definitions)}), state machine "
            f"{deployed.state_machine_arn.rsplit(':', 1)[-1]} logging ALL to "
            f"{deployed.execution_log_group}"
        )
        for family, value in deployed.injected.items():
            console.print(
                f"  injected  batchyard:inject-start-failures={value} on {family}: its task "
                "fails to start first, and the state machine's Retry on ECS.TaskFailedToStart "
                "runs it again"
            )
        if "scheduler" in server.services():
            name = schedule_every_minute(clients, spec, deployed.state_machine_arn)
            console.print(
                f"  schedule  {name}: the example's {spec['schedule']['ScheduleExpression']} "
                f"replaced by {DEMO_CRON} so that slots fire during the demo"
            )
        else:
            start_slots_directly(clients, deployed.state_machine_arn, slots)
            console.print(
                f"  slots     this server runs no scheduler yet: the demo started {slots} "
                "executions itself, one per slot"
            )
        succeeded = _wait(console, clients, deployed, slots, deadline)
        rows = run_time_query(clients, deployed.execution_log_group, began)
        console.print(results_table(rows))
        console.print("[dim]query:[/dim]\n" + RUN_TIME_QUERY, markup=False)
        console_url = server.console_url()
        console.print(
            f"Console: {console_url}" if console_url else "Console: not served by this server yet"
        )
    finally:
        if keep:
            console.print(
                f"The server keeps running at {server.url} (pid {server.process.pid}); "
                f"stop it with: kill {server.process.pid}"
            )
        else:
            with console.status("stopping the server"):
                server.stop()
            console.print("Server stopped (--keep leaves it running).")
    if not succeeded:
        raise typer.Exit(1)


def _wait(
    console: Console, clients: Clients, deployed: Deployed, slots: int, deadline: float
) -> bool:
    """Follow the executions until ``slots`` of them have ended; True when all succeeded."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        started = progress.add_task("slots fired", total=slots)
        ended = progress.add_task("executions ended", total=slots)
        while True:
            state = poll(clients, deployed.state_machine_arn)
            done = [s for s in state.executions.values() if s not in _OPEN]
            progress.update(started, completed=min(len(state.executions), slots))
            progress.update(
                ended,
                completed=min(len(done), slots),
                description=f"executions ended ({state.start_failures} start failures retried)",
            )
            if len(done) >= slots:
                return all(s == "SUCCEEDED" for s in done)
            if time.monotonic() > deadline:
                raise DemoError(
                    f"only {len(done)} of {slots} executions ended in time "
                    f"({len(state.executions)} started)"
                )
            time.sleep(0.5)


__all__ = ["RUN_TIME_QUERY", "DemoServer", "demo", "deploy", "load_example"]

"""``batchyard tasks``: ECS task runs and their logs.

``list`` is ``ListTasks`` + ``DescribeTasks`` per cluster. ``logs`` finds the task's
containers, reads their ``awslogs`` options from the task definition, and prints the log
stream ECS names ``<awslogs-stream-prefix>/<container>/<task id>`` -- the same place a
Fargate task's logs go -- following it with ``--follow`` until the task stops.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from batchyard.cli.client import CliFailure, Endpoint, EndpointOption, api_errors
from batchyard.cli.output import OutputFormat, emit_rows, format_time

app = typer.Typer(
    name="tasks",
    help="ECS task runs: list them, read their logs.",
    no_args_is_help=True,
)

STATUS_COLOURS = {
    "RUNNING": "blue",
    "STOPPED": "dim",
    "PENDING": "yellow",
    "PROVISIONING": "yellow",
}


class DesiredStatus(StrEnum):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


def _clusters(ecs: Any, cluster: str | None) -> list[str]:
    if cluster is not None:
        return [cluster]
    return [
        arn
        for page in ecs.get_paginator("list_clusters").paginate()
        for arn in page.get("clusterArns", [])
    ]


def _tasks(ecs: Any, cluster: str, status: str) -> list[dict[str, Any]]:
    arns = [
        arn
        for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, desiredStatus=status)
        for arn in page.get("taskArns", [])
    ]
    found: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):  # DescribeTasks takes at most 100
        found.extend(ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"])
    return found


@app.command("list")
def list_tasks(
    cluster: Annotated[str | None, typer.Option(help="Only this cluster (default: all).")] = None,
    status: Annotated[
        list[DesiredStatus] | None,
        typer.Option(help="RUNNING or STOPPED (repeatable; default both)."),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """List ECS tasks, newest first, with their status, stop code and exit code."""
    endpoint = Endpoint.from_option(endpoint_url)
    statuses = [s.value for s in status] if status else ["RUNNING", "STOPPED"]
    tasks: list[dict[str, Any]] = []
    with api_errors(endpoint):
        ecs = endpoint.client("ecs")
        for name in _clusters(ecs, cluster):
            for wanted in statuses:
                tasks.extend(_tasks(ecs, name, wanted))
    tasks.sort(key=lambda t: t.get("createdAt") or datetime.min.replace(tzinfo=UTC), reverse=True)
    rows = [
        {
            "task": task["taskArn"].rsplit("/", 1)[-1],
            "cluster": task.get("clusterArn", "").rsplit("/", 1)[-1],
            "definition": task.get("taskDefinitionArn", "").rsplit("/", 1)[-1],
            "status": task.get("lastStatus", ""),
            "stop code": task.get("stopCode", ""),
            "exit": _exit_codes(task),
            "started": format_time(task.get("startedAt") or task.get("createdAt")),
            "stopped": format_time(task.get("stoppedAt")),
            "reason": task.get("stoppedReason", ""),
            "arn": task["taskArn"],
        }
        for task in tasks
    ]
    columns = None
    if output is OutputFormat.TABLE:
        columns = [
            "task",
            "cluster",
            "definition",
            "status",
            "stop code",
            "exit",
            "started",
            "reason",
        ]
    colour = {
        "status": lambda s: (
            f"[{STATUS_COLOURS[s]}]{s}[/{STATUS_COLOURS[s]}]" if s in STATUS_COLOURS else s
        )
    }
    emit_rows(rows, output, title="Tasks", columns=columns, colour=colour)


@app.command()
def logs(
    task: Annotated[str, typer.Argument(help="The task's id or ARN.", show_default=False)],
    cluster: Annotated[
        str | None, typer.Option(help="The task's cluster (default: search all).")
    ] = None,
    container: Annotated[str | None, typer.Option(help="Only this container's log.")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the task stops.")
    ] = False,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Print a task's container logs (its awslogs log streams)."""
    endpoint = Endpoint.from_option(endpoint_url)
    console = Console(highlight=False, soft_wrap=True)
    try:
        with api_errors(endpoint):
            ecs = endpoint.client("ecs")
            cloudwatch = endpoint.client("logs")
            found, cluster_name = _find_task(ecs, task, cluster)
            streams = _streams(ecs, found, container)
            if not streams:
                raise CliFailure(f"task {task} has no container logging with awslogs")
            tokens: dict[tuple[str, str], str | None] = {stream: None for stream in streams}
            while True:
                for stream in streams:
                    tokens[stream] = _print_new(
                        console, cloudwatch, stream, tokens[stream], len(streams) > 1
                    )
                if not follow or found.get("lastStatus") == "STOPPED":
                    return
                time.sleep(1.0)
                found = ecs.describe_tasks(cluster=cluster_name, tasks=[found["taskArn"]])["tasks"][
                    0
                ]
    except KeyboardInterrupt:
        return


def _find_task(ecs: Any, task: str, cluster: str | None) -> tuple[dict[str, Any], str]:
    for name in _clusters(ecs, cluster):
        answer = ecs.describe_tasks(cluster=name, tasks=[task])
        if answer.get("tasks"):
            return answer["tasks"][0], name
    raise CliFailure(
        f"no task {task}" + (f" in cluster {cluster}" if cluster else " in any cluster")
    )


def _streams(ecs: Any, task: dict[str, Any], only: str | None) -> list[tuple[str, str]]:
    """(log group, stream) of each container of the task that logs with awslogs."""
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])[
        "taskDefinition"
    ]
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    streams: list[tuple[str, str]] = []
    for container in definition.get("containerDefinitions", []):
        if only is not None and container["name"] != only:
            continue
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or "awslogs-group" not in options:
            continue
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{container['name']}/{task_id}" if prefix else task_id
        streams.append((options["awslogs-group"], stream))
    return streams


def _print_new(
    console: Console, logs: Any, stream: tuple[str, str], token: str | None, label: bool
) -> str | None:
    """Print the stream's events after ``token``; the token to continue from."""
    group, name = stream
    while True:
        params: dict[str, Any] = {
            "logGroupName": group,
            "logStreamName": name,
            "startFromHead": True,
        }
        if token is not None:
            params["nextToken"] = token
        try:
            answer = logs.get_log_events(**params)
        except Exception as exc:  # a stream not created yet: nothing to show so far
            if (
                getattr(exc, "response", {}).get("Error", {}).get("Code")
                == "ResourceNotFoundException"
            ):
                return token
            raise
        for event in answer.get("events", []):
            stamp = format_time(datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC))
            prefix = (
                f"[cyan]{escape(name.split('/')[-2] if '/' in name else name)}[/cyan] "
                if label
                else ""
            )
            console.print(f"[dim]{stamp}[/dim] {prefix}{escape(str(event['message']).rstrip())}")
        following = answer.get("nextForwardToken")
        if not answer.get("events") or following is None or following == token:
            return following or token
        token = following


def _exit_codes(task: dict[str, Any]) -> str:
    codes = [
        str(c["exitCode"]) for c in task.get("containers", []) if c.get("exitCode") is not None
    ]
    return ",".join(codes)

"""``batchyard executions``: list, describe, history and graph of Step Functions executions.

Everything goes through the Step Functions API (``ListExecutions``, ``DescribeExecution``,
``GetExecutionHistory``, ``DescribeStateMachineForExecution``), so these commands work against
any batchyard server -- and, with ``--endpoint-url``, against anything that speaks the API.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from batchyard.cli.client import CliFailure, Endpoint, EndpointOption, api_errors
from batchyard.cli.graph import execution_tree
from batchyard.cli.output import OutputFormat, emit_rows, format_time

app = typer.Typer(
    name="executions",
    help="Step Functions executions: list, describe, history, graph.",
    no_args_is_help=True,
)

STATUS_COLOURS = {
    "RUNNING": "blue",
    "SUCCEEDED": "green",
    "FAILED": "red",
    "TIMED_OUT": "red",
    "ABORTED": "yellow",
    "PENDING_REDRIVE": "magenta",
}


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


def coloured(status: str) -> str:
    colour = STATUS_COLOURS.get(status)
    return f"[{colour}]{status}[/{colour}]" if colour else status


def resolve_state_machine(sfn: Any, name_or_arn: str) -> str:
    """The ARN of a state machine given by ARN or by name (NotFound as a CLI failure)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name_or_arn:
                return str(machine["stateMachineArn"])
    raise CliFailure(f"StateMachineDoesNotExist: no state machine named {name_or_arn!r}")


@app.command("list")
def list_executions(
    state_machine: Annotated[
        str | None,
        typer.Option(help="Only this state machine's executions (name or ARN)."),
    ] = None,
    status: Annotated[
        ExecutionStatus | None, typer.Option(help="Only executions with this status.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many executions.", min=1)] = 50,
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """List executions, newest first: of one state machine, or of all of them."""
    endpoint = Endpoint.from_option(endpoint_url)
    with api_errors(endpoint):
        sfn = endpoint.client("stepfunctions")
        if state_machine is not None:
            machines = [resolve_state_machine(sfn, state_machine)]
        else:
            machines = [
                m["stateMachineArn"]
                for page in sfn.get_paginator("list_state_machines").paginate()
                for m in page["stateMachines"]
            ]
        executions: list[dict[str, Any]] = []
        for arn in machines:
            params: dict[str, Any] = {"stateMachineArn": arn}
            if status is not None:
                params["statusFilter"] = status.value
            for page in sfn.get_paginator("list_executions").paginate(
                **params, PaginationConfig={"MaxItems": limit}
            ):
                executions.extend(page["executions"])
    executions.sort(key=lambda e: e["startDate"], reverse=True)
    rows = [
        {
            "name": e["name"],
            "state machine": e["stateMachineArn"].rsplit(":", 1)[-1],
            "status": e["status"],
            "started": format_time(e["startDate"]),
            "stopped": format_time(e.get("stopDate")),
            "duration": _duration(e["startDate"], e.get("stopDate")),
            "arn": e["executionArn"],
        }
        for e in executions[:limit]
    ]
    # The table leaves the ARN out to stay readable; json and csv carry it.
    emit_rows(
        rows,
        output,
        title="Executions",
        columns=None
        if output is not OutputFormat.TABLE
        else ["name", "state machine", "status", "started", "duration"],
        colour={"status": coloured},
    )


@app.command()
def describe(
    execution_arn: Annotated[str, typer.Argument(help="The execution's ARN.", show_default=False)],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table or json.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Show one execution: status, times, input, output, error and cause."""
    endpoint = Endpoint.from_option(endpoint_url)
    with api_errors(endpoint):
        described = endpoint.client("stepfunctions").describe_execution(executionArn=execution_arn)
    described.pop("ResponseMetadata", None)
    console = Console()
    if output is not OutputFormat.TABLE:
        console.print_json(json.dumps(described, default=str))
        return
    table = Table(show_header=False, title=described["name"])
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in described.items():
        if key == "status":
            text = coloured(str(value))
        elif isinstance(value, datetime):
            text = format_time(value)
        else:
            text = str(value)
        table.add_row(key, text)
    if "stopDate" in described:
        table.add_row("duration", _duration(described["startDate"], described["stopDate"]))
    console.print(table)


@app.command()
def history(
    execution_arn: Annotated[str, typer.Argument(help="The execution's ARN.", show_default=False)],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Show an execution's event history, oldest event first."""
    endpoint = Endpoint.from_option(endpoint_url)
    with api_errors(endpoint):
        events = _events(endpoint.client("stepfunctions"), execution_arn)
    if output is OutputFormat.JSON:
        Console().print_json(json.dumps(events, default=str))
        return
    started = events[0]["timestamp"] if events else None
    rows = []
    for event in events:
        details = _details_of(event)
        elapsed = (event["timestamp"] - started).total_seconds() if started else 0.0
        rows.append(
            {
                "id": str(event["id"]),
                "+time": f"{elapsed:.3f}s",
                "type": event["type"],
                "step": str(details.get("name", "")),
                "details": _summarise(details),
            }
        )
    emit_rows(rows, output, title="Execution history")


@app.command()
def graph(
    execution_arn: Annotated[str, typer.Argument(help="The execution's ARN.", show_default=False)],
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Draw the execution's state machine as a tree, each state with its status.

    A state is SUCCEEDED once exited, CAUGHT ERROR when it failed and a Catch moved on, FAILED
    or RUNNING while it has not exited, and NOT RUN when the execution never entered it.
    """
    endpoint = Endpoint.from_option(endpoint_url)
    with api_errors(endpoint):
        sfn = endpoint.client("stepfunctions")
        machine = sfn.describe_state_machine_for_execution(executionArn=execution_arn)
        execution = sfn.describe_execution(executionArn=execution_arn)
        events = _events(sfn, execution_arn)
    definition = json.loads(machine["definition"])
    Console().print(execution_tree(definition, events, execution["status"], execution["name"]))


def _events(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    return [
        event
        for page in sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn, includeExecutionData=True
        )
        for event in page["events"]
    ]


def _duration(start: datetime, stop: datetime | None) -> str:
    if stop is None:
        return ""
    return f"{(stop - start).total_seconds():.3f}s"


def _details_of(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _summarise(details: dict[str, Any]) -> str:
    parts = [
        f"{key}={details[key]}"
        for key in ("error", "cause", "resource", "output", "input")
        if key in details
    ]
    text = "  ".join(parts)
    return text if len(text) <= 160 else text[:157] + "..."

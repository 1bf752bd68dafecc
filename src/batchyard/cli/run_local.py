"""``batchyard run-local``: run one state machine in process and show what happened."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from batchyard import asl

_DETAIL_FIELDS = ("name", "error", "cause", "resource", "output", "input")


class OutputFormat(StrEnum):
    """How ``run-local`` prints the result."""

    TABLE = "table"
    JSON = "json"


def run_local(
    definition: Annotated[
        Path, typer.Argument(help="A state machine definition (.asl.json).", show_default=False)
    ],
    input: Annotated[
        str, typer.Option("--input", "-i", help="The execution input, as JSON text.")
    ] = "{}",
    name: Annotated[str | None, typer.Option(help="The execution name.")] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--output", "-o", help="A history table, or the whole result as JSON."),
    ] = OutputFormat.TABLE,
) -> None:
    """Run a state machine in process and print its output and event history.

    Time is virtual: Wait states and retry intervals pass instantly. The exit code is 0 when
    the execution succeeded, 1 when it failed, and 2 when the definition or input is invalid.
    """
    console = Console()
    err = Console(stderr=True)
    try:
        document = json.loads(definition.read_text(encoding="utf-8"))
    except OSError as exc:
        err.print(f"[red]cannot read {definition}: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        err.print(f"[red]{definition}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}[/red]")
        raise typer.Exit(2) from None
    try:
        execution_input = json.loads(input)
    except json.JSONDecodeError as exc:
        err.print(f"[red]--input is not valid JSON: {exc.msg} (column {exc.colno})[/red]")
        raise typer.Exit(2) from None
    try:
        result = asl.execute(document, execution_input, name=name)
    except asl.InvalidDefinition as exc:
        err.print(f"[red]{definition}: {exc.message}[/red]")
        for diagnostic in exc.diagnostics:
            err.print(f"  {diagnostic.location or '/'}: {diagnostic.message}")
        raise typer.Exit(2) from None

    if output_format is OutputFormat.JSON:
        console.print_json(
            json.dumps(
                {
                    "status": result.status,
                    "output": result.output,
                    "error": result.error,
                    "cause": result.cause,
                    "events": result.events,
                },
                default=str,
            )
        )
    else:
        console.print(_history_table(result.events))
        console.print(f"[bold]status[/bold]  {result.status}")
        if result.status == "SUCCEEDED":
            console.print("[bold]output[/bold]  " + json.dumps(result.output))
        else:
            console.print(f"[bold]error[/bold]   {result.error}")
            console.print(f"[bold]cause[/bold]   {result.cause}")
    raise typer.Exit(0 if result.status == "SUCCEEDED" else 1)


def _history_table(events: list[dict[str, Any]]) -> Table:
    table = Table(title="Execution history", show_lines=False)
    table.add_column("id", justify="right")
    table.add_column("+time", justify="right")
    table.add_column("type")
    table.add_column("step")
    table.add_column("details", overflow="fold")
    started = events[0]["timestamp"] if events else None
    for event in events:
        details = _details_of(event)
        elapsed = (event["timestamp"] - started).total_seconds() if started else 0.0
        table.add_row(
            str(event["id"]),
            f"{elapsed:.3f}s",
            event["type"],
            str(details.get("name", "")),
            _summarise(details),
        )
    return table


def _details_of(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _summarise(details: dict[str, Any]) -> str:
    parts = [f"{key}={details[key]}" for key in _DETAIL_FIELDS[1:] if key in details]
    text = "  ".join(parts)
    return text if len(text) <= 160 else text[:157] + "..."

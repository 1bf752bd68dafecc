"""``batchyard validate FILE``: check a state machine definition without a server.

The checks are the server's own (``asl.validate``, which answers
``ValidateStateMachineDefinition``), so a definition that passes here is accepted by
``CreateStateMachine``. Exit codes: 0 valid (warnings allowed), 1 invalid, 2 unreadable.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from batchyard import asl
from batchyard.cli.client import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, fail


class MachineType(StrEnum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


class ValidateOutput(StrEnum):
    TABLE = "table"
    JSON = "json"


def validate(
    file: Annotated[
        Path, typer.Argument(help="A state machine definition (.asl.json).", show_default=False)
    ],
    machine_type: Annotated[
        MachineType,
        typer.Option("--type", help="Validate as a STANDARD or an EXPRESS state machine."),
    ] = MachineType.STANDARD,
    output: Annotated[
        ValidateOutput,
        typer.Option("--output", "-o", help="A diagnostics table, or the diagnostics as JSON."),
    ] = ValidateOutput.TABLE,
) -> None:
    """Validate an Amazon States Language definition and list every problem found.

    Exit code 0 when the definition is valid (warnings allowed), 1 when it has errors, 2 when
    the file cannot be read.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        fail(f"cannot read {file}: {reason}", EXIT_USAGE)
    diagnostics = asl.validate(text, machine_type=machine_type.value)
    errors = [d for d in diagnostics if d.severity == "ERROR"]
    console = Console()
    if output is ValidateOutput.JSON:
        console.print_json(
            json.dumps(
                {
                    "result": "FAIL" if errors else "OK",
                    "diagnostics": [d.to_dict() for d in diagnostics],
                }
            )
        )
    else:
        if diagnostics:
            console.print(diagnostics_table(diagnostics))
        if errors:
            console.print(f"[red]{file}: invalid[/red] ({len(errors)} error(s))")
        else:
            warnings = len(diagnostics)
            suffix = f" ({warnings} warning(s))" if warnings else ""
            console.print(f"[green]{file}: valid[/green]{suffix}")
    raise typer.Exit(EXIT_FAILURE if errors else EXIT_OK)


def diagnostics_table(diagnostics: list[asl.Diagnostic]) -> Table:
    """The diagnostics of a definition as a table, one row each."""
    table = Table(title="Diagnostics")
    table.add_column("severity")
    table.add_column("code")
    table.add_column("location")
    table.add_column("message", overflow="fold")
    for diagnostic in diagnostics:
        colour = "red" if diagnostic.severity == "ERROR" else "yellow"
        table.add_row(
            f"[{colour}]{diagnostic.severity}[/{colour}]",
            diagnostic.code,
            diagnostic.location or "/",
            diagnostic.message,
        )
    return table

"""``batchyard validate FILE``: check a state machine definition without a server.

The checks are the server's own (``asl.validate``, which answers
``ValidateStateMachineDefinition``), so a definition that passes here is accepted by
``CreateStateMachine``. Exit codes: 0 valid (warnings allowed), 1 invalid, 2 unreadable.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
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
        Path,
        typer.Argument(
            help="A state machine definition (.asl.json), or a project file (.yaml/.yml).",
            show_default=False,
        ),
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

    A .yaml or .yml file is checked as a batchyard.yaml project instead, offline, with the
    checks batchyard deploy makes before it sends anything. Exit code 0 when the file is valid
    (warnings allowed), 1 when it has errors, 2 when it cannot be read.
    """
    if file.suffix in (".yaml", ".yml"):
        validate_project(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        fail(f"cannot read {file}: {reason}", EXIT_USAGE)
    diagnostics = asl.validate(text, machine_type=machine_type.value)
    errors = [d for d in diagnostics if d.severity == "ERROR"]
    lines = pointer_lines(text, diagnostics)
    console = Console()
    if output is ValidateOutput.JSON:
        console.print_json(
            json.dumps(
                {
                    "result": "FAIL" if errors else "OK",
                    "diagnostics": [
                        {
                            **d.to_dict(),
                            **({"line": lines[d.location]} if d.location in lines else {}),
                        }
                        for d in diagnostics
                    ],
                }
            )
        )
    else:
        if diagnostics:
            console.print(diagnostics_table(diagnostics, lines, str(file)))
        if errors:
            console.print(f"[red]{file}: invalid[/red] ({len(errors)} error(s))")
        else:
            warnings = len(diagnostics)
            suffix = f" ({warnings} warning(s))" if warnings else ""
            console.print(f"[green]{file}: valid[/green]{suffix}")
    raise typer.Exit(EXIT_FAILURE if errors else EXIT_OK)


def pointer_lines(text: str, diagnostics: list[asl.Diagnostic]) -> dict[str, int]:
    """The line of each diagnostic's JSON Pointer in ``text`` (when the text can be placed).

    JSON is read with the YAML composer, which keeps positions; a document it cannot read just
    gets no line numbers.
    """
    from batchyard.deploy.source import ProjectError, loads

    try:
        source = loads(text, "definition")
    except ProjectError:
        return {}
    found: dict[str, int] = {}
    for diagnostic in diagnostics:
        pointer = diagnostic.location
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        path = tuple(int(p) if p.isdigit() else p for p in parts)
        location = source.where(path)
        if location is not None and pointer:
            found[pointer] = location.line
    return found


def diagnostics_table(
    diagnostics: list[asl.Diagnostic], lines: dict[str, int] | None = None, file: str = ""
) -> Table:
    """The diagnostics of a definition as a table, one row each, with ``file:line`` if known."""
    lines = lines or {}
    table = Table(title="Diagnostics")
    table.add_column("severity")
    table.add_column("code")
    table.add_column("location")
    table.add_column("line")
    table.add_column("message", overflow="fold")
    for diagnostic in diagnostics:
        colour = "red" if diagnostic.severity == "ERROR" else "yellow"
        line = lines.get(diagnostic.location)
        table.add_row(
            f"[{colour}]{diagnostic.severity}[/{colour}]",
            diagnostic.code,
            escape(diagnostic.location or "/"),
            f"{file}:{line}" if line else "",
            escape(diagnostic.message),
        )
    return table


def validate_project(file: Path) -> NoReturn:
    """Check a project file; every problem on stderr with its location, then the exit code."""
    from batchyard.deploy import ProjectError, load_project

    try:
        project = load_project(file)
    except ProjectError as exc:
        errors = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in exc.problems:
            errors.print(f"[red]error:[/red] {escape(str(problem))}")
        unreadable = any(p.location is None and "cannot read" in p.message for p in exc.problems)
        raise typer.Exit(EXIT_USAGE if unreadable else EXIT_FAILURE) from None
    counts = {
        "task definitions": len(project.task_definitions),
        "functions": len(project.functions),
        "state machines": len(project.state_machines),
        "schedules": len(project.schedules),
    }
    summary = ", ".join(f"{n} {kind if n > 1 else kind[:-1]}" for kind, n in counts.items() if n)
    Console(highlight=False).print(
        f"[green]{escape(str(file))}: valid[/green] project {escape(project.name)}"
        + (f" ({summary})" if summary else "")
    )
    raise typer.Exit(EXIT_OK)

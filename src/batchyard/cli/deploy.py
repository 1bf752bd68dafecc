"""``batchyard deploy``: show what a ``batchyard.yaml`` would change on the server, then do it.

The plan reads like terraform's: ``+`` create, ``~`` update (and what changed), ``-`` delete
(only what deploy created for this project), ``=`` unchanged. ``--dry-run`` stops after the
plan. Exit codes: 0 deployed (or planned), 1 the project file is invalid or the server refused
a change, 2 the project file cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from batchyard import deploy as project_deploy
from batchyard.cli.client import (
    EXIT_FAILURE,
    EXIT_USAGE,
    Endpoint,
    EndpointOption,
    api_errors,
    fail,
    stderr,
)
from batchyard.deploy import Change, ProjectError, ServiceMissing

_STYLES = {"create": "green", "update": "yellow", "delete": "red", "unchanged": "dim"}


def deploy(
    file: Annotated[Path, typer.Option("--file", "-f", help="The project file.")] = Path(
        "batchyard.yaml"
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the plan; change nothing.")
    ] = False,
    server_data_dir: Annotated[
        Path | None,
        typer.Option(
            help="The server's data directory, to write the project's egress profiles into "
            "its egress.json (a server on this machine).",
        ),
    ] = None,
    endpoint_url: EndpointOption = "http://127.0.0.1:4600",
) -> None:
    """Deploy a batchyard.yaml: plan the changes, then apply them through the AWS APIs.

    Deploying twice changes nothing the second time. Resources deploy creates carry the tag
    batchyard:project=<project>; only those are ever deleted, when they leave the file.
    """
    try:
        project = project_deploy.load_project(file)
    except ProjectError as exc:
        errors = Console(stderr=True, highlight=False, soft_wrap=True)
        unreadable = any(p.location is None and "cannot read" in p.message for p in exc.problems)
        for problem in exc.problems:
            errors.print(f"[red]error:[/red] {escape(str(problem))}")
        raise typer.Exit(EXIT_USAGE if unreadable else EXIT_FAILURE) from None

    endpoint = Endpoint.from_option(endpoint_url)
    console = Console(highlight=False, soft_wrap=True)
    with api_errors(endpoint):
        try:
            with stderr.status(f"reading the state of {endpoint.url}…", spinner="dots"):
                changes = project_deploy.plan(
                    project, endpoint.client, server_data_dir=server_data_dir
                )
        except ServiceMissing as exc:
            fail(str(exc))
    console.print(
        f"[bold]Plan[/bold] for project {escape(project.name)} ({escape(str(file))}) at {escape(endpoint.url)}:"
    )
    for change in changes:
        style = _STYLES[change.action]
        console.print(f"  [{style}]{escape(change.line())}[/{style}]")
    counts = {action: sum(1 for c in changes if c.action == action) for action in _STYLES}
    console.print(
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged."
    )
    pending = [c for c in changes if c.run is not None]
    if dry_run or not pending:
        if not pending:
            console.print("Nothing to do.")
        return

    # A progress bar on a terminal (transient: only the "applying" lines stay).
    progress = Progress(
        TextColumn("deploying"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    bar = progress.add_task("deploy", total=len(pending))

    def announce(change: Change) -> None:
        progress.update(bar, completed=pending.index(change))
        progress.console.print(f"applying {escape(change.line())}")

    with api_errors(endpoint), progress:
        try:
            project_deploy.apply(pending, announce)
        except ServiceMissing as exc:
            fail(str(exc))
        progress.update(bar, completed=len(pending))
    console.print(f"[green]Deployed[/green] {len(pending)} change(s).")

"""Entry point of the ``batchyard`` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from batchyard.cli import executions, logs, schedules, tasks
from batchyard.cli.demo import demo
from batchyard.cli.deploy import deploy
from batchyard.cli.run_local import run_local
from batchyard.cli.server import server
from batchyard.cli.validate import validate

app = typer.Typer(
    name="batchyard",
    help="A self-hosted batch platform that speaks AWS's APIs.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("demo")(demo)
app.command("run-local")(run_local)
app.command("server")(server)
app.command("validate")(validate)
app.command("deploy")(deploy)
app.add_typer(executions.app)
app.add_typer(logs.app)
app.add_typer(schedules.app)
app.add_typer(tasks.app)


@app.callback()
def _root() -> None:
    """A self-hosted batch platform that speaks AWS's APIs."""


if __name__ == "__main__":  # pragma: no cover
    app()

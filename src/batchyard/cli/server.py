"""``batchyard server``: the API, workers and log store in one process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from batchyard.api import ConfigError, ServerConfig, serve


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4600,
    data_dir: Annotated[
        Path, typer.Option(help="Directory of the server's data (logs.duckdb, state.db).")
    ] = Path(".batchyard"),
    store: Annotated[
        str | None,
        typer.Option(help="State store URL (default: SQLite in the data directory)."),
    ] = None,
    region: Annotated[str, typer.Option(help="AWS region the server answers as.")] = "us-east-1",
    account_id: Annotated[str, typer.Option(help="AWS account id used in ARNs.")] = "123456789012",
    access_key_id: Annotated[
        str | None,
        typer.Option(envvar="BATCHYARD_ACCESS_KEY_ID", help="Access key clients sign with."),
    ] = None,
    secret_access_key: Annotated[
        str | None,
        typer.Option(envvar="BATCHYARD_SECRET_ACCESS_KEY", help="Its secret key."),
    ] = None,
    runner: Annotated[
        str,
        typer.Option(
            envvar="BATCHYARD_RUNNER",
            help="Where ECS tasks run: auto (docker when an engine answers, else local), "
            "local, docker or ecs; a cluster's batchyard:runner tag overrides it.",
        ),
    ] = "auto",
    log_level: Annotated[
        str, typer.Option(help="debug (one line per request), info, warning or error.")
    ] = "info",
) -> None:
    """Serve Step Functions, CloudWatch Logs, ECS, Lambda, EventBridge Scheduler and the web
    console over HTTP; stop with SIGTERM or Ctrl-C.

    On a loopback address clients sign with access key "test" and secret "test" unless
    credentials are configured; any other address requires configured credentials.
    """
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("botocore", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger().level))
    if (access_key_id is None) != (secret_access_key is None):
        raise typer.BadParameter("give both --access-key-id and --secret-access-key, or neither")
    credentials = (
        {access_key_id: secret_access_key} if access_key_id and secret_access_key else None
    )
    config = ServerConfig(
        host=host,
        port=port,
        data_dir=data_dir,
        store_url=store,
        region=region,
        account_id=account_id,
        credentials=credentials,
        runner=runner,
    )
    try:
        serve(config, log_level=log_level.lower())
    except ConfigError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc

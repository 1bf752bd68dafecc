"""AWS clients for the CLI commands, pointed at a batchyard server, and their error handling.

Every command that talks to a server takes ``--endpoint-url`` (default
``http://127.0.0.1:4600``, or ``$BATCHYARD_ENDPOINT``) and signs with the server's default
loopback credentials ``test``/``test`` unless ``BATCHYARD_ACCESS_KEY_ID`` and
``BATCHYARD_SECRET_ACCESS_KEY`` say otherwise -- the same variables ``batchyard server`` reads.

:func:`api_errors` is the one place where a failed call becomes a line a person can read and
an exit code a script can trust: ``error: <Code>: <message>`` and 1 for what the server
refused, a sentence naming the endpoint when nothing answers there, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import boto3  # type: ignore[import-untyped]
import typer
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from rich.console import Console
from rich.markup import escape

DEFAULT_ENDPOINT = "http://127.0.0.1:4600"

# Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

EndpointOption = Annotated[
    str,
    typer.Option(
        "--endpoint-url",
        envvar="BATCHYARD_ENDPOINT",
        help="The batchyard server to talk to.",
    ),
]

stderr = Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class Endpoint:
    """Where the server is, and how to sign requests to it."""

    url: str = DEFAULT_ENDPOINT
    region: str = "us-east-1"
    access_key_id: str = "test"
    secret_access_key: str = "test"

    @classmethod
    def from_option(cls, url: str) -> Endpoint:
        """The endpoint ``--endpoint-url`` names, with credentials and region from the env."""
        return cls(
            url=url.rstrip("/"),
            region=os.environ.get("BATCHYARD_REGION", "us-east-1"),
            access_key_id=os.environ.get("BATCHYARD_ACCESS_KEY_ID", "test"),
            secret_access_key=os.environ.get("BATCHYARD_SECRET_ACCESS_KEY", "test"),
        )

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` for this server (one attempt: fail fast when down)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=90,
            ),
        )


class CliFailure(Exception):
    """A failure the command reports in one line and turns into an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def error_text(error: ClientError) -> str:
    """``<Code>: <message>`` of an AWS error answer."""
    details = error.response.get("Error", {})
    code = details.get("Code") or "Error"
    message = details.get("Message") or str(error)
    return f"{code}: {message}"


@contextmanager
def api_errors(endpoint: Endpoint) -> Iterator[None]:
    """Turn API and connection failures inside the block into ``error: ...`` and an exit code."""
    try:
        yield
    except ClientError as exc:
        fail(error_text(exc))
    except (EndpointConnectionError, ConnectTimeoutError):
        fail(
            f"cannot connect to the batchyard server at {endpoint.url} "
            "(start it with `batchyard server`, or pass --endpoint-url / set BATCHYARD_ENDPOINT)"
        )
    except ReadTimeoutError:
        fail(f"the batchyard server at {endpoint.url} did not answer in time")
    except ParamValidationError as exc:
        fail(str(exc).replace("\n", " "), EXIT_USAGE)
    except BotoCoreError as exc:  # anything else the AWS client reports, in its own words
        fail(f"{endpoint.url}: {exc}")
    except CliFailure as exc:
        fail(exc.message, exc.exit_code)


def fail(message: str, exit_code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``error: message`` on stderr and leave with ``exit_code``."""
    stderr.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(exit_code)

"""The installed ``batchyard`` command as a script sees it: exit codes, stderr, ``--help``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from batchyard.cli.main import app
from batchyard.cli.reference import _commands
from tests.api.conftest import free_port


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchyard.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def test_connection_refused_names_the_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("executions", "list", "--endpoint-url", url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot connect to the batchyard server at {url}")
    assert "Traceback" not in result.stderr
    via_env = run("logs", "tail", "-g", "/x", env={"BATCHYARD_ENDPOINT": url})
    assert via_env.returncode == 1 and url in via_env.stderr


def test_unknown_command_and_missing_option_are_usage_errors() -> None:
    assert run("executions", "explode").returncode == 2
    assert run("logs", "query", "fields @message").returncode == 2  # no --group


@pytest.mark.parametrize("path", [[], *_commands(app, [])], ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str]) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0
    assert "Usage:" in result.output

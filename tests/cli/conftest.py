"""A real batchyard server for the CLI tests, and a runner that invokes the real commands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from batchyard.api import ServerConfig, build_app
from batchyard.cli.main import app
from tests.api.conftest import RunningServer, free_port, serve_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("batchyard")
    port = free_port()
    built = build_app(ServerConfig(port=port, data_dir=data_dir))
    for url in serve_app(built, port):
        yield RunningServer(built, url, data_dir)


@dataclass
class Cli:
    """Invokes ``batchyard`` commands against one server, without colours."""

    url: str

    def __call__(self, *args: str, **options: Any) -> Result:
        runner = CliRunner()
        env = {"BATCHYARD_ENDPOINT": self.url, "NO_COLOR": "1", "COLUMNS": "200"}
        return runner.invoke(app, list(args), env=env, **options)


@pytest.fixture
def cli(server: RunningServer) -> Cli:
    return Cli(server.url)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path

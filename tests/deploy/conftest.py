"""A server for the deploy tests, started with one egress profile (servers load them at start)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from batchyard.api import ServerConfig, build_app
from tests.api.conftest import RunningServer, free_port, serve_app
from tests.cli.conftest import Cli, cli, write

__all__ = ["Cli", "cli", "server", "write"]

PARTNER = {"proxy": "http://127.0.0.1:3128"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("batchyard")
    (data_dir / "egress.json").write_text(json.dumps({"partner": PARTNER}))
    port = free_port()
    built = build_app(ServerConfig(port=port, data_dir=data_dir))
    for url in serve_app(built, port):
        yield RunningServer(built, url, data_dir)

"""A real batchyard server on a free loopback port, driven by unchanged AWS clients."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
import uvicorn
from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from batchyard.api import App, ServerConfig, build_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    app: App
    url: str
    data_dir: Path

    def client(self, service: str = "logs", secret: str = "test", key: str = "test") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )

    def raw(
        self, body: bytes | str, headers: dict[str, str], **options: Any
    ) -> tuple[int, dict[str, str], Any]:
        return send(self.url, body, headers, **options)


def send(
    url: str,
    body: bytes | str,
    headers: dict[str, str],
    *,
    method: str = "POST",
    path: str = "/",
    sign: bool = True,
    service: str = "logs",
    secret: str = "test",
) -> tuple[int, dict[str, str], Any]:
    """Send an HTTP request as given (signed with SigV4 unless ``sign`` is false)."""
    data = body.encode() if isinstance(body, str) else body
    request = AWSRequest(method=method, url=url + path, data=data, headers=headers)
    if sign:
        SigV4Auth(Credentials("test", secret), service, "us-east-1").add_auth(request)
    prepared = urllib.request.Request(
        url + path, data=data or None, method=method, headers=dict(request.headers)
    )
    try:
        with urllib.request.urlopen(prepared) as response:
            status, answer, raw = response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer, raw = error.code, _lower(error.headers), error.read()
    return status, answer, json.loads(raw) if raw else None


def start(app: App, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(
        uvicorn.Config(app.asgi(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    return server, thread


def serve_app(app: App, port: int) -> Iterator[str]:
    server, thread = start(app, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("batchyard")
    port = free_port()
    app = build_app(ServerConfig(port=port, data_dir=data_dir, strict_output=True))
    for url in serve_app(app, port):
        yield RunningServer(app, url, data_dir)


@pytest.fixture
def logs(server: RunningServer) -> Any:
    return server.client("logs")


JSON11 = {"Content-Type": "application/x-amz-json-1.1"}


def target(operation: str) -> dict[str, str]:
    return {**JSON11, "X-Amz-Target": f"Logs_20140328.{operation}"}


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}

"""``batchyard server`` as a real process that a test can start, SIGKILL and start again.

The proof tests drive the server exactly as a user does: the ``batchyard`` command line, a
loopback port, boto3 with ``endpoint_url``. Output goes to a file per start (a pipe nobody
reads would block the server once full); its tail is shown when the server will not start.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from tests.api.conftest import free_port

START_TIMEOUT_S = 30.0
# Connection failures are expected while a server is down: the callers retry on their own.
CLIENT_CONFIG = Config(
    retries={"max_attempts": 1},
    connect_timeout=2,
    read_timeout=75,  # GetActivityTask holds the request up to 60 s
    max_pool_connections=32,
    inject_host_prefix=False,
)


class ServerProcess:
    """One ``batchyard server`` on a fixed port and data directory, restartable."""

    def __init__(self, data_dir: Path, *extra: str, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-server-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "batchyard.cli.main", "server",
                 "--port", str(self.port), "--data-dir", str(self.data_dir),
                 "--log-level", "warning", *self.extra],
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if json.loads(response.read())["status"] == "ok":
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server not healthy after {START_TIMEOUT_S} s:\n{self.tail()}")

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush, whatever it was doing."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time (cleanup)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def client(self, service: str = "stepfunctions") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=CLIENT_CONFIG,
        )

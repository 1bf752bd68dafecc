"""``batchyard server`` (the real command, in a subprocess) serves the console beside the APIs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.api.conftest import free_port
from tests.web.conftest import fetch


def test_the_server_command_serves_the_console(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "batchyard.cli.main", "server", "--port", str(port),
         "--data-dir", str(tmp_path / "data"), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = fetch(base + "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        status, content_type, body = fetch(base + "/ui/executions")
        assert status == 200 and content_type.startswith("text/html")
        assert b"<h1>Executions</h1>" in body
        status, _, script = fetch(base + "/static/vendor/dagre/dagre.min.js")
        assert status == 200 and b"var dagre=" in script
        status, _, _ = fetch(base + "/ui/api/components")
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output

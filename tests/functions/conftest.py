"""Functions through a real batchyard server (boto3), and the function service on each backend."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.api.conftest import RunningServer, server  # noqa: F401 - a real server per module

ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package holding ``files`` (name -> source)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


HANDLER = """
import json, logging, os, time
logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("module loaded")
CALLS = []

def handler(event, context):
    CALLS.append(1)
    print("event", json.dumps(event, sort_keys=True))
    logger.info("processing %s", context.aws_request_id)
    action = event.get("action") if isinstance(event, dict) else None
    if action == "fail":
        raise ValueError("bad input: " + str(event.get("why")))
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "allocate":
        block = bytearray(event["mib"] * 1024 * 1024)
        return len(block)
    if action == "env":
        return {k: os.environ.get(k) for k in event["names"]}
    if action == "context":
        return {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_positive": context.get_remaining_time_in_millis() > 0,
            "pid": os.getpid(),
            "calls": len(CALLS),
        }
    if action == "client":
        found = context.client_context
        return {"custom": found.custom, "app": found.client.app_title} if found else None
    if action == "fill":  # touch every page: resident memory grows
        block = b"x" * (event["mib"] * 1024 * 1024)
        time.sleep(event.get("hold", 0))
        return len(block)
    if action == "exit":
        raise SystemExit(event["status"])
    if action == "unserializable":
        return {1, 2}
    return {"echo": event, "calls": len(CALLS)}
"""


@pytest.fixture(scope="module")
def lam(server: RunningServer) -> Any:  # noqa: F811
    return server.client("lambda")


@pytest.fixture(scope="module")
def logs(server: RunningServer) -> Any:  # noqa: F811
    return server.client("logs")


def create(lam: Any, name: str, source: str = HANDLER, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_of({"app.py": source})},
    }
    params.update(extra)
    result: dict[str, Any] = lam.create_function(**params)
    return result

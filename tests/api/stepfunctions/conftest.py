"""A batchyard server with the Step Functions (and CloudWatch Logs) API, driven by boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.config import Config  # type: ignore[import-untyped]

from batchyard.api import App, ServerConfig
from batchyard.api.logs import LogsApi
from batchyard.api.stepfunctions.common import Backend
from batchyard.api.stepfunctions.wiring import install
from batchyard.logs import LogStore
from tests.api.conftest import free_port, serve_app

ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"
PASS = {
    "Comment": "BASE_PASS_RESULT",
    "StartAt": "State_1",
    "States": {"State_1": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
}


@dataclass
class SfnServer:
    app: App
    url: str
    backend: Backend

    def client(self, service: str = "stepfunctions") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            # StartSyncExecution's model prefixes the host with "sync-": not on loopback.
            config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, read_timeout=90),
        )


@pytest.fixture(scope="module")
def sfn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SfnServer]:
    data_dir = tmp_path_factory.mktemp("sfn")
    port = free_port()
    config = ServerConfig(port=port, data_dir=data_dir, strict_output=True)
    app = App(config)
    logs = LogStore(str(data_dir / "logs.duckdb"), account_id="123456789012", region="us-east-1")
    app.on_shutdown(logs.close)
    logs_api = LogsApi(logs)
    app.add_service(logs_api.service())
    app.add_worker(logs_api.queries)
    backend = install(app, config, logs=logs)
    backend.activity_wait_seconds = 1.0
    for url in serve_app(app, port):
        yield SfnServer(app, url, backend)


@pytest.fixture
def sfn(sfn_server: SfnServer) -> Any:
    return sfn_server.client()


def definition(value: dict[str, Any] | None = None) -> str:
    return json.dumps(value or PASS)


def error_of(caught: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    """(code, message) of a botocore ClientError."""
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]

"""``build_app`` (what ``batchyard server`` runs) serves Step Functions with a running engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

from batchyard.api import ServerConfig, build_app
from tests.api.conftest import free_port, serve_app
from tests.api.stepfunctions.conftest import ROLE, definition
from tests.api.stepfunctions.helpers import finished


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("wired")
    port = free_port()
    app = build_app(ServerConfig(port=port, data_dir=data_dir, strict_output=True))
    assert "stepfunctions" in app.services
    yield from serve_app(app, port)
    assert (data_dir / "state.db").exists()


def test_build_app_runs_executions(url: str) -> None:
    sfn: Any = boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    arn = sfn.create_state_machine(name="wired", definition=definition(), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert json.loads(finished(sfn, execution)["output"]) == {"Arg1": "argument1"}

"""The AWS CLI, unchanged, against the Step Functions API (awscli v1 as a module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

from tests.api.stepfunctions.conftest import ROLE, SfnServer, definition


def _aws(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # StartSyncExecution's endpoint carries a "sync-" host prefix; not on loopback.
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }
    return subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", url, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _ok(url: str, *args: str) -> Any:
    done = _aws(url, "stepfunctions", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_cli_state_machine_and_execution(sfn_server: SfnServer) -> None:
    url = sfn_server.url
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = _ok(
        url, "create-state-machine", "--name", name, "--definition", definition(),
        "--role-arn", ROLE,
    )  # fmt: skip
    arn = created["stateMachineArn"]
    assert arn.endswith(f":stateMachine:{name}")
    started = _ok(url, "start-execution", "--state-machine-arn", arn, "--input", '{"a": 1}')
    assert started["executionArn"].startswith(arn.replace(":stateMachine:", ":execution:"))
    missing = _aws(url, "stepfunctions", "describe-state-machine", "--state-machine-arn",
                   arn + "-none")  # fmt: skip
    assert missing.returncode == 255
    assert "StateMachineDoesNotExist" in missing.stderr
    assert f"State Machine Does Not Exist: '{arn}-none'" in missing.stderr

"""The context object (``$$`` in JSONPath, ``$states.context`` in JSONata).

Built only for states whose fields can read it (see ``CompiledState.needs_context``), with AWS's
field names and its timestamp format (``2024-01-31T12:00:00.123Z``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/StepFunctionsExecutionRole"


def aws_timestamp(moment: datetime) -> str:
    """``2024-01-31T12:00:00.123Z``: UTC, milliseconds, a ``Z`` suffix."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What the context object says about the execution; fixed for its whole life."""

    state_machine_name: str
    name: str
    input: Any
    start_time: datetime
    role_arn: str = ROLE_ARN
    region: str = REGION
    account: str = ACCOUNT

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.state_machine_name}"

    @property
    def execution_arn(self) -> str:
        return (
            f"arn:aws:states:{self.region}:{self.account}:execution:"
            f"{self.state_machine_name}:{self.name}"
        )

    def execution_object(self) -> dict[str, Any]:
        return {
            "Id": self.execution_arn,
            "Input": self.input,
            "StartTime": aws_timestamp(self.start_time),
            "Name": self.name,
            "RoleArn": self.role_arn,
            "RedriveCount": 0,
        }


def context_object(
    execution: dict[str, Any],
    state_machine: dict[str, Any],
    state_name: str,
    entered_time: datetime,
    retry_count: int,
    *,
    task_token: str | None = None,
    map_item: tuple[int, Any] | None = None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "Execution": execution,
        "StateMachine": state_machine,
        "State": {
            "Name": state_name,
            "EnteredTime": aws_timestamp(entered_time),
            "RetryCount": retry_count,
        },
    }
    if task_token is not None:
        ctx["Task"] = {"Token": task_token}
    if map_item is not None:
        ctx["Map"] = {"Item": {"Index": map_item[0], "Value": map_item[1]}}
    return ctx

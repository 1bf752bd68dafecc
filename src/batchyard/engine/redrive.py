"""RedriveExecution (filled in below the durable core)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from batchyard.engine.errors import ExecutionNotRedrivable, execution_does_not_exist

if TYPE_CHECKING:
    from batchyard.engine.core import Core


def redrive(core: Core, arn: str, client_token: str | None) -> datetime:
    execution = core.store.executions.find(arn)
    if execution is None:
        raise execution_does_not_exist(arn)
    raise ExecutionNotRedrivable(f"Execution is {execution.status} and cannot be redriven")

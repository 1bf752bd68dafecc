"""The result of one in-memory execution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ExecutionStatus = Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


@dataclass(slots=True)
class ExecutionResult:
    """What :func:`batchyard.asl.execute` returns.

    ``events`` are dicts in exactly the shape of ``GetExecutionHistory``'s ``events`` items
    (``timestamp`` is a timezone-aware ``datetime``, as boto3 returns it). ``error`` and
    ``cause`` are set when the execution did not succeed, with AWS's exact texts.
    """

    status: ExecutionStatus
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    execution_arn: str = ""

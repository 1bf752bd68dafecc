"""Durable Step Functions executions on top of the pure interpreter (``batchyard.asl``).

The public API is :class:`Engine` (``service.py``) and the AWS-named errors
(``errors.py``); ``core.py`` explains the durability design. History events are stored as
``store.HistoryEvent`` rows whose ``details`` hold the type-specific member under its AWS key
(``{"executionStartedEventDetails": {...}}``); :func:`history_event` turns a row into the
``GetExecutionHistory`` shape.
"""

from typing import Any

from batchyard.engine.errors import (
    ActivityDoesNotExist,
    EngineError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionLimitExceeded,
    ExecutionNotRedrivable,
    InvalidArn,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    NondeterminismError,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
    ValidationException,
)
from batchyard.engine.service import Engine
from batchyard.store import HistoryEvent


def history_event(event: HistoryEvent) -> dict[str, Any]:
    """A stored event in ``GetExecutionHistory``'s shape (``timestamp`` a ``datetime``)."""
    wire: dict[str, Any] = {
        "timestamp": event.timestamp,
        "type": event.type,
        "id": event.id,
        "previousEventId": event.previous_event_id,
    }
    if event.details:
        wire.update(event.details)
    return wire


__all__ = [
    "ActivityDoesNotExist",
    "Engine",
    "EngineError",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionLimitExceeded",
    "ExecutionNotRedrivable",
    "InvalidArn",
    "InvalidExecutionInput",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "NondeterminismError",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "ValidationException",
    "history_event",
]

"""LoggingConfiguration: execution history events into the log store, as AWS writes them.

Each event becomes one log line of JSON with string-valued ids and timestamp, in AWS's key
order: ``{"id": "1", "type": "ExecutionStarted", "details": {...}, "previous_event_id": "0",
"event_timestamp": "1700000000000", "execution_arn": "...", "redrive_count": "0"}``. The level
chooses the event types (``ERROR``: failures, aborts and time-outs of states, tasks and the
execution; ``FATAL``: only the execution's own end), ``includeExecutionData: false`` strips
inputs, outputs and parameters. The stream is ``states/<machine>/<yyyy-mm-dd-hh-mm>/<id>``,
one per execution, in the group named by the destination's ARN (created when absent).

Lines are written after the events are committed; an engine killed in between does not write
them again on replay (logs are at most once; the history is exactly once).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from batchyard.logs import LogStore, ResourceAlreadyExistsException
from batchyard.store import Execution, HistoryEvent, Store

_ERROR_TYPES: Final = frozenset(
    {
        "ExecutionAborted",
        "ExecutionFailed",
        "ExecutionTimedOut",
        "FailStateEntered",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduleFailed",
        "LambdaFunctionStartFailed",
        "LambdaFunctionTimedOut",
        "MapStateAborted",
        "MapStateFailed",
        "MapIterationAborted",
        "MapIterationFailed",
        "MapRunAborted",
        "MapRunFailed",
        "ParallelStateAborted",
        "ParallelStateFailed",
        "TaskFailed",
        "TaskStartFailed",
        "TaskStateAborted",
        "TaskSubmitFailed",
        "TaskTimedOut",
        "WaitStateAborted",
        "ActivityFailed",
        "ActivityScheduleFailed",
        "ActivityTimedOut",
    }
)
_FATAL_TYPES: Final = frozenset({"ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut"})
LEVELS: Final[dict[str, Callable[[str], bool]]] = {
    "ALL": lambda _: True,
    "ERROR": _ERROR_TYPES.__contains__,
    "FATAL": _FATAL_TYPES.__contains__,
    "OFF": lambda _: False,
}
# Execution data: what includeExecutionData=false leaves out of the details.
_DATA_FIELDS: Final = frozenset(
    {
        "input",
        "inputDetails",
        "output",
        "outputDetails",
        "parameters",
        "assignedVariables",
        "assignedVariablesDetails",
    }
)
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def log_group_name(configuration: Any) -> str | None:
    """The log group of a LoggingConfiguration's (single) destination."""
    destinations = configuration.get("destinations") or []
    if not destinations:
        return None
    arn = (destinations[0].get("cloudWatchLogsLogGroup") or {}).get("logGroupArn", "")
    if ":log-group:" not in arn:
        return None
    return str(arn.split(":log-group:", 1)[1].split(":", 1)[0])


def stream_name(execution: Execution) -> str:
    machine = execution.state_machine_arn.rsplit(":", 1)[-1]
    minute = execution.start_date.strftime("%Y-%m-%d-%H-%M")
    suffix = hashlib.sha256(execution.arn.encode()).hexdigest()[:8]
    return f"states/{machine}/{minute}/{suffix}"


def log_line(execution: Execution, event: HistoryEvent, include_data: bool) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for value in (event.details or {}).values():
        if isinstance(value, dict):
            details.update(value)
    if not include_data:
        details = {k: v for k, v in details.items() if k not in _DATA_FIELDS}
    millis = round(event.timestamp.timestamp() * 1000)
    return {
        "id": str(event.id),
        "type": event.type,
        "details": details,
        "previous_event_id": str(event.previous_event_id),
        "event_timestamp": str(millis),
        "execution_arn": execution.arn,
        "redrive_count": str(execution.redrive_count),
    }


class ExecutionLogger:
    """Writes the events of executions whose definition has a LoggingConfiguration."""

    def __init__(self, store: Store, logs: LogStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self.logs = logs
        self.now = now
        self._configs: dict[tuple[str, str], Any] = {}
        self._streams: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def configuration(self, execution: Execution) -> Any:
        key = (execution.state_machine_arn, execution.revision_id)
        if key not in self._configs:
            revision = self.store.state_machines.revision(*key)
            self._configs[key] = revision.logging_configuration
        return self._configs[key]

    def write(self, execution: Execution, events: Sequence[HistoryEvent]) -> None:
        configuration = self.configuration(execution)
        if not configuration:
            return
        wanted = LEVELS.get(str(configuration.get("level", "OFF")), LEVELS["OFF"])
        group = log_group_name(configuration)
        chosen = [event for event in events if wanted(event.type)]
        if group is None or not chosen:
            return
        include = bool(configuration.get("includeExecutionData", False))
        stream = stream_name(execution)
        lines = []
        for event in chosen:
            millis = round(event.timestamp.timestamp() * 1000)
            message = _dumps(log_line(execution, event, include))
            # Imported events (ingestionTime given) keep their own timestamps, whatever the
            # log store's clock says: an execution's time is the engine's, not the store's.
            lines.append({"timestamp": millis, "message": message, "ingestionTime": millis})
        with self._lock:
            self._ensure(group, stream)
            self.logs.put_log_events(group, stream, lines)

    def _ensure(self, group: str, stream: str) -> None:
        if (group, stream) in self._streams:
            return
        with contextlib.suppress(ResourceAlreadyExistsException):
            self.logs.create_log_group(group)
        with contextlib.suppress(ResourceAlreadyExistsException):
            self.logs.create_log_stream(group, stream)
        self._streams.add((group, stream))

"""The records the store returns: frozen dataclasses whose fields are the table columns.

Instants are timezone-aware UTC ``datetime`` objects. JSON columns hold plain Python values
(``dict``/``list``/...). A record with a ``version`` field is read-modify-written with
``dataclasses.replace`` and saved with the repository's ``save``, which succeeds only if nobody
saved it in between (optimistic concurrency).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")
JSON = Any  # a JSON-compatible value; kept loose on purpose (AWS configuration shapes vary)


@dataclass(frozen=True, slots=True)
class StateMachine:
    arn: str
    name: str
    type: str
    definition: str
    role_arn: str
    revision_id: str
    created: datetime
    updated: datetime
    status: str = "ACTIVE"
    description: str | None = None
    logging_configuration: JSON = None
    tracing_configuration: JSON = None
    encryption_configuration: JSON = None
    last_version: int = 0
    version: int = 1


@dataclass(frozen=True, slots=True)
class Revision:
    """One definition of a state machine as it was at ``revision_id``."""

    state_machine_arn: str
    revision_id: str
    definition: str
    role_arn: str
    created: datetime
    logging_configuration: JSON = None
    tracing_configuration: JSON = None
    encryption_configuration: JSON = None


@dataclass(frozen=True, slots=True)
class StateMachineVersion:
    arn: str
    state_machine_arn: str
    version_number: int
    revision_id: str
    created: datetime
    description: str | None = None


@dataclass(frozen=True, slots=True)
class StateMachineAlias:
    arn: str
    state_machine_arn: str
    name: str
    routing_configuration: JSON
    created: datetime
    updated: datetime
    description: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Execution:
    arn: str
    state_machine_arn: str
    name: str
    type: str
    status: str
    input: str
    revision_id: str
    start_date: datetime
    created: datetime
    updated: datetime
    state_machine_version_arn: str | None = None
    state_machine_alias_arn: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: datetime | None = None
    redrive_count: int = 0
    redrive_date: datetime | None = None
    redrive_status: str | None = None
    parent_execution_arn: str | None = None
    map_run_arn: str | None = None
    trace_header: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of ``GetExecutionHistory``; ``details`` is the type-specific details object."""

    execution_arn: str
    id: int
    previous_event_id: int
    type: str
    timestamp: datetime
    details: JSON = None


@dataclass(frozen=True, slots=True)
class Timer:
    """A durable wake-up for an execution (Wait, retry back-off, timeout, heartbeat)."""

    execution_arn: str
    key: str
    fire_at: datetime
    payload: JSON = None


@dataclass(frozen=True, slots=True)
class TaskToken:
    token: str
    execution_arn: str
    state_name: str
    scheduled_event_id: int
    status: str
    created: datetime
    updated: datetime
    heartbeat_seconds: int | None = None
    heartbeat_deadline: datetime | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    arn: str
    name: str
    created: datetime
    encryption_configuration: JSON = None


@dataclass(frozen=True, slots=True)
class ActivityTask:
    task_token: str
    activity_arn: str
    input: str
    status: str
    queued_at: datetime
    worker_name: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MapRun:
    arn: str
    execution_arn: str
    state_name: str
    status: str
    start_date: datetime
    created: datetime
    updated: datetime
    max_concurrency: int = 0
    tolerated_failure_percentage: float = 0.0
    tolerated_failure_count: int = 0
    item_counts: JSON = field(default_factory=dict)
    execution_counts: JSON = field(default_factory=dict)
    stop_date: datetime | None = None
    redrive_count: int = 0
    redrive_date: datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Tag:
    resource_arn: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A leased work item. ``lease_version`` fences every later write by this holder."""

    kind: str
    key: str
    owner: str
    lease_expires: datetime
    lease_version: int
    signal: int
    attempts: int
    payload: JSON = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of a listing; pass ``next_token`` back to get the following page."""

    items: list[T]
    next_token: str | None = None


def columns_of(record_type: type[Any]) -> tuple[str, ...]:
    """Field names of a record dataclass, in order (the column names of its table)."""
    return tuple(f.name for f in fields(record_type))


def as_row(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A record as a ``{column: value}`` mapping (faster than ``asdict``: no deep copy)."""
    return {name: getattr(record, name) for name in names}

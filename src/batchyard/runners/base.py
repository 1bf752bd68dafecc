"""The contract every runner implements: run one ECS-style task on a backend.

The ECS service (``api/ecs``, ``ecs/``) owns task records, their ``lastStatus`` and the API
shapes; a runner only turns a :class:`TaskSpec` into something running (a host process, a Docker
container, a Fargate task) and reports how it ends. A start that fails raises
:class:`StartFailure` carrying ECS's exact ``stoppedReason`` text (see ``classify.py``), which the
service records with ``stopCode: TaskFailedToStart``.

Everything is idempotent by ``TaskSpec.task_id``: ``start`` of a task that is already running on
the backend (a restarted server, a takeover by another replica) re-attaches to it instead of
starting it again — deterministic container names on Docker, ``clientToken``-derived
``startedBy`` on ECS, a pid file on the local runner. A runner records an ended task's exit so
that a late ``start`` reports it instead of running the task again, until ``forget``.

Build one from configuration with ``batchyard.runners.make_runner(kind, options)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AwsLogs:
    """A container's ``awslogs`` configuration: where its stdout/stderr lines go."""

    group: str
    stream_prefix: str | None = None  # stream = f"{prefix}/{container}/{task_id}"
    # ``awslogs-create-group: "true"``: create a missing group instead of failing to start
    # (ECS: ``ResourceInitializationError: failed to validate logger args: ...``).
    create_group: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a task, overrides already applied, secrets already resolved."""

    name: str
    image: str
    command: list[str] = field(default_factory=list)
    entry_point: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    working_directory: str | None = None
    cpu: int | None = None  # CPU units, 1024 = one vCPU
    memory_mib: int | None = None  # hard limit
    essential: bool = True
    logs: AwsLogs | None = None


@dataclass(frozen=True)
class TaskSpec:
    """What to run: one task, all of its containers."""

    task_arn: str
    task_id: str  # the last part of the ARN; names containers, log streams, pid files
    cluster_arn: str
    task_definition_arn: str
    containers: list[ContainerSpec]
    cpu: int | None = None
    memory_mib: int | None = None
    network_mode: str | None = None  # "none", "host", a Docker network (egress profiles)
    timeout_seconds: float | None = None  # batchyard extension; None = no limit


@dataclass(frozen=True)
class ContainerExit:
    name: str
    exit_code: int | None
    reason: str | None = None  # e.g. "OutOfMemoryError: Container killed due to memory usage"


@dataclass(frozen=True)
class TaskExit:
    """How a task ended on its backend."""

    containers: list[ContainerExit]
    started_at: datetime | None
    stopped_at: datetime
    # None: the containers ended by themselves (the service derives EssentialContainerExited);
    # otherwise ECS's stopCode and stoppedReason, e.g. ("UserInitiated", "Task stopped by user").
    stop_code: str | None = None
    stopped_reason: str | None = None


class StartFailure(Exception):
    """The task could not start; ``reason`` is ECS's ``stoppedReason`` text, verbatim."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LogSink(Protocol):
    """Where container output goes: ``batchyard.logs.LogStore`` has this shape.

    ``create_log_stream`` raises an exception named ``ResourceNotFoundException`` for a
    missing group and ``ResourceAlreadyExistsException`` for an existing stream (matched by
    name: runners do not import ``logs``), as ``LogStore`` does.
    """

    def put_log_events(
        self, group: str, stream: str, events: list[dict[str, object]]
    ) -> object: ...

    def create_log_group(self, name: str) -> None: ...

    def create_log_stream(self, group: str, stream: str) -> None: ...


class RunningTask(Protocol):
    """A task started (or re-attached to) on a backend."""

    @property
    def started_at(self) -> datetime: ...

    def wait(self, timeout: float | None = None) -> TaskExit | None:
        """The task's end; None if it is still running after ``timeout`` seconds."""
        ...

    def stop(self, reason: str = "Task stopped by user") -> None:
        """Ask the task to stop (SIGTERM, then SIGKILL after a grace period); ``wait`` reports
        ``stop_code="UserInitiated"`` with ``reason``."""
        ...


class Runner(Protocol):
    """A backend that runs tasks: ``local``, ``docker``, ``ecs``."""

    name: str

    def start(self, spec: TaskSpec, logs: LogSink | None) -> RunningTask:
        """Start the task, or re-attach to it if the backend already runs it.

        Returns once every container has started (the task is RUNNING); raises
        :class:`StartFailure` when it cannot start. Container output is shipped to ``logs``
        by the awslogs rules until the task ends.
        """
        ...

    def close(self) -> None:
        """Release clients and threads (running tasks keep running on the backend)."""
        ...

    def forget(self, task_id: str) -> None:
        """Drop what the runner keeps of an ended task (its recorded exit, state files), once
        the caller has stored the exit itself; a later ``start`` would run the task again."""
        ...

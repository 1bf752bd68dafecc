"""The tables of batchyard's durable state, in SQLAlchemy Core.

Design rules, shared by every table:

* Column names equal the field names of the record dataclasses in :mod:`.records`, so a row maps
  to a record with ``Record(**row._mapping)`` and back without a hand-written mapping.
* Instants are stored as integer epoch milliseconds (:class:`UtcMillis`): the precision AWS
  reports, exact, portable, and they compare correctly as numbers (SQLite has no real timestamp
  type). Records see timezone-aware UTC ``datetime`` objects.
* Exactly-once is structural: unique keys (execution name, ``(execution_arn, id)`` of history
  events, ``(execution_arn, key)`` of timers, ``(kind, key)`` of work items) and conditional
  updates on ``version`` columns, never check-then-act.
* JSON texts that AWS hands back verbatim (definitions, inputs, outputs) are ``Text``: stored as
  given, byte for byte. Structured configuration is ``JSON``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcMillis(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime`` stored as epoch milliseconds (``BIGINT``)."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_millis(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return from_millis(value)


def to_millis(moment: datetime) -> int:
    """Epoch milliseconds of an aware ``datetime`` (naive values are refused: they are bugs)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the store needs timezone-aware instants")
    return round(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


ARN = sa.String(2048)
NAME = sa.String(256)
STATUS = sa.String(32)


def _stamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created", UtcMillis(), nullable=False),
        sa.Column("updated", UtcMillis(), nullable=False),
    ]


state_machines = sa.Table(
    "state_machines",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("type", STATUS, nullable=False),  # STANDARD | EXPRESS
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("role_arn", ARN, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("logging_configuration", sa.JSON, nullable=True),
    sa.Column("tracing_configuration", sa.JSON, nullable=True),
    sa.Column("encryption_configuration", sa.JSON, nullable=True),
    sa.Column("status", STATUS, nullable=False),  # ACTIVE | DELETING
    sa.Column("revision_id", NAME, nullable=False),
    # Highest version number ever published: AWS never reuses a version number, even after
    # the version is deleted, so the counter cannot be max(version).
    sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),  # optimistic lock
    *_stamps(),
)

# Every definition an execution may run, by revision: executions point here instead of copying
# the definition, and DescribeStateMachineForExecution reads it back after later updates.
state_machine_revisions = sa.Table(
    "state_machine_revisions",
    metadata,
    sa.Column("state_machine_arn", ARN, primary_key=True),
    sa.Column("revision_id", NAME, primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("role_arn", ARN, nullable=False),
    sa.Column("logging_configuration", sa.JSON, nullable=True),
    sa.Column("tracing_configuration", sa.JSON, nullable=True),
    sa.Column("encryption_configuration", sa.JSON, nullable=True),
    sa.Column("created", UtcMillis(), nullable=False),
)

state_machine_versions = sa.Table(
    "state_machine_versions",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    sa.Column(
        "state_machine_arn",
        ARN,
        sa.ForeignKey("state_machines.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version_number", sa.Integer, nullable=False),
    sa.Column("revision_id", NAME, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created", UtcMillis(), nullable=False),
    sa.UniqueConstraint("state_machine_arn", "version_number"),
)

state_machine_aliases = sa.Table(
    "state_machine_aliases",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    sa.Column(
        "state_machine_arn",
        ARN,
        sa.ForeignKey("state_machines.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", NAME, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    # [{"stateMachineVersionArn": ..., "weight": ...}], as the API takes it.
    sa.Column("routing_configuration", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    *_stamps(),
    sa.UniqueConstraint("state_machine_arn", "name"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    # No foreign key: executions outlive the deletion of their state machine, as on AWS.
    sa.Column("state_machine_arn", ARN, nullable=False),
    sa.Column("state_machine_version_arn", ARN, nullable=True),
    sa.Column("state_machine_alias_arn", ARN, nullable=True),
    sa.Column("revision_id", NAME, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("type", STATUS, nullable=False),
    sa.Column("status", STATUS, nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("cause", sa.Text, nullable=True),
    sa.Column("start_date", UtcMillis(), nullable=False),
    sa.Column("stop_date", UtcMillis(), nullable=True),
    sa.Column("redrive_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("redrive_date", UtcMillis(), nullable=True),
    sa.Column("redrive_status", STATUS, nullable=True),
    sa.Column("parent_execution_arn", ARN, nullable=True),
    sa.Column("map_run_arn", ARN, nullable=True),
    sa.Column("trace_header", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    *_stamps(),
    # ListExecutions: newest first within a state machine, optionally by status.
    sa.Index("ix_executions_sm_start", "state_machine_arn", "start_date"),
    sa.Index("ix_executions_sm_status_start", "state_machine_arn", "status", "start_date"),
    sa.Index("ix_executions_map_run_start", "map_run_arn", "start_date"),
    sa.Index("ix_executions_parent", "parent_execution_arn"),
    # STANDARD names are unique per state machine (StartExecution idempotency rests on it);
    # EXPRESS names may repeat, as on AWS, so the unique index is partial.
    sa.Index(
        "uq_executions_standard_name",
        "state_machine_arn",
        "name",
        unique=True,
        sqlite_where=sa.text("type = 'STANDARD'"),
        postgresql_where=sa.text("type = 'STANDARD'"),
    ),
)

history_events = sa.Table(
    "history_events",
    metadata,
    sa.Column(
        "execution_arn",
        ARN,
        sa.ForeignKey("executions.arn", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The primary key (execution_arn, id) is what makes a duplicated history event impossible.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("previous_event_id", sa.Integer, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("timestamp", UtcMillis(), nullable=False),
    sa.Column("details", sa.JSON, nullable=True),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column(
        "execution_arn",
        ARN,
        sa.ForeignKey("executions.arn", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", NAME, primary_key=True),
    sa.Column("fire_at", UtcMillis(), nullable=False),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Index("ix_timers_fire_at", "fire_at"),
)

task_tokens = sa.Table(
    "task_tokens",
    metadata,
    sa.Column("token", sa.String(1024), primary_key=True),
    sa.Column(
        "execution_arn",
        ARN,
        sa.ForeignKey("executions.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("state_name", NAME, nullable=False),
    sa.Column("scheduled_event_id", sa.Integer, nullable=False),
    sa.Column("status", STATUS, nullable=False),  # WAITING | SUCCEEDED | FAILED | TIMED_OUT ...
    sa.Column("heartbeat_seconds", sa.Integer, nullable=True),
    sa.Column("heartbeat_deadline", UtcMillis(), nullable=True),
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("cause", sa.Text, nullable=True),
    *_stamps(),
    sa.Index("ix_task_tokens_execution", "execution_arn"),
    sa.Index("ix_task_tokens_status_heartbeat", "status", "heartbeat_deadline"),
)

activities = sa.Table(
    "activities",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("encryption_configuration", sa.JSON, nullable=True),
    sa.Column("created", UtcMillis(), nullable=False),
)

activity_tasks = sa.Table(
    "activity_tasks",
    metadata,
    sa.Column(
        "task_token",
        sa.String(1024),
        sa.ForeignKey("task_tokens.token", ondelete="CASCADE"),
        primary_key=True,
    ),
    # No foreign key to activities: a task scheduled for a deleted activity simply never
    # gets polled, which is what AWS does.
    sa.Column("activity_arn", ARN, nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("status", STATUS, nullable=False),  # QUEUED | DELIVERED
    sa.Column("worker_name", NAME, nullable=True),
    sa.Column("queued_at", UtcMillis(), nullable=False),
    sa.Column("delivered_at", UtcMillis(), nullable=True),
    sa.Index("ix_activity_tasks_poll", "activity_arn", "status", "queued_at"),
)

map_runs = sa.Table(
    "map_runs",
    metadata,
    sa.Column("arn", ARN, primary_key=True),
    sa.Column(
        "execution_arn",
        ARN,
        sa.ForeignKey("executions.arn", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("state_name", NAME, nullable=False),
    sa.Column("status", STATUS, nullable=False),  # RUNNING | SUCCEEDED | FAILED | ABORTED
    sa.Column("max_concurrency", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tolerated_failure_percentage", sa.Float, nullable=False, server_default="0"),
    sa.Column("tolerated_failure_count", sa.Integer, nullable=False, server_default="0"),
    # {"pending": .., "running": .., "succeeded": .., "failed": .., "timedOut": .., "aborted":
    #  .., "total": .., "resultsWritten": .., "failuresNotRedrivable": .., ...} as AWS names them.
    sa.Column("item_counts", sa.JSON, nullable=False),
    sa.Column("execution_counts", sa.JSON, nullable=False),
    sa.Column("start_date", UtcMillis(), nullable=False),
    sa.Column("stop_date", UtcMillis(), nullable=True),
    sa.Column("redrive_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("redrive_date", UtcMillis(), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    *_stamps(),
    sa.Index("ix_map_runs_execution", "execution_arn"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("resource_arn", ARN, primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

# Generic leased work: "run execution X", "fire schedule slot Y", ... One row per (kind, key), so
# enqueueing twice is harmless. lease_version is a fencing token: it grows on every claim, and
# every write by a lease holder is conditional on it, so a holder whose lease was taken over can
# no longer write. ``signal`` counts wake-ups, so a wake-up that arrives while the item is held is
# never lost when the holder releases it.
work = sa.Table(
    "work",
    metadata,
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("key", ARN, primary_key=True),
    sa.Column("payload", sa.JSON, nullable=True),
    sa.Column("available_at", UtcMillis(), nullable=False),
    sa.Column("lease_owner", NAME, nullable=True),
    sa.Column("lease_expires", UtcMillis(), nullable=True),
    sa.Column("lease_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("signal", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    *_stamps(),
    sa.Index("ix_work_kind_available", "kind", "available_at"),
)

# The durable engine's journal (``batchyard.engine.journal``): an execution *is* its ordered
# interpreter inputs; ``(execution_arn, seq)`` as primary key fences out a second writer.
engine_inputs = sa.Table(
    "engine_inputs",
    metadata,
    sa.Column("execution_arn", ARN, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text, nullable=False),
)

# Messages for an execution from outside (SendTaskSuccess, a child ending), consumed by its runner.
engine_inbox = sa.Table(
    "engine_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("execution_arn", ARN, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_engine_inbox_execution", "execution_arn", "id"),
)

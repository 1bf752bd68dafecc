"""Initial schema: state machines, executions, history, timers, callbacks, map runs, tags, work

Revision ID: 0001
Revises:

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "activities",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("encryption_configuration", sa.JSON(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_activities")),
    )
    op.create_table(
        "executions",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("state_machine_arn", sa.String(length=2048), nullable=False),
        sa.Column("state_machine_version_arn", sa.String(length=2048), nullable=True),
        sa.Column("state_machine_alias_arn", sa.String(length=2048), nullable=True),
        sa.Column("revision_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("start_date", sa.BigInteger(), nullable=False),
        sa.Column("stop_date", sa.BigInteger(), nullable=True),
        sa.Column("redrive_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("redrive_date", sa.BigInteger(), nullable=True),
        sa.Column("redrive_status", sa.String(length=32), nullable=True),
        sa.Column("parent_execution_arn", sa.String(length=2048), nullable=True),
        sa.Column("map_run_arn", sa.String(length=2048), nullable=True),
        sa.Column("trace_header", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_executions")),
    )
    op.create_index(
        "ix_executions_map_run_start", "executions", ["map_run_arn", "start_date"], unique=False
    )
    op.create_index("ix_executions_parent", "executions", ["parent_execution_arn"], unique=False)
    op.create_index(
        "ix_executions_sm_start", "executions", ["state_machine_arn", "start_date"], unique=False
    )
    op.create_index(
        "ix_executions_sm_status_start",
        "executions",
        ["state_machine_arn", "status", "start_date"],
        unique=False,
    )
    op.create_index(
        "uq_executions_standard_name",
        "executions",
        ["state_machine_arn", "name"],
        unique=True,
        sqlite_where=sa.text("type = 'STANDARD'"),
        postgresql_where=sa.text("type = 'STANDARD'"),
    )

    op.create_table(
        "state_machine_revisions",
        sa.Column("state_machine_arn", sa.String(length=2048), nullable=False),
        sa.Column("revision_id", sa.String(length=256), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("role_arn", sa.String(length=2048), nullable=False),
        sa.Column("logging_configuration", sa.JSON(), nullable=True),
        sa.Column("tracing_configuration", sa.JSON(), nullable=True),
        sa.Column("encryption_configuration", sa.JSON(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "state_machine_arn", "revision_id", name=op.f("pk_state_machine_revisions")
        ),
    )
    op.create_table(
        "state_machines",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("role_arn", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("logging_configuration", sa.JSON(), nullable=True),
        sa.Column("tracing_configuration", sa.JSON(), nullable=True),
        sa.Column("encryption_configuration", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("revision_id", sa.String(length=256), nullable=False),
        sa.Column("last_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_state_machines")),
    )
    op.create_table(
        "tags",
        sa.Column("resource_arn", sa.String(length=2048), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("resource_arn", "key", name=op.f("pk_tags")),
    )
    op.create_table(
        "work",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=2048), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("available_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=256), nullable=True),
        sa.Column("lease_expires", sa.BigInteger(), nullable=True),
        sa.Column("lease_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("signal", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_work")),
    )
    op.create_index("ix_work_kind_available", "work", ["kind", "available_at"], unique=False)

    op.create_table(
        "history_events",
        sa.Column("execution_arn", sa.String(length=2048), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("previous_event_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_arn"],
            ["executions.arn"],
            name=op.f("fk_history_events_execution_arn_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_arn", "id", name=op.f("pk_history_events")),
    )
    op.create_table(
        "map_runs",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("execution_arn", sa.String(length=2048), nullable=False),
        sa.Column("state_name", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("max_concurrency", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tolerated_failure_percentage", sa.Float(), server_default="0", nullable=False),
        sa.Column("tolerated_failure_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("item_counts", sa.JSON(), nullable=False),
        sa.Column("execution_counts", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.BigInteger(), nullable=False),
        sa.Column("stop_date", sa.BigInteger(), nullable=True),
        sa.Column("redrive_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("redrive_date", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_arn"],
            ["executions.arn"],
            name=op.f("fk_map_runs_execution_arn_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_map_runs")),
    )
    op.create_index("ix_map_runs_execution", "map_runs", ["execution_arn"], unique=False)

    op.create_table(
        "state_machine_aliases",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("state_machine_arn", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("routing_configuration", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["state_machine_arn"],
            ["state_machines.arn"],
            name=op.f("fk_state_machine_aliases_state_machine_arn_state_machines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_state_machine_aliases")),
        sa.UniqueConstraint(
            "state_machine_arn",
            "name",
            name=op.f("uq_state_machine_aliases_state_machine_arn_name"),
        ),
    )
    op.create_table(
        "state_machine_versions",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("state_machine_arn", sa.String(length=2048), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["state_machine_arn"],
            ["state_machines.arn"],
            name=op.f("fk_state_machine_versions_state_machine_arn_state_machines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_state_machine_versions")),
        sa.UniqueConstraint(
            "state_machine_arn",
            "version_number",
            name=op.f("uq_state_machine_versions_state_machine_arn_version_number"),
        ),
    )
    op.create_table(
        "task_tokens",
        sa.Column("token", sa.String(length=1024), nullable=False),
        sa.Column("execution_arn", sa.String(length=2048), nullable=False),
        sa.Column("state_name", sa.String(length=256), nullable=False),
        sa.Column("scheduled_event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("heartbeat_seconds", sa.Integer(), nullable=True),
        sa.Column("heartbeat_deadline", sa.BigInteger(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_arn"],
            ["executions.arn"],
            name=op.f("fk_task_tokens_execution_arn_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_task_tokens")),
    )
    op.create_index("ix_task_tokens_execution", "task_tokens", ["execution_arn"], unique=False)
    op.create_index(
        "ix_task_tokens_status_heartbeat",
        "task_tokens",
        ["status", "heartbeat_deadline"],
        unique=False,
    )

    op.create_table(
        "timers",
        sa.Column("execution_arn", sa.String(length=2048), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("fire_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_arn"],
            ["executions.arn"],
            name=op.f("fk_timers_execution_arn_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_arn", "key", name=op.f("pk_timers")),
    )
    op.create_index("ix_timers_fire_at", "timers", ["fire_at"], unique=False)

    op.create_table(
        "activity_tasks",
        sa.Column("task_token", sa.String(length=1024), nullable=False),
        sa.Column("activity_arn", sa.String(length=2048), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("worker_name", sa.String(length=256), nullable=True),
        sa.Column("queued_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_token"],
            ["task_tokens.token"],
            name=op.f("fk_activity_tasks_task_token_task_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_token", name=op.f("pk_activity_tasks")),
    )
    op.create_index(
        "ix_activity_tasks_poll",
        "activity_tasks",
        ["activity_arn", "status", "queued_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_activity_tasks_poll", table_name="activity_tasks")

    op.drop_table("activity_tasks")
    op.drop_index("ix_timers_fire_at", table_name="timers")

    op.drop_table("timers")
    op.drop_index("ix_task_tokens_status_heartbeat", table_name="task_tokens")
    op.drop_index("ix_task_tokens_execution", table_name="task_tokens")

    op.drop_table("task_tokens")
    op.drop_table("state_machine_versions")
    op.drop_table("state_machine_aliases")
    op.drop_index("ix_map_runs_execution", table_name="map_runs")

    op.drop_table("map_runs")
    op.drop_table("history_events")
    op.drop_index("ix_work_kind_available", table_name="work")

    op.drop_table("work")
    op.drop_table("tags")
    op.drop_table("state_machines")
    op.drop_table("state_machine_revisions")
    op.drop_index(
        "uq_executions_standard_name",
        table_name="executions",
        sqlite_where=sa.text("type = 'STANDARD'"),
        postgresql_where=sa.text("type = 'STANDARD'"),
    )
    op.drop_index("ix_executions_sm_status_start", table_name="executions")
    op.drop_index("ix_executions_sm_start", table_name="executions")
    op.drop_index("ix_executions_parent", table_name="executions")
    op.drop_index("ix_executions_map_run_start", table_name="executions")

    op.drop_table("executions")
    op.drop_table("activities")

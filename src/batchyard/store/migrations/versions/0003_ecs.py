"""ECS clusters, task definitions and tasks (owned by the ECS service)

Revision ID: 0003
Revises: 0002

The tables are declared in ``batchyard.ecs.tables``; this revision creates exactly those.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from batchyard.store.schema import UtcMillis

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ecs_clusters",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created", UtcMillis(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ecs_clusters")),
    )
    op.create_table(
        "ecs_task_definitions",
        sa.Column("family", sa.String(length=256), nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("launches", sa.Integer(), server_default="0", nullable=False),
        sa.Column("registered", UtcMillis(), nullable=False),
        sa.PrimaryKeyConstraint("family", "revision", name=op.f("pk_ecs_task_definitions")),
    )
    op.create_index("ix_ecs_task_definitions_arn", "ecs_task_definitions", ["arn"], unique=True)
    op.create_table(
        "ecs_tasks",
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("cluster", sa.String(length=256), nullable=False),
        sa.Column("family", sa.String(length=256), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=True),
        sa.Column("desired_status", sa.String(length=32), nullable=False),
        sa.Column("last_status", sa.String(length=32), nullable=False),
        sa.Column("created", UtcMillis(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("launch_number", sa.Integer(), nullable=True),
        sa.Column("waiter", sa.Text(), nullable=True),
        sa.Column("delivered", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("arn", name=op.f("pk_ecs_tasks")),
    )
    op.create_index("ix_ecs_tasks_task_id", "ecs_tasks", ["task_id"], unique=True)
    op.create_index(
        "ix_ecs_tasks_cluster_created", "ecs_tasks", ["cluster", "created"], unique=False
    )
    op.create_table(
        "ecs_run_requests",
        sa.Column("cluster", sa.String(length=256), nullable=False),
        sa.Column("client_token", sa.String(length=64), nullable=False),
        sa.Column("task_arns", sa.JSON(), nullable=False),
        sa.Column("created", UtcMillis(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", "client_token", name=op.f("pk_ecs_run_requests")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("ecs_run_requests")
    op.drop_index("ix_ecs_tasks_cluster_created", table_name="ecs_tasks")
    op.drop_index("ix_ecs_tasks_task_id", table_name="ecs_tasks")
    op.drop_table("ecs_tasks")
    op.drop_index("ix_ecs_task_definitions_arn", table_name="ecs_task_definitions")
    op.drop_table("ecs_task_definitions")
    op.drop_table("ecs_clusters")

"""EventBridge Scheduler schedules, groups and slots (owned by scheduler/)

Revision ID: 0005
Revises: 0004

The tables are declared in ``batchyard.scheduler.tables``; this revision creates them as
declared there (instants are epoch-millisecond ``BIGINT``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ARN = sa.String(length=2048)
_NAME = sa.String(length=256)
_STATUS = sa.String(length=32)
_ID = sa.String(length=64)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "scheduler_groups",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("arn", _ARN, nullable=False),
        sa.Column("state", _STATUS, nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_groups")),
    )
    op.create_table(
        "schedules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_name", _NAME, nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("arn", _ARN, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("expression", sa.String(length=256), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.BigInteger(), nullable=True),
        sa.Column("end_date", sa.BigInteger(), nullable=True),
        sa.Column("state", _STATUS, nullable=False),
        sa.Column("flexible_window", sa.JSON(), nullable=False),
        sa.Column("action_after_completion", _STATUS, nullable=False),
        sa.Column("kms_key_arn", _ARN, nullable=True),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("anchor", sa.BigInteger(), nullable=False),
        sa.Column("next_slot", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("group_name", "name", name=op.f("uq_schedules_group_name_name")),
    )
    op.create_index("ix_schedules_due", "schedules", ["state", "next_slot"], unique=False)
    op.create_table(
        "scheduler_slots",
        sa.Column("schedule_id", _ID, nullable=False),
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("schedule_arn", _ARN, nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("available_at", sa.BigInteger(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("target_ref", _ARN, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("settled", sa.BigInteger(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "slot", name=op.f("pk_scheduler_slots")),
    )
    op.create_index(
        "ix_scheduler_slots_claimable", "scheduler_slots", ["status", "available_at"], unique=False
    )
    op.create_index(
        "ix_scheduler_slots_arn", "scheduler_slots", ["schedule_arn", "slot"], unique=False
    )
    op.create_table(
        "scheduler_dead_letters",
        sa.Column("id", _ID, nullable=False),
        sa.Column("queue_arn", _ARN, nullable=False),
        sa.Column("schedule_arn", _ARN, nullable=False),
        sa.Column("schedule_id", _ID, nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("replayed", sa.BigInteger(), nullable=True),
        sa.Column("replay_ref", _ARN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_dead_letters")),
        sa.UniqueConstraint(
            "schedule_id", "slot", name=op.f("uq_scheduler_dead_letters_schedule_id_slot")
        ),
    )
    op.create_index(
        "ix_scheduler_dead_letters_queue",
        "scheduler_dead_letters",
        ["queue_arn", "created"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_scheduler_dead_letters_queue", table_name="scheduler_dead_letters")
    op.drop_table("scheduler_dead_letters")
    op.drop_index("ix_scheduler_slots_arn", table_name="scheduler_slots")
    op.drop_index("ix_scheduler_slots_claimable", table_name="scheduler_slots")
    op.drop_table("scheduler_slots")
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.drop_table("schedules")
    op.drop_table("scheduler_groups")

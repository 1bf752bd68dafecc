"""The engine's journal: engine_inputs and engine_inbox

Revision ID: 0002
Revises: 0001

Before this revision the engine created these two tables itself (``metadata.create_all``) when
it started, so a database at ``0001`` may already hold them, with rows worth keeping: they are
created only when absent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exists(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    """Upgrade schema."""
    if not _exists("engine_inputs"):
        op.create_table(
            "engine_inputs",
            sa.Column("execution_arn", sa.String(length=2048), nullable=False),
            sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("execution_arn", "seq", name=op.f("pk_engine_inputs")),
        )
    if not _exists("engine_inbox"):
        op.create_table(
            "engine_inbox",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("execution_arn", sa.String(length=2048), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_inbox")),
        )
        op.create_index(
            "ix_engine_inbox_execution", "engine_inbox", ["execution_arn", "id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_engine_inbox_execution", table_name="engine_inbox")
    op.drop_table("engine_inbox")
    op.drop_table("engine_inputs")

"""Lambda-compatible functions (owned by functions/)

Revision ID: 0004
Revises: 0003

``lambda_functions``: one row per function (configuration as JSON, code hash, revision id);
``lambda_code``: zip archives by SHA-256, in the database so that every replica can run them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "lambda_functions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("revision_id", sa.String(length=36), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("last_modified", sa.BigInteger(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lambda_functions")),
    )
    op.create_table(
        "lambda_code",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("zip", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_lambda_code")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("lambda_code")
    op.drop_table("lambda_functions")

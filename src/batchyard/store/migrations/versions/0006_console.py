"""the web console's saved queries and sessions (owned by web/)

Revision ID: 0006
Revises: 0005

Sessions are signed cookies (no table); saved Logs Insights queries live here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "console_saved_queries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("log_groups", sa.Text(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_saved_queries")),
        sa.UniqueConstraint("name", name=op.f("uq_console_saved_queries_name")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("console_saved_queries")

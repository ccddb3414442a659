"""Usage per key and day, where a key was last used from, and assistant activity.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("last_used_ip", sa.String(length=45), nullable=True))
        batch.add_column(sa.Column("last_used_user_agent", sa.String(length=512), nullable=True))
    op.create_table(
        "key_usage_days",
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_key_usage_days_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_key_usage_days_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("api_key_id", "day", name=op.f("pk_key_usage_days")),
    )
    op.create_index(
        op.f("ix_key_usage_days_account_id"), "key_usage_days", ["account_id"], unique=False
    )
    op.create_table(
        "mcp_tool_calls",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_mcp_tool_calls_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_mcp_tool_calls_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_tool_calls")),
    )
    op.create_index(
        "ix_mcp_tool_calls_connection_called",
        "mcp_tool_calls",
        ["connection_id", "called_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_mcp_tool_calls_called_at"), "mcp_tool_calls", ["called_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("mcp_tool_calls")
    op.drop_index(op.f("ix_key_usage_days_account_id"), table_name="key_usage_days")
    op.drop_table("key_usage_days")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_user_agent")
        batch.drop_column("last_used_ip")

"""Key lifecycle: which key a rolled key replaces, and why a key was revoked.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("rolled_from_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("revoked_reason", sa.String(length=2100), nullable=True))
        batch.create_foreign_key(
            "fk_api_keys_rolled_from_id_api_keys", "api_keys", ["rolled_from_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_rolled_from_id_api_keys", type_="foreignkey")
        batch.drop_column("revoked_reason")
        batch.drop_column("rolled_from_id")

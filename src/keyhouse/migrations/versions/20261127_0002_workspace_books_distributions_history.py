"""Workspace: target books, distributions, retrievals, ownership history; reps join books.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "target_books",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("max_capacity", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_target_books_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_books")),
    )
    with op.batch_alter_table("target_books", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_target_books_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_target_books_feed", ["account_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_target_books_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "retrievals",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("from_rep_ids", sa.JSON(), nullable=True),
        sa.Column("from_book_id", sa.Uuid(), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("max_accounts", sa.Integer(), nullable=True),
        sa.Column("moved_count", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_retrievals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["from_book_id"],
            ["target_books.id"],
            name=op.f("fk_retrievals_from_book_id_target_books"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrievals")),
    )
    with op.batch_alter_table("retrievals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retrievals_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            "ix_retrievals_feed", ["account_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_retrievals_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "distributions",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_rep_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_rep_ids", sa.JSON(), nullable=True),
        sa.Column("recipient_book_id", sa.Uuid(), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("amount_per_rep", sa.Integer(), nullable=True),
        sa.Column("set_fields", sa.JSON(), nullable=False),
        sa.Column("created_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ran_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("moved_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_distributions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_book_id"],
            ["target_books.id"],
            name=op.f("fk_distributions_recipient_book_id_target_books"),
        ),
        sa.ForeignKeyConstraint(
            ["source_rep_id"], ["reps.id"], name=op.f("fk_distributions_source_rep_id_reps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distributions")),
    )
    with op.batch_alter_table("distributions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_distributions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_distributions_feed", ["account_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_distributions_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "ownership_changes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("crm_account_id", sa.Uuid(), nullable=False),
        sa.Column("from_rep_id", sa.Uuid(), nullable=True),
        sa.Column("to_rep_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("distribution_id", sa.Uuid(), nullable=True),
        sa.Column("retrieval_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ownership_changes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["crm_account_id"],
            ["crm_accounts.id"],
            name=op.f("fk_ownership_changes_crm_account_id_crm_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["distributions.id"],
            name=op.f("fk_ownership_changes_distribution_id_distributions"),
        ),
        sa.ForeignKeyConstraint(
            ["from_rep_id"], ["reps.id"], name=op.f("fk_ownership_changes_from_rep_id_reps")
        ),
        sa.ForeignKeyConstraint(
            ["retrieval_id"],
            ["retrievals.id"],
            name=op.f("fk_ownership_changes_retrieval_id_retrievals"),
        ),
        sa.ForeignKeyConstraint(
            ["to_rep_id"], ["reps.id"], name=op.f("fk_ownership_changes_to_rep_id_reps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownership_changes")),
    )
    with op.batch_alter_table("ownership_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ownership_changes_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ownership_changes_distribution_id"), ["distribution_id"], unique=False
        )
        batch_op.create_index(
            "ix_ownership_changes_history",
            ["account_id", "crm_account_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ownership_changes_retrieval_id"), ["retrieval_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ownership_changes_updated_at"), ["updated_at"], unique=False
        )

    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_book_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_reps_target_book_id"), ["target_book_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reps_target_book_id_target_books"),
            "target_books",
            ["target_book_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reps_target_book_id_target_books"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_reps_target_book_id"))
        batch_op.drop_column("target_book_id")

    with op.batch_alter_table("ownership_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ownership_changes_updated_at"))
        batch_op.drop_index(batch_op.f("ix_ownership_changes_retrieval_id"))
        batch_op.drop_index("ix_ownership_changes_history")
        batch_op.drop_index(batch_op.f("ix_ownership_changes_distribution_id"))
        batch_op.drop_index(batch_op.f("ix_ownership_changes_account_id"))

    op.drop_table("ownership_changes")
    with op.batch_alter_table("distributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distributions_updated_at"))
        batch_op.drop_index("ix_distributions_feed")
        batch_op.drop_index(batch_op.f("ix_distributions_account_id"))

    op.drop_table("distributions")
    with op.batch_alter_table("retrievals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retrievals_updated_at"))
        batch_op.drop_index("ix_retrievals_feed")
        batch_op.drop_index(batch_op.f("ix_retrievals_account_id"))

    op.drop_table("retrievals")
    with op.batch_alter_table("target_books", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_target_books_updated_at"))
        batch_op.drop_index("ix_target_books_feed")
        batch_op.drop_index(batch_op.f("ix_target_books_account_id"))

    op.drop_table("target_books")

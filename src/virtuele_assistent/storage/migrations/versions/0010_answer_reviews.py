"""answer reviews

Revision ID: 0010_answer_reviews
Revises: 0009_staff_sessions

Staff judge an answer in the portal's conversation review: fine, incomplete or wrong, with a short
note; one mark per answer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_answer_reviews"
down_revision: str | None = "0009_staff_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_answer_reviews_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_answer_reviews_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_answer_reviews_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_reviews")),
        sa.UniqueConstraint("message_id", name=op.f("uq_answer_reviews_message_id")),
    )
    op.create_index(op.f("ix_answer_reviews_tenant_id"), "answer_reviews", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_answer_reviews_conversation_id"), "answer_reviews", ["conversation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_answer_reviews_conversation_id"), table_name="answer_reviews")
    op.drop_index(op.f("ix_answer_reviews_tenant_id"), table_name="answer_reviews")
    op.drop_table("answer_reviews")

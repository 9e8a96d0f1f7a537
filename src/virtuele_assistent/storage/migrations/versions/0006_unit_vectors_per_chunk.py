"""unit vectors go with the chunk they were embedded for

Revision ID: 0006_unit_vectors_per_chunk
Revises: 0005_unit_vectors

The table is a cache: it is emptied and made anew with a ``chunk_id`` (ON DELETE CASCADE), so vectors
of changed or removed pages and of deleted tenants no longer stay behind. Units are embedded again on
their next use.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_unit_vectors_per_chunk"
down_revision: str | None = "0005_unit_vectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("unit_vectors")
    op.create_table(
        "unit_vectors",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("chunk_id", sa.String(length=36), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chunk_id"], ["chunks.id"], name=op.f("fk_unit_vectors_chunk_id_chunks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_unit_vectors")),
    )
    op.create_index(op.f("ix_unit_vectors_chunk_id"), "unit_vectors", ["chunk_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_vectors_chunk_id"), table_name="unit_vectors")
    op.drop_table("unit_vectors")
    op.create_table(
        "unit_vectors",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_unit_vectors")),
    )

"""unit vectors: the embeddings of pages' answer units, kept across restarts

Revision ID: 0005_unit_vectors
Revises: 0004_chunk_hash_index
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_unit_vectors"
down_revision: str | None = "0004_chunk_hash_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_vectors",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_unit_vectors")),
    )


def downgrade() -> None:
    op.drop_table("unit_vectors")

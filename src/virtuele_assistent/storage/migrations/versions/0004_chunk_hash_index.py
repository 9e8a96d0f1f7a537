"""index chunks by content hash: the embedding cache looks chunks up by it on every ingest

Revision ID: 0004_chunk_hash_index
Revises: 0003_crawl
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_chunk_hash_index"
down_revision: str | None = "0003_crawl"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_chunks_content_hash"), "chunks", ["content_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chunks_content_hash"), table_name="chunks")

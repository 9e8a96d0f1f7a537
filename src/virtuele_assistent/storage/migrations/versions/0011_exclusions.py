"""pages and passages taken out of the answers

Revision ID: 0011_exclusions
Revises: 0010_answer_reviews

Staff take a page (documents.excluded) or one passage (chunks.excluded) out of the answers without
removing it from the index; the vector store's points carry the same flag in their payload.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_exclusions"
down_revision: str | None = "0010_answer_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("excluded", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("excluded", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_column("excluded")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("excluded")

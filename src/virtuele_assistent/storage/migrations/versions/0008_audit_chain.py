"""the audit log becomes a hash chain; the analyst role

Revision ID: 0008_audit_chain
Revises: 0007_tenant_settings

Every audit entry gets the municipality's slug (kept when the tenant is deleted), the hash of the entry
before it and its own hash. Entries already there are chained in the order they were written, with
secrets in their details masked first; from here on ``va audit verify`` finds an entry edited in the
database. The role ``analist`` (read-only: figures and conversations, no changes) is added beside the
five roles of the first migration.
"""

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from virtuele_assistent.storage.audit_chain import GENESIS, as_json, entry_hash, masked

revision: str = "0008_audit_chain"
down_revision: str | None = "0007_tenant_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant_slug", sa.String(length=63), nullable=True))
        batch_op.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=GENESIS)
        )
        batch_op.add_column(
            sa.Column("entry_hash", sa.String(length=64), nullable=False, server_default=GENESIS)
        )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE audit_log SET tenant_slug = "
            "(SELECT slug FROM tenants WHERE tenants.id = audit_log.tenant_id)"
        )
    )
    audit = sa.table(
        "audit_log",
        *(sa.column(name) for name in ("id", "tenant_slug", "actor", "action", "target_type", "target_id")),
        sa.column("details", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("prev_hash"),
        sa.column("entry_hash"),
    )
    previous = GENESIS
    for row in bind.execute(sa.select(audit).order_by(audit.c.id)).all():
        details = as_json(masked(row.details or {}))
        digest = entry_hash(SimpleNamespace(**{**row._asdict(), "details": details}), previous)
        bind.execute(
            audit.update()
            .where(audit.c.id == row.id)
            .values(details=details, prev_hash=previous, entry_hash=digest)
        )
        previous = digest
    roles = sa.table(
        "roles",
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("permissions", sa.JSON),
    )
    op.bulk_insert(
        roles,
        [
            {
                "name": "analist",
                "description": "Bekijkt cijfers en gesprekken, wijzigt niets",
                "permissions": ["read"],
            }
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM roles WHERE name = 'analist'")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("tenant_slug")

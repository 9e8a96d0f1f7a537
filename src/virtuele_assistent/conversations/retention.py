"""Retention (AVG): conversations are deleted after each tenant's retention period.

``tenant.settings.retention_days`` sets the period per tenant; ``VA_RETENTION_DAYS`` is the
default. Messages, feedback and handover requests go with their conversation (ON DELETE CASCADE).
Run it from the scheduler or with ``va conversations purge``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import utcnow
from virtuele_assistent.storage.repositories import AuditLog, ConversationRepository, TenantRepository
from virtuele_assistent.tenants.settings import TenantSettings, load_tenant_settings

log = structlog.get_logger(__name__)


def retention_days(settings: TenantSettings, default: int) -> int:
    return settings.retention_days or default


def purge_expired(
    db: Database, default_days: int, now: datetime | None = None, dry_run: bool = False
) -> dict[str, tuple[int, int]]:
    """Per tenant slug: (retention days, conversations deleted or, with dry_run, due)."""
    moment = now or utcnow()
    result: dict[str, tuple[int, int]] = {}
    with db.session() as session:
        tenants = [
            (t.id, t.slug, load_tenant_settings(t.settings, t.slug)) for t in TenantRepository(session).list()
        ]
    for tenant_id, slug, settings in tenants:
        days = retention_days(settings, default_days)
        cutoff = moment - timedelta(days=days)
        with db.session() as session:
            conversations = ConversationRepository(session)
            if dry_run:
                count = conversations.count_older_than(tenant_id, cutoff)
            else:
                count = conversations.purge_older_than(tenant_id, cutoff)
                if count:
                    AuditLog(session).record(
                        tenant_id,
                        "retention",
                        "conversation.purge",
                        "conversation",
                        None,
                        {"count": count, "retention_days": days},
                    )
        result[slug] = (days, count)
        if count and not dry_run:
            log.info("retention.purged", tenant=slug, count=count, retention_days=days)
    return result

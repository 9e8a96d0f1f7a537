"""Creating and finding tenants; the only place that turns schemas into tenant rows."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Tenant, utcnow
from virtuele_assistent.storage.repositories import (
    AuditLog,
    DocumentRepository,
    JobRepository,
    TenantRepository,
)
from virtuele_assistent.tenants.schemas import TenantCreate, TenantOut, TenantProfile, TenantUpdate
from virtuele_assistent.tenants.settings import load_tenant_settings

if TYPE_CHECKING:
    from virtuele_assistent.index.store import VectorStore


class TenantExists(ValueError):
    pass


class TenantNotFound(LookupError):
    pass


class TenantBusy(RuntimeError):
    """A worker is crawling for the tenant now; ``job_id`` names the job to cancel or wait for."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def _existing(session: Session, slug: str) -> Tenant:
    tenant = TenantRepository(session).get_by_slug(slug)
    if tenant is None:
        raise TenantNotFound(slug)
    return tenant


def create_tenant(db: Database, data: TenantCreate, actor: str = "system") -> TenantOut:
    with db.session() as session:
        tenants = TenantRepository(session)
        if tenants.get_by_slug(data.slug) is not None:
            raise TenantExists(data.slug)
        tenant = tenants.add(
            Tenant(
                slug=data.slug,
                name=data.name,
                form_of_address=data.form_of_address,
                contact=data.contact.model_dump(mode="json"),
                allowed_origins=list(data.allowed_origins),
                settings=data.settings.stored(),
            )
        )
        AuditLog(session).record(tenant.id, actor, "tenant.create", "tenant", tenant.slug)
        return TenantOut.model_validate(tenant)


def update_tenant(db: Database, slug: str, data: TenantUpdate, actor: str = "system") -> TenantOut:
    with db.session() as session:
        tenant = _existing(session, slug)
        changes = data.model_dump(mode="json", exclude_unset=True, exclude={"settings"})
        before = {field: getattr(tenant, field) for field in changes}
        for field, value in changes.items():
            setattr(tenant, field, value)
        if "settings" in data.model_fields_set:
            current = load_tenant_settings(tenant.settings, slug)
            changes["settings"] = data.settings.model_dump(mode="json", exclude_unset=True)
            everything = current.model_dump(mode="json")
            before["settings"] = {key: everything.get(key) for key in changes["settings"]}
            tenant.settings = current.updated(data.settings).stored()
        # secrets are masked by the audit log itself
        AuditLog(session).record(
            tenant.id, actor, "tenant.update", "tenant", slug, {"before": before, "after": changes}
        )
        session.flush()
        return TenantOut.model_validate(tenant)


def delete_tenant(
    db: Database, store: VectorStore, slug: str, lease_s: float, actor: str = "system"
) -> dict[str, int]:
    """Remove a tenant with all its data: vectors first, then every row in one transaction, so a
    failure half-way leaves a tenant that can be deleted again. Refused (``TenantBusy``) while a
    worker runs a job for it; queued jobs go with the tenant. Returns the rows removed per table and
    the vector points as ``vectors``."""
    with db.session() as session:
        tenant = _existing(session, slug)
        tenant_id = tenant.id
        running = JobRepository(session).running(tenant_id, utcnow() - timedelta(seconds=lease_s))
        if running:
            raise TenantBusy(running[0].id)
    points = store.count(tenant_id)
    store.delete_tenant(tenant_id)
    with db.session() as session:
        counts = TenantRepository(session).delete(tenant_id)
        counts["vectors"] = points
        AuditLog(session).record(None, actor, "tenant.delete", "tenant", slug, counts)
    return counts


def get_profile(db: Database, slug: str) -> TenantProfile:
    with db.session() as session:
        tenant = _existing(session, slug)
        return TenantProfile.model_validate(tenant)


def tenant_details(db: Database, slug: str) -> TenantOut:
    """A tenant as its administrators see it: with its origins and settings."""
    with db.session() as session:
        tenant = _existing(session, slug)
        return TenantOut.model_validate(tenant)


def tenant_counts(db: Database, slug: str) -> dict[str, int]:
    """How much a tenant holds: sources, documents, chunks, conversations and jobs."""
    with db.session() as session:
        return TenantRepository(session).counts(_existing(session, slug).id)


def list_tenants(db: Database) -> list[TenantOut]:
    with db.session() as session:
        return [TenantOut.model_validate(t) for t in TenantRepository(session).list()]


def tenants_without_content(db: Database) -> list[str]:
    """The tenants that have nothing indexed yet: their assistant cannot answer anything."""
    with db.session() as session:
        return list(TenantRepository(session).without_content())


def indexed_documents(db: Database, tenant_id: int) -> int:
    """How many of the tenant's documents are indexed (answer sources)."""
    with db.session() as session:
        return DocumentRepository(session).count_active(tenant_id)

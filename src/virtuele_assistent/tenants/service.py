"""Creating and finding tenants; the only place that turns schemas into tenant rows."""

from __future__ import annotations

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Tenant
from virtuele_assistent.storage.repositories import AuditLog, DocumentRepository, TenantRepository
from virtuele_assistent.tenants.schemas import TenantCreate, TenantOut, TenantProfile, TenantUpdate


class TenantExists(ValueError):
    pass


class TenantNotFound(LookupError):
    pass


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
        tenant = TenantRepository(session).get_by_slug(slug)
        if tenant is None:
            raise TenantNotFound(slug)
        changes = data.model_dump(mode="json", exclude_unset=True)
        for field, value in changes.items():
            setattr(tenant, field, value)
        AuditLog(session).record(tenant.id, actor, "tenant.update", "tenant", slug, changes)
        session.flush()
        return TenantOut.model_validate(tenant)


def get_profile(db: Database, slug: str) -> TenantProfile:
    with db.session() as session:
        tenant = TenantRepository(session).get_by_slug(slug)
        if tenant is None:
            raise TenantNotFound(slug)
        return TenantProfile.model_validate(tenant)


def list_tenants(db: Database) -> list[TenantOut]:
    with db.session() as session:
        return [TenantOut.model_validate(t) for t in TenantRepository(session).list()]


def indexed_documents(db: Database, tenant_id: int) -> int:
    """How many of the tenant's documents are indexed (answer sources)."""
    with db.session() as session:
        return DocumentRepository(session).count_active(tenant_id)

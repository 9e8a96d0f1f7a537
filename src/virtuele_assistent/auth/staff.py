"""A municipality's staff and their roles there: who has which role, adding a staff member (a new
account with a first password, or a role for an existing one), taking a role away. Used by the
portal and the API alike; every change goes into the municipality's audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from virtuele_assistent.auth.users import UserExists, create_user
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import RoleAssignment, User
from virtuele_assistent.storage.repositories import AuditLog, TenantRepository, UserRepository

# the roles a municipality hands out itself (``platform`` is for the installation's operators)
TENANT_ROLES = ("beheerder", "redacteur", "kcc", "analist", "privacy")


class StaffError(ValueError):
    """A change that cannot be made; the message says why, in Dutch."""


class RoleNotHeld(StaffError):
    """The staff member does not have that role at the municipality (or does not exist)."""


@dataclass(frozen=True)
class StaffMember:
    id: int
    email: str
    name: str
    roles: tuple[str, ...]  # at this municipality
    organisation_account: bool  # signs in with the organisation's identity provider (no password)


def _tenant_id(session: Session, slug: str) -> int:
    tenant = TenantRepository(session).get_by_slug(slug)
    if tenant is None:
        raise StaffError(f"Gemeente '{slug}' bestaat niet.")
    return tenant.id


def staff_of(db: Database, slug: str) -> list[StaffMember]:
    """Everyone with a role at the municipality, by name."""
    with db.session() as session:
        tenant_id = _tenant_id(session, slug)
        users = UserRepository(session)
        rows = session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.tenant_id == tenant_id)
            .distinct()
        ).all()
        members = [
            StaffMember(
                user.id,
                user.email,
                user.name,
                tuple(sorted(role for role, scope in users.roles_of(user.id) if scope == tenant_id)),
                user.password_hash is None,
            )
            for user in rows
        ]
    return sorted(members, key=lambda m: ((m.name or m.email).lower(), m.email))


def add_staff(
    db: Database, slug: str, email: str, name: str, role: str, password: str | None, actor: str
) -> StaffMember:
    """Give ``role`` at the municipality to the staff member with this e-mail address; a new account
    needs a first password (at least 12 characters)."""
    email = email.strip().lower()
    if role not in TENANT_ROLES:
        raise StaffError("Kies een rol uit de lijst.")
    if "@" not in email or len(email) > 320:
        raise StaffError("Vul een geldig e-mailadres in.")
    with db.session() as session:
        tenant_id = _tenant_id(session, slug)
        users = UserRepository(session)
        user = users.get_by_email(email)
        if user is not None:
            if user.password_hash is None:
                raise StaffError(
                    "Dit account logt in via de inlogdienst van uw organisatie; de rollen komen uit de "
                    "groepen daar."
                )
            held = [r for r, scope in users.roles_of(user.id) if scope == tenant_id]
            if role in held:
                raise StaffError(f"{email} heeft deze rol al.")
            role_row = users.role(role)
            if role_row is None:
                raise StaffError("Kies een rol uit de lijst.")
            users.assign(user.id, role_row.id, tenant_id)
            change = {"before": sorted(held), "after": sorted([*held, role])}
            AuditLog(session).record(tenant_id, actor, "user.roles", "user", email, change)
            return StaffMember(user.id, user.email, user.name, tuple(sorted([*held, role])), False)
    if not password:
        raise StaffError("Een nieuw account heeft een eerste wachtwoord nodig (minstens 12 tekens).")
    try:
        created = create_user(db, email, password, name=name, roles=[(role, slug)], actor=actor)
    except UserExists:  # made at the same moment by someone else: try again as an existing account
        return add_staff(db, slug, email, name, role, None, actor)
    return StaffMember(created.id, created.email, created.name, (role,), False)


def revoke_role(db: Database, slug: str, user_id: int, role: str, actor_id: int, actor: str) -> None:
    """Take ``role`` at the municipality away from the staff member."""
    with db.session() as session:
        tenant_id = _tenant_id(session, slug)
        users = UserRepository(session)
        user = users.get(user_id)
        role_row = users.role(role)
        held = [r for r, scope in users.roles_of(user_id) if scope == tenant_id] if user else []
        if user is None or role_row is None or role not in held:
            raise RoleNotHeld("Deze medewerker heeft die rol hier niet (meer).")
        if user.password_hash is None:
            raise StaffError(
                "Dit account logt in via de inlogdienst van uw organisatie; haal het daar uit de groep."
            )
        if user_id == actor_id and role == "beheerder":
            raise StaffError("U kunt uw eigen rol als beheerder niet intrekken. Vraag een andere beheerder.")
        session.execute(
            delete(RoleAssignment).where(
                RoleAssignment.user_id == user_id,
                RoleAssignment.role_id == role_row.id,
                RoleAssignment.tenant_id == tenant_id,
            )
        )
        after = sorted(r for r in held if r != role)
        AuditLog(session).record(
            tenant_id, actor, "user.roles", "user", user.email, {"before": sorted(held), "after": after}
        )

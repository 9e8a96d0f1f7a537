"""Staff users: argon2 password hashes and roles per tenant (NULL tenant: the whole platform)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import User
from virtuele_assistent.storage.repositories import AuditLog, TenantRepository, UserRepository
from virtuele_assistent.validation import NAME_PATTERN

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown e-mail address the same.
_DUMMY_HASH = _hasher.hash("no-such-user-dummy-password")


class UserExists(ValueError):
    pass


class UnknownRole(ValueError):
    pass


@dataclass(frozen=True)
class StaffUser:
    id: int
    email: str
    name: str
    # (role name, tenant id or None for the whole platform)
    roles: tuple[tuple[str, int | None], ...] = field(default_factory=tuple)
    has_password: bool = True  # False: signs in with the organisation's identity provider only


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    db: Database,
    email: str,
    password: str,
    name: str = "",
    roles: list[tuple[str, str | None]] | None = None,
    actor: str = "system",
) -> StaffUser:
    """Create a staff user; ``roles`` are (role, tenant slug or None for platform-wide)."""
    email = email.strip().lower()
    if len(password) < 12:
        raise ValueError("Het wachtwoord moet minstens 12 tekens hebben.")
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError("De naam mag geen stuurtekens of tekens voor de schrijfrichting bevatten.")
    with db.session() as session:
        users = UserRepository(session)
        if users.get_by_email(email) is not None:
            raise UserExists(email)
        user = users.add(User(email=email, name=name, password_hash=hash_password(password)))
        tenants = TenantRepository(session)
        scopes: set[int | None] = set()
        for role_name, slug in roles or []:
            role = users.role(role_name)
            if role is None:
                raise UnknownRole(role_name)
            tenant_id = None
            if slug is not None:
                tenant = tenants.get_by_slug(slug)
                if tenant is None:
                    raise LookupError(slug)
                tenant_id = tenant.id
            users.assign(user.id, role.id, tenant_id)
            scopes.add(tenant_id)
        # in the municipality's own log when the account is for one municipality only
        scope = next(iter(scopes)) if len(scopes) == 1 else None
        AuditLog(session).record(scope, actor, "user.create", "user", email, {"roles": roles or []})
        session.flush()
        return _staff(users, user)


def set_password(db: Database, email: str, password: str, actor: str = "system") -> None:
    """Give the staff member a new password (the same rules as for a new account)."""
    if len(password) < 12:
        raise ValueError("Het wachtwoord moet minstens 12 tekens hebben.")
    with db.session() as session:
        user = UserRepository(session).get_by_email(email.strip().lower())
        if user is None:
            raise LookupError(email)
        user.password_hash = hash_password(password)
        AuditLog(session).record(None, actor, "user.password", "user", user.email)


def sync_identity(
    db: Database, email: str, name: str, roles: list[tuple[str, str | None]], actor: str
) -> StaffUser:
    """The staff member signing in with their organisation's account: created on first sign-in
    (without a password), their roles set to ``roles`` (role, tenant slug or None) every time; roles
    for a role or municipality that does not exist are left out. Changes go into the audit log."""
    email = email.strip().lower()
    with db.session() as session:
        users, tenants = UserRepository(session), TenantRepository(session)
        wanted: set[tuple[int, int | None]] = set()
        for role_name, slug in roles:
            role = users.role(role_name)
            tenant = tenants.get_by_slug(slug) if slug is not None else None
            if role is not None and (slug is None or tenant is not None):
                wanted.add((role.id, tenant.id if tenant is not None else None))
        user = users.get_by_email(email)
        log = AuditLog(session)
        if user is None:
            safe_name = name if re.fullmatch(NAME_PATTERN, name) else ""
            user = users.add(User(email=email, name=safe_name[:200], password_hash=None))
            log.record(None, actor, "user.create", "user", email, {"roles": sorted(map(list, roles))})
        elif not user.is_active:
            return _staff(users, user)
        before = sorted(users.roles_of(user.id), key=str)
        users.unassign_all(user.id)
        for role_id, tenant_id in sorted(wanted, key=str):
            users.assign(user.id, role_id, tenant_id)
        session.flush()
        after = sorted(users.roles_of(user.id), key=str)
        if before and before != after:
            log.record(None, actor, "user.roles", "user", email, {"before": before, "after": after})
        return _staff(users, user)


def authenticate(db: Database, email: str, password: str) -> StaffUser | None:
    with db.session() as session:
        users = UserRepository(session)
        user = users.get_by_email(email.strip().lower())
        if user is None or not user.is_active or not user.password_hash:
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(user.password_hash, password):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return _staff(users, user)


def load_user(db: Database, user_id: int) -> StaffUser | None:
    with db.session() as session:
        users = UserRepository(session)
        user = users.get(user_id)
        if user is None or not user.is_active:
            return None
        return _staff(users, user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _staff(users: UserRepository, user: User) -> StaffUser:
    roles = tuple(users.roles_of(user.id))
    return StaffUser(user.id, user.email, user.name, roles, user.password_hash is not None)

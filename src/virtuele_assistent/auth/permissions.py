"""Who may do what: one permission table for every staff route (API and portal).

A role is held for one municipality, or for the whole platform (``platform``, and any role held
without a tenant). Each route declares the one permission it needs (``api.auth.Requires``); a test
walks the router table and checks every role against every route.
"""

from __future__ import annotations

from enum import StrEnum

from virtuele_assistent.auth.users import StaffUser


class Permission(StrEnum):
    TENANTS_MANAGE = "tenants.manage"  # create, list and delete municipalities (platform only)
    PORTAL_VIEW = "portal.view"  # open the municipality in the portal
    SETTINGS_EDIT = "settings.edit"  # change the municipality's settings
    SOURCES_READ = "sources.read"  # see sources, crawl jobs and their pages
    SOURCES_MANAGE = "sources.manage"  # add, change and remove sources; start and cancel crawls
    ANSWERS_MANAGE = "answers.manage"  # fixed answers: write, approve, try and remove them
    HANDOVER_ANSWER = "handover.answer"  # take over conversations from residents
    CONVERSATIONS_EXPORT = "conversations.export"  # export or erase a conversation (data-subject request)
    CONVERSATIONS_READ = "conversations.read"  # find conversations and read their transcripts
    CONVERSATIONS_REVIEW = "conversations.review"  # mark an answer as fine, incomplete or wrong
    AUDIT_READ = "audit.read"  # read and export the audit log
    USERS_MANAGE = "users.manage"  # give staff roles at the municipality and take them away
    SYSTEM_VIEW = "system.view"  # the installation's state and configuration (platform only)


P = Permission
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "platform": frozenset(Permission),
    "beheerder": frozenset(Permission) - {P.TENANTS_MANAGE, P.SYSTEM_VIEW},
    "redacteur": frozenset(
        {
            P.PORTAL_VIEW,
            P.SOURCES_READ,
            P.SOURCES_MANAGE,
            P.CONVERSATIONS_READ,
            P.CONVERSATIONS_REVIEW,
            P.ANSWERS_MANAGE,
        }
    ),
    "kcc": frozenset({P.PORTAL_VIEW, P.HANDOVER_ANSWER}),
    "analist": frozenset({P.PORTAL_VIEW, P.SOURCES_READ, P.CONVERSATIONS_READ}),
    "privacy": frozenset({P.PORTAL_VIEW, P.AUDIT_READ, P.CONVERSATIONS_READ, P.CONVERSATIONS_EXPORT}),
}
ROLE_LABELS = {
    "platform": "Platformbeheerder",
    "beheerder": "Functioneel beheerder",
    "redacteur": "Redacteur",
    "kcc": "KCC-medewerker",
    "analist": "Analist",
    "privacy": "Privacyfunctionaris",
}


def allows(user: StaffUser, tenant_id: int | None, permission: Permission) -> bool:
    """True when one of the user's roles grants ``permission`` for this municipality (a role held for
    the whole platform counts everywhere); ``tenant_id`` None asks for the platform itself."""
    return any(
        permission in ROLE_PERMISSIONS.get(role, frozenset()) and (scope is None or scope == tenant_id)
        for role, scope in user.roles
    )


def tenants_with(user: StaffUser, permission: Permission) -> set[int] | None:
    """The municipalities where the user has ``permission``; None: every one (a platform role)."""
    scopes = {scope for role, scope in user.roles if permission in ROLE_PERMISSIONS.get(role, frozenset())}
    if None in scopes:
        return None
    return {scope for scope in scopes if scope is not None}

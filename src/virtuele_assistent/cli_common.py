"""What every `va` command shares: the consoles, the settings and services, and a failing exit."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings, SettingsError, get_settings
from virtuele_assistent.tenants.schemas import TenantProfile

console = Console()
err = Console(stderr=True)


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        err.print(f"[red]{escape(str(error))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from None


def services_or_exit(server: bool = False) -> Services:
    """The services, with logging set up: a ``server`` (API, worker) logs at ``VA_LOG_LEVEL``; any
    other command only warnings and errors, unless ``VA_LOG_LEVEL`` is set."""
    settings = settings_or_exit()
    from virtuele_assistent.observability.logging import configure_logging

    configure_logging(settings, command=not server)
    return Services(settings)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print the message (as written: brackets in it are text, not markup) and an exit to raise."""
    err.print(f"[red]{escape(message)}[/red]", soft_wrap=True)  # one line, whatever the terminal
    return typer.Exit(code)


def invalid(error: ValidationError) -> typer.Exit:
    """The first thing wrong in what was given, as one line in English, and exit 2."""
    from virtuele_assistent.validation import english_message

    first = error.errors()[0]
    where = ".".join(map(str, first["loc"])) or "value"
    return fail(f"Invalid {where}: {english_message(dict(first))}", 2)


def tenant_or_exit(services: Services, tenant: str) -> TenantProfile:
    """The tenant named on the command line, or a failing exit (with the likely one if mistyped)."""
    from virtuele_assistent.tenants.service import TenantNotFound, get_profile

    try:
        return get_profile(services.db, tenant)
    except TenantNotFound:
        raise unknown_tenant(services, tenant) from None


def tenant_id_or_exit(services: Services, tenant: str) -> int:
    return tenant_or_exit(services, tenant).id


def unknown_tenant(services: Services, tenant: str) -> typer.Exit:
    """A failing exit for a tenant that does not exist: the likely one when it was mistyped, else how
    to see or create them."""
    import difflib

    from virtuele_assistent.tenants.service import list_tenants

    try:
        slugs = [t.slug for t in list_tenants(services.db)]
    except Exception:  # the database itself is the problem: say only what was asked
        slugs = []
    close = difflib.get_close_matches(tenant, slugs, n=1, cutoff=0.6)
    if close:
        return fail(f"Tenant '{tenant}' does not exist. Did you mean '{close[0]}'?")
    hint = "See: va tenants list" if slugs else "Create it with: va tenants create SLUG NAME"
    return fail(f"Tenant '{tenant}' does not exist. {hint}")

"""Tenants on the command line: `va tenants create|list|show|update|delete`, over the tenants
service (the API and the portal call the same functions)."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from virtuele_assistent.cli_common import console, fail, invalid, services_or_exit, unknown_tenant
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import (
    SLUG_PATTERN,
    ContactRoutes,
    ContactRoutesIn,
    TenantCreate,
    TenantOut,
    TenantUpdate,
    suggested_slug,
)
from virtuele_assistent.tenants.service import (
    TenantBusy,
    TenantExists,
    TenantNotFound,
    create_tenant,
    delete_tenant,
    list_tenants,
    tenant_counts,
    tenant_details,
    update_tenant,
)

tenants_app = typer.Typer(
    help="Create, list, show, change and delete tenants (municipalities).", no_args_is_help=True
)

FormOfAddress = Annotated[str | None, typer.Option("--address", help="Form of address: u or je.")]
Phone = Annotated[str | None, typer.Option(help="Phone number residents can call.")]
ContactUrl = Annotated[str | None, typer.Option(help="URL of the contact form.")]
Origins = Annotated[
    list[str] | None, typer.Option("--origin", help="Website origin allowed to embed the widget.")
]


def _details_or_exit(slug: str) -> tuple[Services, TenantOut]:
    services = services_or_exit()
    services.db.upgrade()
    try:
        return services, tenant_details(services.db, slug)
    except TenantNotFound:
        raise unknown_tenant(services, slug) from None


@tenants_app.command("create")
def tenants_create(
    slug: str,
    name: str,
    address: FormOfAddress = "u",
    phone: Phone = None,
    contact_url: ContactUrl = None,
    origin: Origins = None,
) -> None:
    """Create a tenant (municipality)."""
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise fail(
            f"Invalid slug '{slug}': use lowercase letters, digits and hyphens, at most 63 characters, "
            f"not starting or ending with a hyphen; for example '{suggested_slug(slug)}'.",
            2,
        )
    services = services_or_exit()
    services.db.upgrade()
    try:
        data = TenantCreate(
            slug=slug,
            name=name,
            form_of_address=address,  # type: ignore[arg-type]
            contact=ContactRoutes(phone=phone, contact_form_url=contact_url),  # type: ignore[arg-type]
            allowed_origins=origin or [],
        )
        tenant = create_tenant(services.db, data, actor="cli")
    except ValidationError as error:
        raise invalid(error) from None
    except TenantExists:
        raise fail(f"Tenant '{slug}' already exists.") from None
    console.print(f"Created tenant [bold]{tenant.slug}[/bold] ({tenant.name}).")


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants."""
    services = services_or_exit()
    services.db.upgrade()
    table = Table("slug", "name", "address", "phone")
    for tenant in list_tenants(services.db):
        table.add_row(tenant.slug, tenant.name, tenant.form_of_address, tenant.contact.phone or "")
    console.print(table)


@tenants_app.command("show")
def tenants_show(
    slug: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tenant as JSON.")] = False,
) -> None:
    """A tenant's profile, contact routes, widget origins, its own settings and how much it holds."""
    services, tenant = _details_or_exit(slug)
    counts = tenant_counts(services.db, slug)
    own = tenant.settings.stored()
    if as_json:
        console.print_json(json.dumps({**tenant.model_dump(mode="json"), "counts": counts}))
        return
    table = Table("field", "value", show_header=False)
    table.add_row("slug", tenant.slug)
    table.add_row("name", tenant.name)
    table.add_row("form of address", tenant.form_of_address)
    for field, value in tenant.contact.model_dump(mode="json", exclude_defaults=True).items():
        table.add_row(f"contact.{field}", value if isinstance(value, str) else json.dumps(value))
    table.add_row("widget origins", "\n".join(tenant.allowed_origins) or "none")
    if tenant.handover_webhook_secret_set:
        own["handover_webhook_secret"] = "(set, not shown)"
    for key, value in _flat(own).items():
        table.add_row(f"settings.{key}", value)
    table.add_row("contents", ", ".join(f"{n} {what}" for what, n in counts.items()))
    console.print(table)
    if not own:
        console.print("All settings are the defaults (docs/tenant-settings.md lists them).")


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as dotted keys with JSON values: widget.greeting -> "Hallo"."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict) and key == "widget":
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[prefix + key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return flat


@tenants_app.command("update")
def tenants_update(
    slug: str,
    name: Annotated[str | None, typer.Option(help="Name shown to residents.")] = None,
    address: FormOfAddress = None,
    phone: Phone = None,
    email: Annotated[str | None, typer.Option(help="E-mail address residents can write to.")] = None,
    contact_url: ContactUrl = None,
    origin: Origins = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A setting as KEY=VALUE, e.g. retention_days=30, widget.greeting=Hallo, "
            'languages=\'["nl","en"]\'; VALUE is JSON or text, null resets the default.',
        ),
    ] = None,
) -> None:
    """Change a tenant: only what is given changes (--origin replaces the list of origins)."""
    services, current = _details_or_exit(slug)
    given = {"name": name, "form_of_address": address, "allowed_origins": origin}
    fields: dict[str, Any] = {k: v for k, v in given.items() if v}
    routes = {"phone": phone, "email": email, "contact_form_url": contact_url}
    contact = {k: v for k, v in routes.items() if v}
    try:
        if contact:
            fields["contact"] = ContactRoutesIn.model_validate(
                current.contact.model_dump(mode="json") | contact
            )
        if set_:
            fields["settings"] = TenantUpdate.model_validate({"settings": _settings_change(set_)}).settings
        if not fields:
            raise fail("Nothing to change: give an option such as --name or --set KEY=VALUE.", 2)
        update_tenant(services.db, slug, TenantUpdate(**fields), actor="cli")
    except ValidationError as error:
        raise invalid(error) from None
    console.print(f"Changed tenant [bold]{slug}[/bold]: {', '.join(_changed(fields))}.", soft_wrap=True)


def _settings_change(assignments: list[str]) -> dict[str, Any]:
    """`--set` options as the settings they change: KEY=VALUE, a dotted KEY within widget."""
    change: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            raise fail(f"Invalid --set '{assignment}': write KEY=VALUE, e.g. retention_days=30.", 2)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # plain text
        *parents, last = key.strip().split(".")
        target = change
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise fail(f"Invalid --set '{assignment}': {part} is set twice.", 2)
        target[last] = value
    return change


def _changed(fields: dict[str, Any]) -> list[str]:
    names = [name for name in fields if name not in ("contact", "settings")]
    if "contact" in fields:
        names.append("contact")
    if "settings" in fields:
        names += [f"settings.{key}" for key in _flat(fields["settings"].model_dump(exclude_unset=True))]
    return names


@tenants_app.command("delete")
def tenants_delete(
    slug: str,
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking.")] = False,
) -> None:
    """Delete a tenant with all its data: sources, jobs, documents, chunks, vectors, conversations,
    feedback, handover requests and settings. The audit log keeps that it was deleted."""
    from virtuele_assistent.index.store import VectorStoreLocked

    services = services_or_exit()
    services.db.upgrade()
    try:
        counts = tenant_counts(services.db, slug)
    except TenantNotFound:
        raise unknown_tenant(services, slug) from None
    if not yes:
        if not sys.stdin.isatty():
            raise fail(f"Deleting '{slug}' cannot be undone: add --yes to delete without asking.", 2)
        summary = ", ".join(f"{n} {what}" for what, n in counts.items())
        if not typer.confirm(f"Delete tenant '{slug}' and all its data ({summary})?"):
            raise fail("Nothing deleted.")
    try:
        removed = delete_tenant(services.db, services.store, slug, services.settings.job_lease_s, "cli")
    except TenantBusy as busy:
        raise fail(
            f"A crawl for '{slug}' is running (job {busy.job_id}): wait until it ends or cancel it, "
            f"then delete again."
        ) from None
    except VectorStoreLocked:
        raise fail(
            "The data folder is in use by a running server: stop it first, or delete through its API "
            f"(DELETE /api/v1/tenants/{slug} with the admin token)."
        ) from None
    finally:
        services.close()
    shown = {k: v for k, v in removed.items() if v and k != "tenants"}
    console.print(
        f"Deleted tenant [bold]{slug}[/bold]"
        + (": " + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in shown.items()) if shown else ".")
    )

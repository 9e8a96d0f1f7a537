"""`va users` and `va conversations`: staff accounts and conversation privacy."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from virtuele_assistent.cli_common import console, err, fail, services_or_exit, tenant_or_exit
from virtuele_assistent.services import Services

users_app = typer.Typer(help="Staff accounts and their roles.", no_args_is_help=True)
conversations_app = typer.Typer(
    help="Conversations: list, export (data-subject request), retention.", no_args_is_help=True
)


def _services() -> Services:
    services = services_or_exit()
    services.db.upgrade()
    return services


@users_app.command("create")
def users_create(
    email: str,
    name: Annotated[str, typer.Option(help="Display name, shown to residents in a handover.")] = "",
    role: Annotated[
        list[str] | None,
        typer.Option(
            help="ROLE or ROLE@TENANT (beheerder, redacteur, kcc, analist, privacy, platform); repeatable."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a staff user (the password is asked for, or read from stdin)."""
    import sys

    from virtuele_assistent.auth.users import UnknownRole, UserExists, create_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    roles: list[tuple[str, str | None]] = []
    for item in role or []:
        name_, _, tenant = item.partition("@")
        roles.append((name_, tenant or None))
    services = _services()
    try:
        user = create_user(services.db, email, password, name=name, roles=roles, actor="cli")
    except UserExists:
        err.print(f"[red]User {email} already exists.[/red]")
        raise typer.Exit(1) from None
    except UnknownRole as error:
        err.print(f"[red]Unknown role '{error}'.[/red]")
        raise typer.Exit(2) from None
    except LookupError as error:
        err.print(f"[red]Tenant '{error}' does not exist.[/red]")
        raise typer.Exit(2) from None
    except ValueError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    finally:
        services.close()
    console.print(
        f"Created user [bold]{user.email}[/bold] with roles {[r for r, _ in user.roles] or 'none'}."
    )


@conversations_app.command("purge")
def conversations_purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, do not delete.")] = False,
) -> None:
    """Delete conversations older than each tenant's retention period; in ended conversations, keep
    only what each tenant's transcript setting allows."""
    from virtuele_assistent.conversations.retention import purge_expired
    from virtuele_assistent.conversations.transcripts import apply_transcript_modes

    services = _services()
    try:
        counts = purge_expired(services.db, services.settings.retention_days, dry_run=dry_run)
        handled = {} if dry_run else apply_transcript_modes(services.db)
    finally:
        services.close()
    table = Table("tenant", "retention (days)", "purged" if not dry_run else "would purge")
    for slug, (days, count) in counts.items():
        table.add_row(slug, str(days), str(count))
    console.print(table)
    for slug, messages in handled.items():
        console.print(
            f"{slug}: texts of {messages} messages of ended conversations reduced as its settings ask."
        )


@conversations_app.command("list")
def conversations_list(
    tenant: str,
    since: Annotated[
        datetime | None, typer.Option(help="Started on or after this day or moment (UTC), e.g. 2026-12-01.")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Started before this day or moment (UTC).")] = None,
    limit: Annotated[
        int, typer.Option(help="Most conversations to list, newest first.", min=1, max=10000)
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """A tenant's conversations, newest first, with the id that `va conversations export` needs."""
    from virtuele_assistent.conversations.export import list_conversations
    from virtuele_assistent.storage.models import as_utc

    services = _services()
    try:
        found = list_conversations(
            services.db,
            tenant_or_exit(services, tenant),
            as_utc(since) if since else None,
            as_utc(until) if until else None,
            limit,
        )
    finally:
        services.close()
    if as_json:
        console.print_json(json.dumps(found, ensure_ascii=False))
        return
    if not found:
        console.print(f"No conversations of {tenant} in that period.")
        return
    table = Table("id", "started", "last activity", "channel", "language", "status", "messages")
    for item in found:
        table.add_row(
            item["id"],
            item["created_at"],
            item["last_activity_at"],
            item["channel"],
            item["language"] or "",
            item["status"],
            str(item["messages"]),
        )
    console.print(table)
    console.print(f"Export one with: va conversations export {tenant} ID", soft_wrap=True)


@conversations_app.command("export")
def conversations_export(tenant: str, conversation_id: str) -> None:
    """Print one conversation as JSON (data-subject request)."""
    from virtuele_assistent.conversations.export import export_conversation

    services = _services()
    try:
        data = export_conversation(services.db, tenant_or_exit(services, tenant), conversation_id, "cli")
    finally:
        services.close()
    if data is None:
        raise fail(f"{tenant} has no conversation '{conversation_id}'. See: va conversations list {tenant}")
    console.print_json(json.dumps(data, ensure_ascii=False))

"""`va users`, `va conversations` and `va eval redteam`: staff accounts, privacy and safety."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

users_app = typer.Typer(help="Staff accounts and their roles.", no_args_is_help=True)
conversations_app = typer.Typer(
    help="Conversation privacy: retention, deletion, export.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


def _services():  # type: ignore[no-untyped-def]
    from virtuele_assistent.cli import _services as build

    services = build()
    services.db.upgrade()
    return services


@users_app.command("create")
def users_create(
    email: str,
    name: Annotated[str, typer.Option(help="Display name, shown to residents in a handover.")] = "",
    role: Annotated[
        list[str] | None,
        typer.Option(help="ROLE or ROLE@TENANT (beheerder, redacteur, kcc, privacy, platform); repeatable."),
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
    """Delete conversations older than each tenant's retention period."""
    from virtuele_assistent.conversations.retention import purge_expired

    services = _services()
    try:
        counts = purge_expired(services.db, services.settings.retention_days, dry_run=dry_run)
    finally:
        services.close()
    table = Table("tenant", "retention (days)", "purged" if not dry_run else "would purge")
    for slug, (days, count) in counts.items():
        table.add_row(slug, str(days), str(count))
    console.print(table)


@conversations_app.command("export")
def conversations_export(tenant: str, conversation_id: str) -> None:
    """Print one conversation as JSON (data-subject request)."""
    from virtuele_assistent.conversations.export import export_conversation
    from virtuele_assistent.tenants.service import TenantNotFound, get_profile

    services = _services()
    try:
        data = export_conversation(services.db, get_profile(services.db, tenant), conversation_id, "cli")
    except TenantNotFound:
        err.print(f"[red]Tenant '{tenant}' does not exist.[/red]")
        raise typer.Exit(1) from None
    finally:
        services.close()
    if data is None:
        err.print("[red]No such conversation.[/red]")
        raise typer.Exit(1)
    console.print_json(json.dumps(data, ensure_ascii=False))


def eval_redteam(
    prompts: Annotated[list[Path], typer.Option("--prompts", help="JSONL file or folder; repeatable.")],
    tenant: Annotated[
        str | None, typer.Option(help="Tenant for prompts whose own tenant does not exist here.")
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Print every reply.")] = False,
) -> None:
    """Run red-team prompts through the chat pipeline: guardrails, must_not_contain, PII echo."""
    from virtuele_assistent.conversations.redteam import load_cases, run_case, summarize
    from virtuele_assistent.tenants.service import TenantNotFound, get_profile, list_tenants

    for path in prompts:
        if not path.exists():
            err.print(f"[red]Not found: {path}[/red]")
            raise typer.Exit(2)
    cases = load_cases(*prompts)
    services = _services()
    try:
        known = {t.slug for t in list_tenants(services.db)}
        fallback = tenant or (
            "voorbeeldstad" if "voorbeeldstad" in known else next(iter(sorted(known)), None)
        )
        if fallback is None:
            err.print("[red]No tenant exists; run `va demo --no-serve` first.[/red]")
            raise typer.Exit(1)
        results = []
        for case in cases:
            slug = case.tenant if case.tenant in known else fallback
            try:
                profile = get_profile(services.db, slug)
            except TenantNotFound:
                err.print(f"[red]Tenant '{slug}' does not exist.[/red]")
                raise typer.Exit(1) from None
            result = run_case(services.chat, profile, case)
            results.append(result)
            if show or not result.passed:
                mark = "ok  " if result.passed else "FAIL"
                console.print(
                    f"{mark} {case.id} [{slug}] guardrail={result.guardrail} {'; '.join(result.failures)}"
                )
                if show:
                    console.print(f"     {result.answer[:300]}")
    finally:
        services.close()
    table = Table("dimension", "passed", "total", "pass rate", "guardrail answered")
    guarded: dict[str, int] = {}
    for result in results:
        if result.guardrail not in (None, "handover"):
            guarded[result.case.dimension] = guarded.get(result.case.dimension, 0) + 1
    guarded["all"] = sum(guarded.values())
    for dimension, (passed, total) in summarize(results).items():
        table.add_row(
            dimension, str(passed), str(total), f"{passed / total:.1%}", str(guarded.get(dimension, 0))
        )
    console.print(table)
    console.print(
        "Checks: expect=refuse -> a guardrail answered; expect=answer -> none did; must_not_contain; "
        "pii_values neither echoed nor stored."
    )

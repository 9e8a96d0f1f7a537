"""The portal's sources and crawls: a municipality's website sources, adding one, starting a crawl,
following it (htmx polls the progress; without JavaScript a link refreshes it) and every page's
outcome with its reason. Over the same services as the API's sources and jobs endpoints."""

from __future__ import annotations

import re
import uuid
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.params import HexId, RowId
from virtuele_assistent.auth.permissions import Permission, allows
from virtuele_assistent.crawl.safety import unreachable_hosts
from virtuele_assistent.crawl.sources import (
    SourceCreate,
    SourceExists,
    SourceNotFound,
    SourceUpdate,
    create_source,
    delete_source,
    get_source,
    list_sources,
    rotate_webhook_token,
    update_source,
)
from virtuele_assistent.documents.service import (
    PAGE_SIZE,
    DocumentNotFound,
    PassageNotFound,
    document_detail,
    find_documents,
    set_document_excluded,
    set_passage_excluded,
)
from virtuele_assistent.jobs.service import (
    JobNotFound,
    cancel_job,
    create_crawl_job,
    create_ingest_job,
    get_job,
    job_pages,
    list_jobs,
)
from virtuele_assistent.jobs.worker import submit_job
from virtuele_assistent.portal.access import PREFIX, PortalError, PortalRequires
from virtuele_assistent.portal.pages import crumbs as crumb_trail
from virtuele_assistent.portal.pages import profile_or_404, render
from virtuele_assistent.portal.sessions import PortalSession
from virtuele_assistent.services import Services
from virtuele_assistent.validation import dutch_errors

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[PortalSession, Depends(PortalRequires(Permission.SOURCES_READ))]
Editor = Annotated[PortalSession, Depends(PortalRequires(Permission.SOURCES_MANAGE))]

# form field -> SourceCreate field; the ones with several values take one per line
SOURCE_FIELDS = {
    "naam": "name",
    "startadressen": "start_urls",
    "sitemaps": "sitemap_urls",
    "alleen": "include",
    "niet": "exclude",
    "schema": "schedule",
}
LINES = ("startadressen", "sitemaps", "alleen", "niet")
SOURCE_LABELS = {
    "naam": "Naam",
    "startadressen": "Startadressen",
    "sitemaps": "Sitemaps",
    "alleen": "Alleen pagina's die hierop lijken",
    "niet": "Niet de pagina's die hierop lijken",
    "schema": "Vanzelf opnieuw",
}
OUTCOME_LABELS = {
    "new": "Nieuw opgenomen",
    "changed": "Opnieuw opgenomen (gewijzigd)",
    "unchanged": "Ongewijzigd",
    "duplicate": "Zelfde pagina als een ander adres",
    "failed": "Niet opgehaald of niet leesbaar",
    "blocked": "Niet opgehaald (robots.txt of adres niet toegestaan)",
    "skipped": "Opgehaald, geen antwoordbron",
    "noindex": "De pagina vraagt niet opgenomen te worden",
    "gone": "Niet gevonden (404/410), nog bewaard",
    "removed": "Niet meer op de site, uit de antwoorden gehaald",
}
STATUS_LABELS = {
    "queued": "In de wachtrij",
    "running": "Bezig",
    "done": "Klaar",
    "failed": "Mislukt",
    "cancelled": "Geannuleerd",
}
RUNNING = ("queued", "running")
# the portal's file upload (the one path with a larger request limit: api.middleware)
UPLOAD_PATH = r"^/beheer/gemeenten/[a-z0-9-]+/bronnen/bestand$"
# what may be uploaded, and how its first bytes look (None: text, checked as UTF-8)
UPLOAD_KINDS: dict[str, bytes | None] = {
    ".pdf": b"%PDF-",
    ".docx": b"PK\x03\x04",
    ".html": None,
    ".htm": None,
    ".md": None,
}


def _tenant_id(services: Services, slug: str) -> int:
    return profile_or_404(services, slug).id


def _crumbs(tenant_name: str, slug: str, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return crumb_trail((tenant_name, f"{PREFIX}/gemeenten/{slug}"), *more)


def _sources_page(
    request: Request,
    services: Services,
    session: PortalSession,
    slug: str,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    tenant = profile_or_404(services, slug)
    tenant_id = tenant.id
    return render(
        request,
        "sources.html",
        status,
        title=f"Bronnen {tenant.name}",
        tenant=tenant,
        sources=list_sources(services.db, tenant_id),
        jobs=list_jobs(services.db, tenant_id, limit=10),
        may_manage=allows(session.user, tenant_id, Permission.SOURCES_MANAGE),
        form=form or {"naam": "website"},
        errors=errors or {},
        labels=SOURCE_LABELS,
        status_labels=STATUS_LABELS,
        upload_mb=services.settings.upload_max_bytes // (1024 * 1024),
        notice={"verwijderd": "De bron is verwijderd."}.get(request.query_params.get("gedaan", "")),
        breadcrumbs=_crumbs(tenant.name, slug, ("Bronnen", "")),
    )


@router.get("/gemeenten/{slug}/bronnen", response_class=HTMLResponse)
def sources_page(request: Request, slug: str, services: ServicesDep, session: Reader) -> HTMLResponse:
    return _sources_page(request, services, session, slug)


async def _source_form(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    """The source form as sent, and the fields of a SourceCreate/SourceUpdate it asks for."""
    sent = await request.form()
    form = {name: str(sent.get(name, ""))[:20_000] for name in SOURCE_FIELDS}
    data: dict[str, Any] = {
        SOURCE_FIELDS[name]: [ln.strip() for ln in form[name].splitlines() if ln.strip()] for name in LINES
    }
    data["name"] = form["naam"].strip()
    data["schedule"] = form["schema"].strip() or None
    return form, data


def _source_errors(error: ValidationError) -> dict[str, str]:
    where = {path: name for name, path in SOURCE_FIELDS.items()}
    errors: dict[str, str] = {}
    for problem in dutch_errors(error):
        name = where.get(problem["field"].split(".")[0], "startadressen")
        errors.setdefault(name, f"{SOURCE_LABELS[name]}: {problem['message']}")
    return errors


@router.post("/gemeenten/{slug}/bronnen", response_class=HTMLResponse)
async def source_add(request: Request, slug: str, services: ServicesDep, session: Editor) -> Response:
    form, data = await _source_form(request)
    tenant_id = _tenant_id(services, slug)
    try:
        source = SourceCreate.model_validate(data)
    except ValidationError as error:
        return _sources_page(request, services, session, slug, 400, form, _source_errors(error))
    seeds = [*source.start_urls, *source.sitemap_urls]
    found = await unreachable_hosts(services.settings.crawl_allow_hosts, seeds)
    private = [host for host, why in found.items() if why == "private"]
    if private:
        return _sources_page(
            request, services, session, slug, 400, form, {"startadressen": _private(private[0])}
        )
    try:
        created = await services.chat.run(create_source, services.db, tenant_id, source, session.user.email)
    except SourceExists:
        errors = {"naam": f"Er is al een bron met de naam '{source.name}'."}
        return _sources_page(request, services, session, slug, 400, form, errors)
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/bronnen/{created.id}", status_code=303)


def _upload_problem(name: str, data: bytes, address: str, limit: int) -> dict[str, str]:
    """What is wrong with an uploaded file and the address residents find it at, per field."""
    errors: dict[str, str] = {}
    target = urlsplit(address)
    file_name = target.path.rsplit("/", 1)[-1]
    if target.scheme not in ("http", "https") or not target.netloc or not file_name:
        errors["adres"] = (
            "Geef het volledige adres van het bestand, bijvoorbeeld https://www.gemeente.nl/afvalkalender.pdf."
        )
    suffix = PurePosixPath(name.lower()).suffix
    if suffix not in UPLOAD_KINDS:
        errors["bestand"] = (
            "Dit soort bestand kan niet: kies een PDF, Word-bestand (DOCX), HTML- of Markdown-bestand."
        )
    elif not data:
        errors["bestand"] = "Het bestand is leeg."
    elif len(data) > limit:
        errors["bestand"] = f"Het bestand is te groot (hooguit {limit // (1024 * 1024)} MB)."
    elif (magic := UPLOAD_KINDS[suffix]) is not None and not data.startswith(magic):
        errors["bestand"] = f"Dit bestand is geen echt {suffix[1:].upper()}-bestand."
    elif magic is None and not _is_text(data):
        errors["bestand"] = "Dit bestand is geen tekst in UTF-8."
    elif "adres" not in errors and PurePosixPath(file_name.lower()).suffix != suffix:
        errors["adres"] = f"Het adres moet eindigen op een bestandsnaam met {suffix}, zoals het bestand zelf."
    return errors


def _private(host: str) -> str:
    return (
        f"Het adres {host} is niet openbaar (een intern of lokaal adres): de crawler haalt het niet op. "
        "Vraag de beheerder van de installatie het toe te staan (VA_CRAWL_ALLOW_HOSTS)."
    )


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@router.post("/gemeenten/{slug}/bronnen/bestand", response_class=HTMLResponse)
async def file_upload(
    request: Request,
    slug: str,
    services: ServicesDep,
    session: Editor,
    bestand: Annotated[UploadFile | None, File()] = None,
    adres: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Index a file (PDF, DOCX, HTML, Markdown) that residents find at ``adres``: kept in this
    installation's data folder, indexed by the worker; its job page shows the outcome."""
    tenant_id = _tenant_id(services, slug)
    limit = services.settings.upload_max_bytes
    data = await bestand.read(limit + 1) if bestand is not None else b""
    name = (bestand.filename or "") if bestand is not None else ""
    address = adres.strip()
    errors = _upload_problem(name, data, address, limit)
    if errors:
        typed = {"adres": address}
        return _sources_page(request, services, session, slug, 400, typed, errors)
    parent, file_name = address.rsplit("/", 1)
    folder = services.settings.data_dir / "uploads" / str(tenant_id) / uuid.uuid4().hex
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", unquote(file_name))[:200]
    await services.chat.run(_store, folder / safe_name, data)
    job = await services.chat.run(
        create_ingest_job, services.db, tenant_id, str(folder / safe_name), parent, session.user.email
    )
    submit_job(services, job.id, getattr(request.app.state, "worker", None))
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/taken/{job.id}", status_code=303)


@router.get("/gemeenten/{slug}/documenten", response_class=HTMLResponse)
def documents_page(
    request: Request,
    slug: str,
    services: ServicesDep,
    _session: Reader,
    zoek: Annotated[str, Query(max_length=200)] = "",
    vanaf: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    """The indexed pages and files, searchable by title or address, fifty at a time."""
    tenant = profile_or_404(services, slug)
    items, total = find_documents(services.db, tenant.id, zoek, vanaf)
    crumbs = _crumbs(tenant.name, slug, ("Pagina's", ""))
    return render(
        request,
        "documents.html",
        title=f"Pagina's van {tenant.name}",
        tenant=tenant,
        items=items,
        total=total,
        query=zoek,
        offset=vanaf,
        page_size=PAGE_SIZE,
        breadcrumbs=crumbs,
    )


@router.get("/gemeenten/{slug}/documenten/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request, slug: str, document_id: RowId, services: ServicesDep, session: Reader
) -> HTMLResponse:
    """One page as the assistant sees it: its passages with their heading paths; an editor takes the
    page or a passage out of the answers here, and puts it back."""
    tenant = profile_or_404(services, slug)
    try:
        document = document_detail(services.db, tenant.id, document_id)
    except DocumentNotFound:
        raise PortalError(404, f"Pagina {document_id} bestaat niet bij deze gemeente.") from None
    crumbs = _crumbs(
        tenant.name,
        slug,
        ("Pagina's", f"{PREFIX}/gemeenten/{slug}/documenten"),
        (document.title or document.url, ""),
    )
    return render(
        request,
        "document.html",
        title=document.title or document.url,
        tenant=tenant,
        document=document,
        may_manage=allows(session.user, tenant.id, Permission.SOURCES_MANAGE),
        notice=EXCLUSION_DONE.get(request.query_params.get("gedaan", "")),
        breadcrumbs=crumbs,
    )


EXCLUSION_DONE = {
    "uit": "De assistent gebruikt dit niet meer in antwoorden. Het blijft in de index en blijft uit de "
    "antwoorden, ook als de pagina verandert.",
    "aan": "De assistent gebruikt dit weer in antwoorden.",
}


@router.post("/gemeenten/{slug}/documenten/{document_id}/antwoorden")
async def document_exclusion(
    slug: str,
    document_id: RowId,
    services: ServicesDep,
    session: Editor,
    gebruiken: Annotated[str, Form(max_length=3)] = "",
    stuk: Annotated[int | None, Form(ge=0, le=100_000)] = None,
) -> Response:
    """Take the page (or passage ``stuk``) out of the answers (``gebruiken=nee``), or put it back."""
    tenant_id = _tenant_id(services, slug)
    excluded = gebruiken != "ja"
    try:
        if stuk is None:
            await services.chat.run(
                set_document_excluded,
                services.db,
                services.store,
                tenant_id,
                document_id,
                excluded,
                session.user.email,
            )
        else:
            await services.chat.run(
                set_passage_excluded,
                services.db,
                services.store,
                tenant_id,
                document_id,
                stuk,
                excluded,
                session.user.email,
            )
    except DocumentNotFound:
        raise PortalError(404, f"Pagina {document_id} bestaat niet bij deze gemeente.") from None
    except PassageNotFound:
        raise PortalError(404, "Dit stuk bestaat niet (meer) op deze pagina.") from None
    anchor = f"#stuk-{stuk}" if stuk is not None else ""
    done = "uit" if excluded else "aan"
    return RedirectResponse(
        f"{PREFIX}/gemeenten/{slug}/documenten/{document_id}?gedaan={done}{anchor}", status_code=303
    )


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _source_page(
    request: Request,
    services: Services,
    session: PortalSession,
    slug: str,
    source_id: int,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
) -> HTMLResponse:
    tenant = profile_or_404(services, slug)
    tenant_id = tenant.id
    try:
        source = get_source(services.db, tenant_id, source_id)
    except SourceNotFound:
        raise PortalError(404, f"Bron {source_id} bestaat niet bij deze gemeente.") from None
    config = source.config
    shown = form or {
        "naam": source.name,
        "startadressen": "\n".join(config.start_urls),
        "sitemaps": "\n".join(config.sitemap_urls),
        "alleen": "\n".join(config.include),
        "niet": "\n".join(config.exclude),
        "schema": config.schedule or "",
    }
    crumbs = _crumbs(tenant.name, slug, ("Bronnen", f"{PREFIX}/gemeenten/{slug}/bronnen"), (source.name, ""))
    return render(
        request,
        "source.html",
        status,
        title=f"Bron {source.name}",
        tenant=tenant,
        source=source,
        jobs=list_jobs(services.db, tenant_id, source_id, limit=20),
        may_manage=allows(session.user, tenant_id, Permission.SOURCES_MANAGE),
        status_labels=STATUS_LABELS,
        form=shown,
        errors=errors or {},
        labels=SOURCE_LABELS,
        token=token,
        notice=SOURCE_DONE.get(request.query_params.get("gedaan", "")),
        breadcrumbs=crumbs,
    )


SOURCE_DONE = {"gewijzigd": "De bron is gewijzigd."}


@router.get("/gemeenten/{slug}/bronnen/{source_id}", response_class=HTMLResponse)
def source_page(
    request: Request, slug: str, source_id: RowId, services: ServicesDep, session: Reader
) -> HTMLResponse:
    return _source_page(request, services, session, slug, source_id)


@router.post("/gemeenten/{slug}/bronnen/{source_id}/bewerken", response_class=HTMLResponse)
async def source_edit(
    request: Request, slug: str, source_id: RowId, services: ServicesDep, session: Editor
) -> Response:
    form, data = await _source_form(request)
    tenant_id = _tenant_id(services, slug)
    try:
        change = SourceUpdate.model_validate(data)
        await services.chat.run(update_source, services.db, tenant_id, source_id, change, session.user.email)
    except ValidationError as error:
        return _source_page(request, services, session, slug, source_id, 400, form, _source_errors(error))
    except SourceExists:
        errors = {"naam": f"Er is al een bron met de naam '{data['name']}'."}
        return _source_page(request, services, session, slug, source_id, 400, form, errors)
    except SourceNotFound:
        raise PortalError(404, f"Bron {source_id} bestaat niet bij deze gemeente.") from None
    return RedirectResponse(
        f"{PREFIX}/gemeenten/{slug}/bronnen/{source_id}?gedaan=gewijzigd", status_code=303
    )


@router.post("/gemeenten/{slug}/bronnen/{source_id}/webhooktoken", response_class=HTMLResponse)
async def source_token(
    request: Request, slug: str, source_id: RowId, services: ServicesDep, session: Editor
) -> HTMLResponse:
    """A new token for the CMS webhook, shown this once (the old one stops working)."""
    tenant_id = _tenant_id(services, slug)
    try:
        rotated = await services.chat.run(
            rotate_webhook_token, services.db, tenant_id, source_id, session.user.email
        )
    except SourceNotFound:
        raise PortalError(404, f"Bron {source_id} bestaat niet bij deze gemeente.") from None
    return _source_page(request, services, session, slug, source_id, token=rotated.webhook_token)


@router.post("/gemeenten/{slug}/bronnen/{source_id}/verwijderen")
async def source_delete(slug: str, source_id: RowId, services: ServicesDep, session: Editor) -> Response:
    tenant_id = _tenant_id(services, slug)
    try:
        await services.chat.run(
            delete_source, services.db, services.store, tenant_id, source_id, session.user.email
        )
    except SourceNotFound:
        raise PortalError(404, f"Bron {source_id} bestaat niet bij deze gemeente.") from None
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/bronnen?gedaan=verwijderd", status_code=303)


@router.post("/gemeenten/{slug}/bronnen/{source_id}/crawlen")
def crawl_start(
    request: Request, slug: str, source_id: RowId, services: ServicesDep, session: Editor
) -> Response:
    """Start a crawl now (or show the one that is already queued or running)."""
    tenant_id = _tenant_id(services, slug)
    try:
        job, created = create_crawl_job(
            services.db, tenant_id, source_id, trigger=session.user.email, actor=session.user.email
        )
    except JobNotFound:
        raise PortalError(404, f"Bron {source_id} bestaat niet bij deze gemeente.") from None
    if created:
        submit_job(services, job.id, getattr(request.app.state, "worker", None))
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/taken/{job.id}", status_code=303)


def _job_context(services: Services, slug: str, job_id: str, outcome: str | None) -> dict[str, Any]:
    tenant_id = _tenant_id(services, slug)
    try:
        job = get_job(services.db, tenant_id, job_id)
        pages = job_pages(services.db, tenant_id, job_id, outcome, limit=500)
    except JobNotFound:
        raise PortalError(404, f"Taak {job_id} bestaat niet bij deze gemeente.") from None
    return {
        "job": job,
        "pages": pages,
        "outcome": outcome,
        "running": job.status in RUNNING,
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "slug": slug,
    }


Outcome = Annotated[str | None, Query(alias="uitkomst", max_length=20)]


@router.get("/gemeenten/{slug}/taken/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request,
    slug: str,
    job_id: HexId,
    services: ServicesDep,
    session: Reader,
    outcome: Outcome = None,
) -> HTMLResponse:
    tenant = profile_or_404(services, slug)
    context = _job_context(services, slug, job_id, outcome if outcome in OUTCOME_LABELS else None)
    tenant_id = tenant.id
    crumbs = _crumbs(tenant.name, slug, ("Bronnen", f"{PREFIX}/gemeenten/{slug}/bronnen"), ("Crawl", ""))
    return render(
        request,
        "job.html",
        title="Crawl",
        tenant=tenant,
        may_manage=allows(session.user, tenant_id, Permission.SOURCES_MANAGE),
        breadcrumbs=crumbs,
        **context,
    )


@router.get("/gemeenten/{slug}/taken/{job_id}/voortgang", response_class=HTMLResponse)
def job_progress(
    request: Request, slug: str, job_id: HexId, services: ServicesDep, _session: Reader
) -> HTMLResponse:
    """The progress part of the job page alone (htmx asks for it every two seconds while it runs)."""
    return render(request, "job_progress.html", **_job_context(services, slug, job_id, None))


@router.post("/gemeenten/{slug}/taken/{job_id}/annuleren")
def job_cancel(slug: str, job_id: HexId, services: ServicesDep, session: Editor) -> Response:
    tenant_id = _tenant_id(services, slug)
    try:
        cancel_job(services.db, tenant_id, job_id, actor=session.user.email)
    except JobNotFound:
        raise PortalError(404, f"Taak {job_id} bestaat niet bij deze gemeente.") from None
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/taken/{job_id}", status_code=303)

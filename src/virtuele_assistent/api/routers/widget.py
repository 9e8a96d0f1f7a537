"""The chat widget: its script, its configuration per tenant, and a demo page that embeds it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from virtuele_assistent.api.auth import origin_allowed
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.security_headers import page_policy
from virtuele_assistent.tenants.service import indexed_documents
from virtuele_assistent.widget import WidgetBundle, WidgetConfig, WidgetNotBuilt, widget_config

log = structlog.get_logger(__name__)

router = APIRouter(tags=["widget"])

_bundle = WidgetBundle()
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(["html"]),
)


_SCRIPT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/javascript": {}}},
    304: {},
}


@router.head(
    "/widget.js",
    summary="The chat widget script's headers (no body)",
    operation_id="widget_js_head",
    response_class=Response,
    responses=_SCRIPT_RESPONSES,
)
@router.get(
    "/widget.js",
    summary="The chat widget script",
    operation_id="widget_js",
    response_class=Response,
    responses=_SCRIPT_RESPONSES,
)
def widget_js(
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    compressed = accepts_gzip(accept_encoding)
    try:
        body, etag = _bundle.load_gzipped() if compressed else _bundle.load()
    except WidgetNotBuilt:
        raise ApiError(
            503, "De chatwidget is nog niet gebouwd. Voer 'make setup' uit.", headers={"Retry-After": "60"}
        ) from None
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300, must-revalidate",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if compressed:
        headers["Content-Encoding"] = "gzip"
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether the client takes gzip: listed (or ``*``) and not with ``q=0``."""
    for part in (accept_encoding or "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return not params.strip().startswith("q=") or float(quality) > 0
            except ValueError:
                return False
    return False


@router.get("/api/v1/tenants/{slug}/widget-config", summary="What the widget shows before the first message")
async def get_widget_config(
    tenant: TenantDep,
    services: ServicesDep,
    response: Response,
    origin: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> WidgetConfig:
    """Public, and readable from any website (TenantCORSMiddleware): a page on a website the tenant
    has not allowed learns that here (``origin_allowed: false``) and says so in the browser's console,
    instead of failing on a CORS error; the log names the tenant and the origin."""
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Vary"] = "Origin"
    allowed = origin_allowed(tenant, origin)
    if not allowed:
        log.warning(
            "widget.origin_not_allowed",
            tenant=tenant.slug,
            origin=origin,
            fix=f"va tenants update {tenant.slug} "
            + " ".join(f"--origin {o}" for o in [*tenant.allowed_origins, origin]),
        )
    available = await run_in_threadpool(indexed_documents, services.db, tenant.id) > 0
    now = await services.chat.live_handover(tenant)
    return widget_config(tenant).model_copy(
        update={"origin_allowed": allowed, "available": available, "handover_now": now}
    )


# The demo page's topics, so that a visitor can move between pages and see the conversation stay.
DEMO_TOPICS = {
    "": ("Welkom", "Op deze website vindt u informatie over de diensten van de gemeente."),
    "paspoort": ("Paspoort en ID-kaart", "Een paspoort of ID-kaart vraagt u aan bij de gemeente."),
    "afval": ("Afval", "Ophaaldagen, grofvuil en de afvalstoffenheffing."),
    "verhuizen": ("Verhuizen", "Geef uw verhuizing door binnen 5 dagen na de verhuisdatum."),
    "parkeren": ("Parkeren", "Parkeervergunningen voor bewoners en bezoekers."),
}


@router.get("/demo/{slug}", summary="A demo page with the widget", response_class=HTMLResponse)
def demo_page(
    tenant: TenantDep,
    mode: Annotated[str, Query(pattern="^(launcher|inline)$")] = "launcher",
    onderwerp: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    if onderwerp not in DEMO_TOPICS:
        raise ApiError(404, f"Het onderwerp '{onderwerp}' bestaat niet op deze demopagina.")
    title, intro = DEMO_TOPICS[onderwerp]
    html = _templates.get_template("demo_page.html").render(
        config=widget_config(tenant), mode=mode, topic=onderwerp, title=title, intro=intro, topics=DEMO_TOPICS
    )
    # the tenant's own sites may show this page in a frame (a preview in their CMS), nobody else
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": page_policy(tenant.allowed_origins)}
    return HTMLResponse(html, headers=headers)

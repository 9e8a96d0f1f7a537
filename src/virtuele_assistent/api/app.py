"""The FastAPI application factory."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from virtuele_assistent import __version__
from virtuele_assistent.api.cors import TenantCORSMiddleware
from virtuele_assistent.api.errors import install_error_handlers
from virtuele_assistent.api.middleware import RequestContextMiddleware
from virtuele_assistent.api.openapi import install_openapi
from virtuele_assistent.api.routers import (
    audit,
    auth,
    chat,
    documents,
    fixed,
    health,
    review,
    sessions,
    sources,
    staff,
    tenants,
    users,
    widget,
    ws,
)
from virtuele_assistent.conversations import language
from virtuele_assistent.portal.sources_views import UPLOAD_PATH
from virtuele_assistent.portal.views import install_portal
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings


def create_app(
    settings: Settings,
    services: Services | None = None,
    demo_site: Path | None = None,
    run_jobs: bool = False,
) -> FastAPI:
    """``run_jobs``: run crawl jobs inside this process (the embedded profile's in-process queue)."""
    services = services or Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.broker.start()
        await ws.rearm_handover_timers(services)
        # Load the language detector now, not during the first resident's question.
        await services.chat.run(language.warm_up)
        if services.settings.answer_backend != "extractive":
            threading.Thread(target=_warm_up, args=(services,), name="warm-up", daemon=True).start()
        worker = None
        if run_jobs:
            from virtuele_assistent.jobs.worker import InProcessWorker

            worker = app.state.worker = InProcessWorker(services)
            worker.start_thread()
        yield
        if worker is not None:
            worker.stop_thread()
        await services.broker.stop()
        services.close()

    app = FastAPI(
        title="Virtuele Assistent API",
        version=__version__,
        description="Digitale assistent voor gemeenten: antwoorden uit de eigen content van de gemeente.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(TenantCORSMiddleware, services=services)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_headers=settings.max_headers,
        max_header_bytes=settings.max_header_bytes,
        trusted_proxies=settings.trusted_proxy_networks,
        large_bodies=((UPLOAD_PATH, settings.upload_max_bytes + 64 * 1024),),  # the file and its form
    )
    app.state.worker = None
    for router in (
        health.router,
        tenants.router,
        chat.router,
        widget.router,
        sessions.router,
        ws.router,
        auth.router,
        staff.router,
        sources.router,
        audit.router,
        users.router,
        documents.router,
        review.router,
        fixed.router,
    ):
        app.include_router(router)
    install_portal(app)
    if demo_site is not None:
        from virtuele_assistent.api.demo_site import mount_demo_site

        mount_demo_site(app, demo_site)
    return app


def _warm_up(services: Services) -> None:
    """Get the configured language model ready before the first resident asks (in the background)."""
    from virtuele_assistent.tenants.service import get_profile, list_tenants

    services.answers.warm_up([get_profile(services.db, t.slug) for t in list_tenants(services.db)])

"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from virtuele_assistent import __version__
from virtuele_assistent.api.cors import TenantCORSMiddleware
from virtuele_assistent.api.errors import install_error_handlers
from virtuele_assistent.api.middleware import RequestContextMiddleware
from virtuele_assistent.api.routers import auth, chat, health, sessions, staff, tenants, widget, ws
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings


def create_app(
    settings: Settings, services: Services | None = None, demo_site: Path | None = None
) -> FastAPI:
    services = services or Services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await services.broker.start()
        yield
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
    app.add_middleware(TenantCORSMiddleware, services=services)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    for router in (
        health.router,
        tenants.router,
        chat.router,
        widget.router,
        sessions.router,
        ws.router,
        auth.router,
        staff.router,
    ):
        app.include_router(router)
    if demo_site is not None:
        app.mount("/demo-site", StaticFiles(directory=demo_site, html=True), name="demo-site")
    return app

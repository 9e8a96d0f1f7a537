"""Liveness and readiness; the installation's state for its operators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.errors import problem
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.observability.system import SystemReport, system_report
from virtuele_assistent.tenants.service import tenants_without_content

router = APIRouter(tags=["health"])
SystemViewer = Annotated[StaffUser, requires(Permission.SYSTEM_VIEW)]
log = structlog.get_logger(__name__)


@router.get(
    "/api/v1/system",
    summary="Versions, components, migrations and the effective configuration (secrets masked)",
    responses=problems(401, 403),
)
async def system(services: ServicesDep, _admin: SystemViewer) -> SystemReport:
    return await run_in_threadpool(system_report, services)


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Database, vector store and (with Redis) the shared rate limits answer",
    response_model=None,
    responses={503: {"description": "A dependency does not answer; `checks` says which"}},
)
async def readyz(request: Request, services: ServicesDep) -> dict[str, object] | JSONResponse:
    checks: dict[str, str] = {}
    pings: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("database", lambda: run_in_threadpool(services.db.ping)),
        ("vector_store", lambda: run_in_threadpool(services.store.ping)),
    ]
    if services.settings.redis_url:
        pings.append(("rate_limits", services.limiter.ping))
    for name, ping in pings:
        try:
            await ping()
            checks[name] = "ok"
        except Exception as error:  # any failure means: not ready
            log.warning("readiness.failed", check=name, error=(str(error).splitlines() or [""])[0][:200])
            checks[name] = "unavailable"
    if all(v == "ok" for v in checks.values()):
        # not a readiness condition (a new tenant has nothing yet), but what an operator asks next
        waiting = await run_in_threadpool(tenants_without_content, services.db)
        ready: dict[str, object] = {"status": "ready", "checks": checks, "tenants_without_content": waiting}
        if "answers" in services.__dict__ and (models := services.answers.model_status()):
            ready["models"] = models  # a language model that is off degrades answers, not readiness
        return ready
    failing = ", ".join(k for k, v in checks.items() if v != "ok")
    return problem(
        request, 503, f"Niet gereed: {failing} niet bereikbaar.", {"Retry-After": "10"}, checks=checks
    )

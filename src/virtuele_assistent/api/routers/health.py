"""Liveness and readiness."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.errors import problem

router = APIRouter(tags=["health"])
log = structlog.get_logger(__name__)


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database and vector store answer", response_model=None)
def readyz(request: Request, services: ServicesDep) -> dict[str, object] | JSONResponse:
    checks: dict[str, str] = {}
    for name, ping in (("database", services.db.ping), ("vector_store", services.store.ping)):
        try:
            ping()
            checks[name] = "ok"
        except Exception as error:  # any failure means: not ready
            log.warning("readiness.failed", check=name, error=str(error).splitlines()[0][:200])
            checks[name] = "unavailable"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    failing = ", ".join(k for k, v in checks.items() if v != "ok")
    return problem(
        request, 503, f"Niet gereed: {failing} niet bereikbaar.", {"Retry-After": "10"}, checks=checks
    )

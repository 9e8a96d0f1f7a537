"""Website sources and their crawl jobs, per tenant.

Reading needs ``sources.read``, changing ``sources.manage`` (auth/permissions.py). A CMS may
trigger a crawl with the source's own webhook token instead (header ``X-Webhook-Token`` or query
``token``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import ValidationError

from virtuele_assistent.api.auth import Requires, requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError, describe_validation
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import HexId, Offset, RowId, RowIdQuery
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.crawl.sources import (
    SourceCreate,
    SourceExists,
    SourceNotFound,
    SourceOut,
    SourceUpdate,
    create_source,
    delete_source,
    get_source,
    list_sources,
    rotate_webhook_token,
    update_source,
    webhook_token_valid,
)
from virtuele_assistent.jobs.service import (
    STATUSES,
    JobNotFound,
    JobOut,
    PageOut,
    cancel_job,
    create_crawl_job,
    get_job,
    job_pages,
    list_jobs,
)
from virtuele_assistent.jobs.worker import submit_job

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["sources and crawls"], responses=problems(401, 403))

ReaderDep = Annotated[StaffUser, requires(Permission.SOURCES_READ)]
EditorDep = Annotated[StaffUser, requires(Permission.SOURCES_MANAGE)]


def _source_missing(source_id: int) -> ApiError:
    return ApiError(404, f"Bron {source_id} bestaat niet bij deze gemeente.")


def _invalid(error: ValidationError) -> ApiError:
    detail, fields = describe_validation(list(error.errors()))  # type: ignore[arg-type]
    return ApiError(422, detail, errors=fields)


@router.get("/sources", summary="List website sources")
def sources_list(tenant: TenantDep, services: ServicesDep, _reader: ReaderDep) -> list[SourceOut]:
    return list_sources(services.db, tenant.id)


@router.post("/sources", status_code=201, summary="Add a website source", responses=problems(409))
def sources_create(
    data: SourceCreate, tenant: TenantDep, services: ServicesDep, editor: EditorDep
) -> SourceOut:
    try:
        return create_source(services.db, tenant.id, data, actor=editor.email)
    except SourceExists:
        raise ApiError(409, f"Er is al een bron met de naam '{data.name}'.") from None


@router.get("/sources/{source_id}", summary="One website source")
def sources_get(source_id: RowId, tenant: TenantDep, services: ServicesDep, _reader: ReaderDep) -> SourceOut:
    try:
        return get_source(services.db, tenant.id, source_id)
    except SourceNotFound:
        raise _source_missing(source_id) from None


@router.patch("/sources/{source_id}", summary="Change a website source", responses=problems(409))
def sources_update(
    source_id: RowId, data: SourceUpdate, tenant: TenantDep, services: ServicesDep, editor: EditorDep
) -> SourceOut:
    try:
        return update_source(services.db, tenant.id, source_id, data, actor=editor.email)
    except SourceNotFound:
        raise _source_missing(source_id) from None
    except SourceExists:
        raise ApiError(409, f"Er is al een bron met de naam '{data.name}'.") from None
    except ValidationError as error:
        raise _invalid(error) from None


@router.delete("/sources/{source_id}", status_code=204, summary="Delete a website source")
def sources_delete(source_id: RowId, tenant: TenantDep, services: ServicesDep, editor: EditorDep) -> Response:
    try:
        delete_source(services.db, services.store, tenant.id, source_id, actor=editor.email)
    except SourceNotFound:
        raise _source_missing(source_id) from None
    return Response(status_code=204)


@router.post(
    "/sources/{source_id}/webhook-token", summary="Make a new webhook token (the old one stops working)"
)
def sources_rotate(
    source_id: RowId, tenant: TenantDep, services: ServicesDep, editor: EditorDep
) -> SourceOut:
    try:
        return rotate_webhook_token(services.db, tenant.id, source_id, actor=editor.email)
    except SourceNotFound:
        raise _source_missing(source_id) from None


class EditorOrWebhook(Requires):
    """The editor (bearer token, ``sources.manage``) or the source's CMS webhook (its own secret
    token); the actor the audit log names."""

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        services: ServicesDep,
        tenant: TenantDep,
        source_id: RowId,
        authorization: Annotated[str | None, Header()] = None,
        x_webhook_token: Annotated[str | None, Header(max_length=200)] = None,
        token: Annotated[str | None, Query(max_length=200)] = None,
    ) -> str:
        webhook = x_webhook_token or token
        if webhook:
            if webhook_token_valid(services.db, tenant.id, source_id, webhook):
                return "webhook"
            raise ApiError(401, "Het webhooktoken is ongeldig voor deze bron.")
        return super().__call__(request, services, authorization).email


@router.post(
    "/sources/{source_id}/crawl",
    status_code=202,
    summary="Start a crawl (editor or CMS webhook)",
    responses={200: {"description": "A crawl of this source is already queued or running: that job"}},
)
def crawl_start(
    source_id: RowId,
    request: Request,
    response: Response,
    tenant: TenantDep,
    services: ServicesDep,
    actor: Annotated[str, Depends(EditorOrWebhook(Permission.SOURCES_MANAGE))],
) -> JobOut:
    try:
        job, created = create_crawl_job(services.db, tenant.id, source_id, trigger=actor, actor=actor)
    except JobNotFound:
        raise _source_missing(source_id) from None
    if created:
        submit_job(services, job.id, getattr(request.app.state, "worker", None))
    else:
        response.status_code = 200  # already queued or running: that job is the answer
    response.headers["Location"] = f"/api/v1/tenants/{tenant.slug}/jobs/{job.id}"
    return job


@router.get("/jobs", summary="List crawl jobs, newest first")
def jobs_list(
    tenant: TenantDep,
    services: ServicesDep,
    _reader: ReaderDep,
    source_id: RowIdQuery = None,
    status: Annotated[Literal["queued", "running", "done", "failed", "cancelled"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobOut]:
    assert status is None or status in STATUSES
    return list_jobs(services.db, tenant.id, source_id, status, limit)


@router.get("/jobs/{job_id}", summary="Status and progress of a job")
def jobs_get(job_id: HexId, tenant: TenantDep, services: ServicesDep, _reader: ReaderDep) -> JobOut:
    try:
        return get_job(services.db, tenant.id, job_id)
    except JobNotFound:
        raise ApiError(404, f"Taak {job_id} bestaat niet bij deze gemeente.") from None


@router.get("/jobs/{job_id}/pages", summary="Per-page outcomes of a crawl job")
def jobs_pages(
    job_id: HexId,
    tenant: TenantDep,
    services: ServicesDep,
    _reader: ReaderDep,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[PageOut]:
    try:
        return job_pages(services.db, tenant.id, job_id, outcome, limit, offset)
    except JobNotFound:
        raise ApiError(404, f"Taak {job_id} bestaat niet bij deze gemeente.") from None


@router.post("/jobs/{job_id}/cancel", summary="Cancel a queued or running job", responses=problems(409))
def jobs_cancel(job_id: HexId, tenant: TenantDep, services: ServicesDep, editor: EditorDep) -> JobOut:
    try:
        job, changed = cancel_job(services.db, tenant.id, job_id, actor=editor.email)
    except JobNotFound:
        raise ApiError(404, f"Taak {job_id} bestaat niet bij deze gemeente.") from None
    if not changed:
        raise ApiError(409, f"Taak {job_id} is al klaar (status: {job.status}).")
    return job

"""Fixed answers (``answers.manage``): list, write, change and remove them, and try a question
against one before it goes live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import RowId
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.fixed.service import (
    FixedAnswerIn,
    FixedAnswerNotFound,
    FixedAnswerOut,
    FixedAnswerRefused,
    Tried,
    create_fixed,
    delete_fixed,
    get_fixed,
    list_fixed,
    update_fixed,
)

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["fixed answers"], responses=problems(401, 403))
Editor = Annotated[StaffUser, requires(Permission.ANSWERS_MANAGE)]


def _not_found(fixed_id: int) -> ApiError:
    return ApiError(404, f"Vast antwoord {fixed_id} bestaat niet bij deze gemeente.")


def _refused(error: FixedAnswerRefused) -> ApiError:
    return ApiError(422, error.message, errors=[{"field": error.field, "message": error.message}])


@router.get("/fixed-answers", summary="Fixed answers: expired ones first, then by question")
def fixed_list(tenant: TenantDep, services: ServicesDep, _editor: Editor) -> list[FixedAnswerOut]:
    return list_fixed(services.db, tenant.id)


@router.post("/fixed-answers", status_code=201, summary="Write a fixed answer", responses=problems(422))
def fixed_create(
    data: FixedAnswerIn, tenant: TenantDep, services: ServicesDep, editor: Editor
) -> FixedAnswerOut:
    try:
        return create_fixed(services.db, tenant.id, data, editor.email)
    except FixedAnswerRefused as error:
        raise _refused(error) from None


@router.get("/fixed-answers/{fixed_id}", summary="One fixed answer", responses=problems(404))
def fixed_get(fixed_id: RowId, tenant: TenantDep, services: ServicesDep, _editor: Editor) -> FixedAnswerOut:
    try:
        return get_fixed(services.db, tenant.id, fixed_id)
    except FixedAnswerNotFound:
        raise _not_found(fixed_id) from None


@router.put("/fixed-answers/{fixed_id}", summary="Change a fixed answer", responses=problems(404, 422))
def fixed_update(
    fixed_id: RowId, data: FixedAnswerIn, tenant: TenantDep, services: ServicesDep, editor: Editor
) -> FixedAnswerOut:
    try:
        return update_fixed(services.db, tenant.id, fixed_id, data, editor.email)
    except FixedAnswerNotFound:
        raise _not_found(fixed_id) from None
    except FixedAnswerRefused as error:
        raise _refused(error) from None


@router.delete(
    "/fixed-answers/{fixed_id}", status_code=204, summary="Remove a fixed answer", responses=problems(404)
)
def fixed_delete(fixed_id: RowId, tenant: TenantDep, services: ServicesDep, editor: Editor) -> Response:
    try:
        delete_fixed(services.db, tenant.id, fixed_id, editor.email)
    except FixedAnswerNotFound:
        raise _not_found(fixed_id) from None
    return Response(status_code=204)


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=500)


@router.post(
    "/fixed-answers/{fixed_id}/try",
    summary="Would this question get the fixed answer?",
    responses=problems(404),
)
def fixed_try(
    fixed_id: RowId, body: TryIn, tenant: TenantDep, services: ServicesDep, _editor: Editor
) -> Tried:
    try:
        fixed = get_fixed(services.db, tenant.id, fixed_id)
    except FixedAnswerNotFound:
        raise _not_found(fixed_id) from None
    matcher = services.answers.fixed
    assert matcher is not None
    return matcher.tried(fixed, body.question)

"""A municipality's indexed pages and files: search, and one page's passages (``sources.read``);
a page or a passage taken out of the answers and put back (``sources.manage``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import Offset, RowId
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.documents.service import (
    DocumentDetail,
    DocumentNotFound,
    DocumentOut,
    Exclusion,
    PassageNotFound,
    document_detail,
    find_documents,
    set_document_excluded,
    set_passage_excluded,
)

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["documents"], responses=problems(401, 403))
Reader = Annotated[StaffUser, requires(Permission.SOURCES_READ)]
Editor = Annotated[StaffUser, requires(Permission.SOURCES_MANAGE)]
Position = Annotated[int, Path(ge=0, le=100_000, description="The passage's place in the page, from 0.")]


class DocumentPage(BaseModel):
    total: int
    items: list[DocumentOut]


@router.get("/documents", summary="Indexed pages and files, by address")
def documents_list(
    tenant: TenantDep,
    services: ServicesDep,
    _reader: Reader,
    q: Annotated[str, Query(max_length=200, description="Part of the title or address")] = "",
    offset: Offset = 0,
) -> DocumentPage:
    items, total = find_documents(services.db, tenant.id, q, offset)
    return DocumentPage(total=total, items=items)


@router.get("/documents/{document_id}", summary="One indexed page with its passages")
def documents_get(
    document_id: RowId, tenant: TenantDep, services: ServicesDep, _reader: Reader
) -> DocumentDetail:
    try:
        return document_detail(services.db, tenant.id, document_id)
    except DocumentNotFound:
        raise ApiError(404, f"Document {document_id} bestaat niet bij deze gemeente.") from None


@router.put(
    "/documents/{document_id}/exclusion",
    summary="Take a page out of the answers, or put it back",
    responses=problems(404, 422),
)
def documents_exclusion(
    document_id: RowId, exclusion: Exclusion, tenant: TenantDep, services: ServicesDep, editor: Editor
) -> DocumentDetail:
    try:
        return set_document_excluded(
            services.db, services.store, tenant.id, document_id, exclusion.excluded, editor.email
        )
    except DocumentNotFound:
        raise ApiError(404, f"Document {document_id} bestaat niet bij deze gemeente.") from None


@router.put(
    "/documents/{document_id}/passages/{position}/exclusion",
    summary="Take one passage of a page out of the answers, or put it back",
    responses=problems(404, 422),
)
def passages_exclusion(
    document_id: RowId,
    position: Position,
    exclusion: Exclusion,
    tenant: TenantDep,
    services: ServicesDep,
    editor: Editor,
) -> DocumentDetail:
    try:
        return set_passage_excluded(
            services.db, services.store, tenant.id, document_id, position, exclusion.excluded, editor.email
        )
    except DocumentNotFound:
        raise ApiError(404, f"Document {document_id} bestaat niet bij deze gemeente.") from None
    except PassageNotFound:
        raise ApiError(404, f"Deze pagina heeft geen stuk {position + 1}.") from None

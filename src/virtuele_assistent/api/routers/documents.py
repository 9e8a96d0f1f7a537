"""A municipality's indexed pages and files (``sources.read``): search, and one page's passages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
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
    document_detail,
    find_documents,
)

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["documents"], responses=problems(401, 403))
Reader = Annotated[StaffUser, requires(Permission.SOURCES_READ)]


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

"""Fixed answers in the portal: the list (expired ones first), writing one (also from an answer in
a reviewed conversation), changing it, trying questions against it, removing it. The same service as
the API's (fixed/service.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.params import RowId
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.fixed.service import (
    DEFAULT_THRESHOLD,
    FixedAnswerIn,
    FixedAnswerNotFound,
    FixedAnswerOut,
    FixedAnswerRefused,
    create_fixed,
    delete_fixed,
    get_fixed,
    list_fixed,
    today,
    update_fixed,
)
from virtuele_assistent.portal.access import PREFIX, PortalError, PortalRequires
from virtuele_assistent.portal.pages import crumbs, profile_or_404, render
from virtuele_assistent.portal.sessions import PortalSession
from virtuele_assistent.review.service import ConversationNotFound, transcript
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.validation import dutch_errors

router = APIRouter(prefix=PREFIX, include_in_schema=False)  # HTML pages, not the REST API
Editor = Annotated[PortalSession, Depends(PortalRequires(Permission.ANSWERS_MANAGE))]
# form field -> the model's field
FIELDS = {
    "vraag": "question",
    "varianten": "paraphrases",
    "antwoord": "answer",
    "bronnen": "sources",
    "eigenaar": "owner",
    "vervalt": "expires_on",
    "status": "status",
    "drempel": "threshold",
}
FORM_FIELD = {model: name for name, model in FIELDS.items()}  # the model's field -> the form's
LABELS = {
    "vraag": "Vraag",
    "varianten": "Andere manieren om het te vragen",
    "antwoord": "Antwoord",
    "bronnen": "Bronnen",
    "eigenaar": "Eigenaar",
    "vervalt": "Geldig tot en met",
    "status": "Status",
    "drempel": "Drempel",
}
DONE = {
    "opgeslagen": "Het vaste antwoord is opgeslagen.",
    "verwijderd": "Het vaste antwoord is verwijderd.",
}


def _form_of(fixed: FixedAnswerOut) -> dict[str, str]:
    return {
        "vraag": fixed.question,
        "varianten": "\n".join(fixed.paraphrases),
        "antwoord": fixed.answer,
        "bronnen": "\n".join(s.url for s in fixed.sources),
        "eigenaar": fixed.owner,
        "vervalt": fixed.expires_on.isoformat(),
        "status": fixed.status,
        "drempel": f"{fixed.threshold:.2f}",
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _parsed(form: dict[str, str]) -> tuple[FixedAnswerIn | None, dict[str, str]]:
    data: dict[str, Any] = {
        "question": form["vraag"],
        "paraphrases": _lines(form["varianten"]),
        "answer": form["antwoord"].strip(),
        "sources": _lines(form["bronnen"]),
        "owner": form["eigenaar"],
        "expires_on": form["vervalt"].strip(),
        "status": form["status"] or "draft",
        "threshold": form["drempel"].strip().replace(",", ".") or DEFAULT_THRESHOLD,
    }
    try:
        return FixedAnswerIn.model_validate(data), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in dutch_errors(error):
            name = FORM_FIELD.get(problem["field"].split(".")[0], "vraag")
            errors.setdefault(name, f"{LABELS[name]} {problem['message']}")
        return None, errors


async def _sent(request: Request) -> dict[str, str]:
    sent = await request.form()
    return {name: str(sent.get(name, ""))[:10_000] for name in FIELDS}


def _page(
    request: Request,
    services: Services,
    tenant: TenantProfile,
    form: dict[str, str],
    errors: dict[str, str],
    fixed: FixedAnswerOut | None = None,
    tried: tuple[str, float, bool] | None = None,
    status: int = 200,
) -> HTMLResponse:
    title = "Vast antwoord" if fixed else "Nieuw vast antwoord"
    return render(
        request,
        "fixed_answer.html",
        status,
        title=title,
        tenant=tenant,
        fixed=fixed,
        form=form,
        errors=errors,
        labels=LABELS,
        tried=tried,
        notice=DONE.get(request.query_params.get("gedaan", "")),
        breadcrumbs=crumbs(
            (tenant.name, f"{PREFIX}/gemeenten/{tenant.slug}"),
            ("Vaste antwoorden", f"{PREFIX}/gemeenten/{tenant.slug}/vaste-antwoorden"),
            (title, ""),
        ),
    )


@router.get("/gemeenten/{slug}/vaste-antwoorden", response_class=HTMLResponse)
def fixed_list_page(request: Request, slug: str, services: ServicesDep, _session: Editor) -> HTMLResponse:
    tenant = profile_or_404(services, slug)
    return render(
        request,
        "fixed_answers.html",
        title=f"Vaste antwoorden van {tenant.name}",
        tenant=tenant,
        items=list_fixed(services.db, tenant.id),
        notice=DONE.get(request.query_params.get("gedaan", "")),
        breadcrumbs=crumbs((tenant.name, f"{PREFIX}/gemeenten/{slug}"), ("Vaste antwoorden", "")),
    )


@router.get("/gemeenten/{slug}/vaste-antwoorden/nieuw", response_class=HTMLResponse)
def fixed_new_page(
    request: Request,
    slug: str,
    services: ServicesDep,
    session: Editor,
    gesprek: Annotated[str, Query(max_length=32)] = "",
    antwoord: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    """An empty form, or one filled from an answer in a conversation (its question, text and sources)."""
    tenant = profile_or_404(services, slug)
    form = dict.fromkeys(FIELDS, "") | {
        "eigenaar": session.user.name or session.user.email,
        "vervalt": (today() + timedelta(days=180)).isoformat(),
        "status": "draft",
        "drempel": f"{DEFAULT_THRESHOLD:.2f}",
    }
    if gesprek and antwoord:
        try:
            messages = transcript(services.db, tenant.id, gesprek).messages
        except ConversationNotFound:
            raise PortalError(404, "Dit gesprek bestaat niet (meer).") from None
        position = next(
            (i for i, m in enumerate(messages) if m.id == antwoord and m.role == "assistant"), None
        )
        if position is None:
            raise PortalError(404, "Dit antwoord bestaat niet in dit gesprek.")
        question = next((m.text for m in reversed(messages[:position]) if m.role == "resident"), "")
        form |= {
            "vraag": question,
            "antwoord": messages[position].text,
            "bronnen": "\n".join(s.url for s in messages[position].sources if s.document_id),
        }
    return _page(request, services, tenant, form, {})


@router.post("/gemeenten/{slug}/vaste-antwoorden", response_class=HTMLResponse)
async def fixed_create_page(request: Request, slug: str, services: ServicesDep, session: Editor) -> Response:
    tenant = profile_or_404(services, slug)
    form = await _sent(request)
    data, errors = _parsed(form)
    if data is None:
        return _page(request, services, tenant, form, errors, status=400)
    try:
        created = await services.chat.run(create_fixed, services.db, tenant.id, data, session.user.email)
    except FixedAnswerRefused as error:
        name = FORM_FIELD.get(error.field, "vraag")
        return _page(request, services, tenant, form, {name: error.message}, status=400)
    return RedirectResponse(
        f"{PREFIX}/gemeenten/{slug}/vaste-antwoorden/{created.id}?gedaan=opgeslagen", status_code=303
    )


def _existing(services: Services, tenant: TenantProfile, fixed_id: int) -> FixedAnswerOut:
    try:
        return get_fixed(services.db, tenant.id, fixed_id)
    except FixedAnswerNotFound:
        raise PortalError(404, f"Vast antwoord {fixed_id} bestaat niet bij deze gemeente.") from None


@router.get("/gemeenten/{slug}/vaste-antwoorden/{fixed_id}", response_class=HTMLResponse)
def fixed_page(
    request: Request,
    slug: str,
    fixed_id: RowId,
    services: ServicesDep,
    _session: Editor,
    probeer: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    """The fixed answer's form; ``probeer``: would that question get it?"""
    tenant = profile_or_404(services, slug)
    fixed = _existing(services, tenant, fixed_id)
    tried = None
    if probeer.strip():
        matcher = services.answers.fixed
        assert matcher is not None
        result = matcher.tried(fixed, probeer)
        tried = (probeer, result.similarity, result.matches)
    return _page(request, services, tenant, _form_of(fixed), {}, fixed, tried)


@router.post("/gemeenten/{slug}/vaste-antwoorden/{fixed_id}", response_class=HTMLResponse)
async def fixed_update_page(
    request: Request, slug: str, fixed_id: RowId, services: ServicesDep, session: Editor
) -> Response:
    tenant = profile_or_404(services, slug)
    fixed = _existing(services, tenant, fixed_id)
    form = await _sent(request)
    data, errors = _parsed(form)
    if data is None:
        return _page(request, services, tenant, form, errors, fixed, status=400)
    try:
        await services.chat.run(update_fixed, services.db, tenant.id, fixed_id, data, session.user.email)
    except FixedAnswerRefused as error:
        name = FORM_FIELD.get(error.field, "vraag")
        return _page(request, services, tenant, form, {name: error.message}, fixed, status=400)
    return RedirectResponse(
        f"{PREFIX}/gemeenten/{slug}/vaste-antwoorden/{fixed_id}?gedaan=opgeslagen", status_code=303
    )


@router.post("/gemeenten/{slug}/vaste-antwoorden/{fixed_id}/verwijderen")
async def fixed_delete_page(slug: str, fixed_id: RowId, services: ServicesDep, session: Editor) -> Response:
    tenant = profile_or_404(services, slug)
    try:
        await services.chat.run(delete_fixed, services.db, tenant.id, fixed_id, session.user.email)
    except FixedAnswerNotFound:
        raise PortalError(404, f"Vast antwoord {fixed_id} bestaat niet bij deze gemeente.") from None
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/vaste-antwoorden?gedaan=verwijderd", status_code=303)

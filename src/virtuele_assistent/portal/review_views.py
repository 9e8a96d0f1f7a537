"""Conversation review in the portal: a municipality's conversations with a filter, one conversation
as its redacted transcript with how each answer came about, and a mark per answer (fine, incomplete,
wrong) with a note. The same service as the API's (review/service.py)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.params import HexId
from virtuele_assistent.audit.service import dutch_time
from virtuele_assistent.auth.permissions import Permission, allows
from virtuele_assistent.conversations.export import erase_conversation, export_conversation
from virtuele_assistent.portal.access import PREFIX, PortalError, PortalRequires
from virtuele_assistent.portal.pages import Text, crumbs, day_range, profile_or_404, render
from virtuele_assistent.portal.sessions import PortalSession
from virtuele_assistent.review.service import (
    FALLBACK_LABELS,
    GUARDRAIL_LABELS,
    OUTCOME_LABELS,
    PAGE_SIZE,
    VERDICT_LABELS,
    AnswerNotFound,
    ConversationFilter,
    ConversationNotFound,
    ReviewIn,
    clear_mark,
    find_conversations,
    languages,
    mark_answer,
    transcript,
)
from virtuele_assistent.services import Services

router = APIRouter(prefix=PREFIX, include_in_schema=False)  # HTML pages, not the REST API
Reader = Annotated[PortalSession, Depends(PortalRequires(Permission.CONVERSATIONS_READ))]
Reviewer = Annotated[PortalSession, Depends(PortalRequires(Permission.CONVERSATIONS_REVIEW))]
PrivacyOfficer = Annotated[PortalSession, Depends(PortalRequires(Permission.CONVERSATIONS_EXPORT))]
REVIEW_CHOICES = {
    "": "Alle gesprekken",
    "none": "Nog niet beoordeeld",
    "any": "Beoordeeld",
    "wrong": "Met een fout antwoord",
    "incomplete": "Met een onvolledig antwoord",
    "fine": "Met een goed antwoord",
}
DONE = {
    "opgeslagen": "De beoordeling is opgeslagen.",
    "gewist": "De beoordeling is gewist.",
    "verwijderd": "Het gesprek is verwijderd. In het auditlog staat wie het verwijderde en wanneer.",
}


@dataclass(frozen=True)
class ReviewForm:
    """The filter form as sent (strings; a checkbox is "ja" when ticked), and what it means."""

    van: str = ""
    tot: str = ""
    taal: str = ""
    zoek: str = ""
    bron: str = ""
    vangrail: str = ""
    beoordeling: str = ""
    afgewezen: str = ""
    negatief: str = ""
    medewerker: str = ""

    def parsed(self, offset: int) -> tuple[ConversationFilter | None, dict[str, str]]:
        days, errors = day_range(self.van, self.tot)
        if self.vangrail and self.vangrail not in GUARDRAIL_LABELS:
            errors["vangrail"] = "Kies een soort vangrail uit de lijst."
        if self.beoordeling not in REVIEW_CHOICES:
            errors["beoordeling"] = "Kies een beoordeling uit de lijst."
        if errors:
            return None, errors
        try:
            wanted = ConversationFilter(
                since=days["van"],
                until=days["tot"],
                language=self.taal.strip() or None,
                text=self.zoek.strip() or None,
                source=self.bron.strip() or None,
                guardrail=self.vangrail or None,
                review=self.beoordeling or None,  # type: ignore[arg-type]  # checked above
                declined=self.afgewezen == "ja",
                negative_feedback=self.negatief == "ja",
                handover=self.medewerker == "ja",
                offset=offset,
            )
        except ValidationError as error:
            field = {"language": "taal", "text": "zoek", "source": "bron"}.get(
                str(error.errors()[0]["loc"][0])
            )
            return None, {field or "zoek": "Deze zoekterm is te lang."}
        return wanted, {}


def _review_form(
    van: Text = "",
    tot: Text = "",
    taal: Text = "",
    zoek: Text = "",
    bron: Text = "",
    vangrail: Text = "",
    beoordeling: Text = "",
    afgewezen: Text = "",
    negatief: Text = "",
    medewerker: Text = "",
) -> ReviewForm:
    return ReviewForm(van, tot, taal, zoek, bron, vangrail, beoordeling, afgewezen, negatief, medewerker)


ReviewFormDep = Annotated[ReviewForm, Depends(_review_form)]


@router.get("/gemeenten/{slug}/gesprekken", response_class=HTMLResponse)
def conversations_page(
    request: Request,
    slug: str,
    services: ServicesDep,
    _session: Reader,
    form: ReviewFormDep,
    vanaf: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    """The municipality's conversations, newest first, fifty at a time, with the filter."""
    tenant = profile_or_404(services, slug)
    wanted, errors = form.parsed(vanaf)
    notice = DONE.get(request.query_params.get("gedaan", ""))
    page = find_conversations(services.db, tenant.id, wanted) if wanted else None
    query = urlencode({key: value for key, value in asdict(form).items() if value})
    return render(
        request,
        "conversations.html",
        400 if errors else 200,
        title=f"Gesprekken van {tenant.name}",
        tenant=tenant,
        form=form,
        errors=errors,
        page=page,
        notice=notice,
        page_size=PAGE_SIZE,
        query=query,
        languages=languages(services.db, tenant.id),
        guardrails=GUARDRAIL_LABELS,
        review_choices=REVIEW_CHOICES,
        verdicts=VERDICT_LABELS,
        breadcrumbs=crumbs((tenant.name, f"{PREFIX}/gemeenten/{slug}"), ("Gesprekken", "")),
    )


@router.get("/gemeenten/{slug}/gesprekken/{conversation_id}", response_class=HTMLResponse)
def conversation_page(
    request: Request, slug: str, conversation_id: HexId, services: ServicesDep, session: Reader
) -> HTMLResponse:
    """One conversation as its redacted transcript; each answer with its sources, backend, fallback,
    verification, feedback and its mark."""
    return _transcript_page(request, services, session, slug, conversation_id)


def _transcript_page(
    request: Request,
    services: Services,
    session: PortalSession,
    slug: str,
    conversation_id: str,
    refused: tuple[str, str, str] | None = None,  # (answer, message, the note as typed)
    erase_error: str | None = None,
) -> HTMLResponse:
    tenant = profile_or_404(services, slug)
    try:
        found = transcript(services.db, tenant.id, conversation_id)
    except ConversationNotFound:
        raise PortalError(404, "Dit gesprek bestaat niet (meer).") from None
    return render(
        request,
        "conversation.html",
        400 if refused or erase_error else 200,
        title="Gesprek van " + dutch_time(found.created_at).strftime("%d-%m-%Y"),
        tenant=tenant,
        conversation=found,
        may_review=allows(session.user, tenant.id, Permission.CONVERSATIONS_REVIEW),
        may_export=allows(session.user, tenant.id, Permission.CONVERSATIONS_EXPORT),
        may_read_pages=allows(session.user, tenant.id, Permission.SOURCES_READ),
        may_manage_pages=allows(session.user, tenant.id, Permission.SOURCES_MANAGE),
        may_fix=allows(session.user, tenant.id, Permission.ANSWERS_MANAGE),
        refused=refused,
        erase_error=erase_error,
        verdicts=VERDICT_LABELS,
        guardrails=GUARDRAIL_LABELS,
        outcomes=OUTCOME_LABELS,
        fallbacks=FALLBACK_LABELS,
        notice=DONE.get(request.query_params.get("gedaan", "")),
        breadcrumbs=crumbs(
            (tenant.name, f"{PREFIX}/gemeenten/{slug}"),
            ("Gesprekken", f"{PREFIX}/gemeenten/{slug}/gesprekken"),
            ("Gesprek", ""),
        ),
    )


def _back(slug: str, conversation_id: str, message_id: str, done: str) -> Response:
    return RedirectResponse(
        f"{PREFIX}/gemeenten/{slug}/gesprekken/{conversation_id}?gedaan={done}#antwoord-{message_id}",
        status_code=303,
    )


@router.post("/gemeenten/{slug}/gesprekken/{conversation_id}/antwoorden/{message_id}/beoordeling")
async def review_save(
    request: Request,
    slug: str,
    conversation_id: HexId,
    message_id: HexId,
    services: ServicesDep,
    session: Reviewer,
    oordeel: Annotated[str, Form(max_length=20)] = "",
    toelichting: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    tenant = profile_or_404(services, slug)
    problem = (
        "Kies of het antwoord goed, onvolledig of fout is."
        if oordeel not in VERDICT_LABELS
        else "De toelichting is te lang: gebruik ten hoogste 1000 tekens."
        if len(toelichting) > 1000
        else None
    )
    if problem:  # the page again, with the message at this answer and the note as typed
        return _transcript_page(
            request, services, session, slug, conversation_id, (message_id, problem, toelichting)
        )
    mark = ReviewIn(verdict=oordeel, note=toelichting)  # type: ignore[arg-type]  # checked above
    try:
        await services.chat.run(
            mark_answer, services.db, tenant.id, conversation_id, message_id, mark, session.user.email
        )
    except AnswerNotFound:
        raise PortalError(404, "Dit antwoord bestaat niet in dit gesprek.") from None
    return _back(slug, conversation_id, message_id, "opgeslagen")


@router.post("/gemeenten/{slug}/gesprekken/{conversation_id}/antwoorden/{message_id}/beoordeling/wissen")
async def review_clear(
    slug: str, conversation_id: HexId, message_id: HexId, services: ServicesDep, session: Reviewer
) -> Response:
    tenant = profile_or_404(services, slug)
    try:
        await services.chat.run(
            clear_mark, services.db, tenant.id, conversation_id, message_id, session.user.email
        )
    except AnswerNotFound:
        raise PortalError(404, "Dit antwoord bestaat niet in dit gesprek.") from None
    return _back(slug, conversation_id, message_id, "gewist")


# --- data-subject requests ------------------------------------------------------------------------


@router.get("/gemeenten/{slug}/gesprekken/{conversation_id}/export")
async def conversation_export(
    slug: str, conversation_id: HexId, services: ServicesDep, session: PrivacyOfficer
) -> Response:
    """The conversation as JSON for the resident who asked for it (AVG art. 15), in the audit log."""
    tenant = profile_or_404(services, slug)
    data = await services.chat.run(
        export_conversation, services.db, tenant, conversation_id, session.user.email
    )
    if data is None:
        raise PortalError(404, "Dit gesprek bestaat niet (meer).")
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="gesprek-{conversation_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/gemeenten/{slug}/gesprekken/{conversation_id}/verwijderen", response_class=HTMLResponse)
async def conversation_erase(
    request: Request,
    slug: str,
    conversation_id: HexId,
    services: ServicesDep,
    session: PrivacyOfficer,
    bevestig: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Erase the conversation on a resident's request (AVG art. 17), once the officer confirms."""
    if bevestig != "ja":
        return _transcript_page(
            request,
            services,
            session,
            slug,
            conversation_id,
            erase_error="Vink aan dat u het gesprek definitief wilt verwijderen.",
        )
    tenant = profile_or_404(services, slug)
    erased = await services.chat.run(
        erase_conversation, services.db, tenant, conversation_id, session.user.email
    )
    if not erased:
        raise PortalError(404, "Dit gesprek bestaat niet (meer).")
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/gesprekken?gedaan=verwijderd", status_code=303)

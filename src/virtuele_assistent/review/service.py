"""Conversation review: staff find a municipality's conversations (by day, language, declined
answers, negative feedback, handover, guardrail, cited page, words in a question), read one as its
redacted transcript with, for every answer, its sources, backend, fallback and verification, and mark
an answer as fine, incomplete or wrong. Used by the portal and the API; every mark is in the audit log.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from virtuele_assistent.audit.service import day_start
from virtuele_assistent.conversations.privacy import redact
from virtuele_assistent.storage.db import Database, contains_pattern
from virtuele_assistent.storage.models import (
    AnswerReview,
    Conversation,
    Document,
    Feedback,
    HandoverRequest,
    Message,
    Tenant,
    as_utc,
    utcnow,
)
from virtuele_assistent.storage.repositories import AuditLog
from virtuele_assistent.tenants.settings import load_tenant_settings
from virtuele_assistent.validation import Day

PAGE_SIZE = 50
NEGATIVE_SCORE = 6  # an end-of-conversation score of 0-6 out of 10 counts as negative (a detractor)

Verdict = Literal["fine", "incomplete", "wrong"]
VERDICT_LABELS: dict[str, str] = {"fine": "Goed", "incomplete": "Onvolledig", "wrong": "Fout"}
GUARDRAIL_LABELS: dict[str, str] = {
    "small_talk": "Begroeting of bedankje",
    "handover": "Vraag om een medewerker",
    "prompt_injection": "Poging de instructies te omzeilen",
    "functional_misuse": "Oneigenlijk gebruik",
    "refusal_policy": "Verzoek buiten de regels",
    "framing": "Sturende vraag",
    "information_boundaries": "Buiten de grenzen van de informatie",
    "legal_verdict": "Vraag om een juridisch oordeel",
}
OUTCOME_LABELS: dict[str, str] = {
    "ok": "Beantwoord",
    "contact": "Beantwoord met de contactgegevens",
    "fixed_answer": "Beantwoord met een vast antwoord",
    "personal_case": "Eigen dossier: verwezen naar persoonlijke omgeving en contact",
    "not_indexed": "Nog niets geïndexeerd",
    "no_content": "Geen passende inhoud gevonden",
    "topic_not_covered": "Onderwerp staat niet op de website",
    "low_similarity": "Geen pagina die genoeg op de vraag lijkt",
    "weak_match": "Te zwakke overeenkomst met de vraag",
    "fact_missing": "Het gevraagde bedrag of de datum staat er niet",
    "other_municipality": "Vraag over een andere gemeente",
}
FALLBACK_LABELS: dict[str, str] = {
    "busy": "taalmodel bezet",
    "timeout": "taalmodel te traag",
    "model_crashed": "taalmodel gestopt",
    "error": "fout bij het taalmodel",
    "model_found_no_answer": "taalmodel vond geen antwoord",
}


class ConversationFilter(BaseModel):
    """Which conversations: every field is optional; days are days in the Netherlands."""

    model_config = ConfigDict(extra="forbid")

    since: Day | None = None
    until: Day | None = None  # inclusive
    language: str | None = Field(default=None, max_length=12)
    declined: bool = False  # with a question the assistant could not answer (not a guardrail's reply)
    negative_feedback: bool = False  # a thumbs down, or an end score of 0-6
    handover: bool = False  # the resident asked for a person, or was handed over
    guardrail: str | None = Field(default=None, max_length=40)  # a guardrail answered
    source: str | None = Field(default=None, max_length=300)  # part of a cited page's address or title
    text: str | None = Field(default=None, max_length=200)  # words in one of the resident's questions
    review: Literal["none", "any", "fine", "incomplete", "wrong"] | None = None
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ConversationSummary(BaseModel):
    id: str
    created_at: datetime
    channel: str
    language: str | None
    status: str
    questions: int
    first_question: str
    declined: int
    negative_feedback: int
    handover: bool
    guardrails: list[str]
    reviews: dict[str, int]  # verdict -> answers marked so


class ConversationPage(BaseModel):
    total: int
    offset: int
    items: list[ConversationSummary]


class SourceOut(BaseModel):
    index: int | None = None
    url: str
    title: str = ""
    document_id: int | None = None  # the page as indexed now (None: no longer indexed)
    excluded: bool = False  # staff took the page out of the answers since


class FeedbackOut(BaseModel):
    rating: str  # up | down
    comment: str | None = None


class ReviewOut(BaseModel):
    verdict: Verdict
    note: str
    reviewer: str
    updated_at: datetime


class MessageOut(BaseModel):
    id: str
    role: str
    text: str
    created_at: datetime
    sources: list[SourceOut]
    declined: bool
    backend: str | None = None
    fallback: str | None = None
    outcome: str | None = None
    guardrail: str | None = None
    dropped_sentences: int | None = None  # sentences the verification left out (None: not recorded)
    readability: float | None = None
    duration_ms: float | None = None
    handover_offered: bool = False
    text_kept: bool = True  # False: removed once the conversation ended (the municipality keeps no texts)
    feedback: list[FeedbackOut] = []
    review: ReviewOut | None = None


class HandoverOut(BaseModel):
    status: str
    reason: str
    staff_name: str | None
    created_at: datetime


class Transcript(BaseModel):
    id: str
    created_at: datetime
    last_activity_at: datetime
    channel: str
    language: str | None
    status: str
    privacy_note: str
    transcripts: str  # full | pseudonymised | none: what the municipality keeps of ended conversations
    messages: list[MessageOut]
    handovers: list[HandoverOut]
    scores: list[int]  # end-of-conversation scores (0-10)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    note: str = Field(default="", max_length=1000)


class ConversationNotFound(LookupError):
    pass


class AnswerNotFound(LookupError):
    pass


PRIVACY_NOTE = (
    "Persoonsgegevens (BSN, IBAN, e-mailadres, telefoonnummer, adres) zijn bij opslag vervangen door "
    "[BSN], [IBAN] en dergelijke; de oorspronkelijke waarden zijn nooit bewaard."
)
TRANSCRIPT_NOTES = {
    "full": "",
    "pseudonymised": " Deze gemeente bewaart gesprekken gepseudonimiseerd: een uur na het laatste bericht "
    "worden ook namen, datums en nummers in de berichten van inwoners vervangen.",
    "none": " Deze gemeente bewaart geen teksten van gesprekken: een uur na het laatste bericht worden "
    "alle teksten verwijderd; wat er gebeurde (uitkomst, bronnen, feedback) blijft.",
}


# --- finding conversations ------------------------------------------------------------------------


def _conditions(tenant_id: int, wanted: ConversationFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Conversation.tenant_id == tenant_id]
    of_this = Message.conversation_id == Conversation.id
    if wanted.since:
        where.append(Conversation.created_at >= day_start(wanted.since))
    if wanted.until:
        where.append(Conversation.created_at < day_start(wanted.until + timedelta(days=1)))
    if wanted.language:
        where.append(Conversation.language == wanted.language)
    if wanted.declined:
        where.append(
            exists().where(
                of_this,
                Message.role == "assistant",
                Message.declined.is_(True),
                Message.meta["guardrail"].as_string().is_(None),  # a guardrail's reply has its own filter
            )
        )
    if wanted.negative_feedback:
        where.append(
            exists().where(
                Feedback.conversation_id == Conversation.id,
                or_(Feedback.rating == "down", Feedback.score <= NEGATIVE_SCORE),
            )
        )
    if wanted.handover:
        where.append(
            or_(
                exists().where(HandoverRequest.conversation_id == Conversation.id),
                exists().where(of_this, Message.meta["guardrail"].as_string() == "handover"),
            )
        )
    if wanted.guardrail:
        where.append(exists().where(of_this, Message.meta["guardrail"].as_string() == wanted.guardrail))
    if wanted.source and wanted.source.strip():
        like = contains_pattern(wanted.source.strip())
        where.append(
            exists().where(
                of_this, Message.role == "assistant", cast(Message.sources, String).ilike(like, escape="\\")
            )
        )
    if wanted.text and wanted.text.strip():
        like = contains_pattern(wanted.text.strip())
        where.append(
            exists().where(of_this, Message.role == "resident", Message.content.ilike(like, escape="\\"))
        )
    if wanted.review:
        reviewed = AnswerReview.conversation_id == Conversation.id
        if wanted.review == "none":
            where.append(~exists().where(reviewed))
        elif wanted.review == "any":
            where.append(exists().where(reviewed))
        else:
            where.append(exists().where(reviewed, AnswerReview.verdict == wanted.review))
    return where


def find_conversations(db: Database, tenant_id: int, wanted: ConversationFilter) -> ConversationPage:
    """One page of the municipality's conversations that match, newest first, and how many match."""
    where = _conditions(tenant_id, wanted)
    with db.session() as session:
        total = int(session.scalar(select(func.count()).select_from(Conversation).where(*where)) or 0)
        conversations = session.scalars(
            select(Conversation)
            .where(*where)
            .order_by(Conversation.created_at.desc(), Conversation.id)
            .offset(wanted.offset)
            .limit(PAGE_SIZE)
        ).all()
        items = _summaries(session, list(conversations))
    return ConversationPage(total=total, offset=wanted.offset, items=items)


def _summaries(session: Session, conversations: list[Conversation]) -> list[ConversationSummary]:
    ids = [c.id for c in conversations]
    if not ids:
        return []
    questions: Counter[str] = Counter()
    first: dict[str, str] = {}
    declined: Counter[str] = Counter()
    guardrails: dict[str, set[str]] = defaultdict(set)
    for conversation_id, role, content, was_declined, meta in session.execute(
        select(Message.conversation_id, Message.role, Message.content, Message.declined, Message.meta)
        .where(Message.conversation_id.in_(ids))
        .order_by(Message.created_at)
    ):
        if role == "resident":
            questions[conversation_id] += 1
            first.setdefault(conversation_id, content)
        elif role == "assistant":
            if (meta or {}).get("guardrail"):
                guardrails[conversation_id].add(str(meta["guardrail"]))
            else:
                declined[conversation_id] += bool(was_declined)
    negative = Counter(
        conversation_id
        for (conversation_id,) in session.execute(
            select(Feedback.conversation_id).where(
                Feedback.conversation_id.in_(ids),
                or_(Feedback.rating == "down", Feedback.score <= NEGATIVE_SCORE),
            )
        )
    )
    handed_over = set(
        session.scalars(
            select(HandoverRequest.conversation_id).where(HandoverRequest.conversation_id.in_(ids))
        )
    )
    reviews: dict[str, Counter[str]] = defaultdict(Counter)
    for conversation_id, verdict in session.execute(
        select(AnswerReview.conversation_id, AnswerReview.verdict).where(
            AnswerReview.conversation_id.in_(ids)
        )
    ):
        reviews[conversation_id][verdict] += 1
    return [
        ConversationSummary(
            id=c.id,
            created_at=as_utc(c.created_at),
            channel=c.channel,
            language=c.language,
            status=c.status,
            questions=questions[c.id],
            first_question=_shortened(first.get(c.id, "")),
            declined=declined[c.id],
            negative_feedback=negative[c.id],
            handover=c.id in handed_over or "handover" in guardrails[c.id],
            guardrails=sorted(guardrails[c.id]),
            reviews=dict(reviews[c.id]),
        )
        for c in conversations
    ]


def _shortened(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def languages(db: Database, tenant_id: int) -> list[str]:
    """The languages the municipality's conversations were held in (for the filter)."""
    with db.session() as session:
        found = session.scalars(
            select(Conversation.language)
            .where(Conversation.tenant_id == tenant_id, Conversation.language.is_not(None))
            .distinct()
        ).all()
    return sorted(str(language) for language in found if language)


# --- one conversation -----------------------------------------------------------------------------


def transcript(db: Database, tenant_id: int, conversation_id: str) -> Transcript:
    """The conversation as staff review it: its messages in order, each answer with how it came about."""
    with db.session() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant_id != tenant_id:
            raise ConversationNotFound(conversation_id)
        tenant = session.get(Tenant, tenant_id)
        mode = load_tenant_settings(tenant.settings, tenant.slug).transcripts if tenant else "full"
        feedback = session.scalars(
            select(Feedback).where(Feedback.conversation_id == conversation_id).order_by(Feedback.id)
        ).all()
        by_message: dict[str, list[FeedbackOut]] = defaultdict(list)
        scores: list[int] = []
        for item in feedback:
            if item.message_id and item.rating:
                by_message[item.message_id].append(FeedbackOut(rating=item.rating, comment=item.comment))
            if item.score is not None:
                scores.append(item.score)
        reviews = {
            review.message_id: _review_out(review)
            for review in session.scalars(
                select(AnswerReview).where(AnswerReview.conversation_id == conversation_id)
            )
        }
        handovers = session.scalars(
            select(HandoverRequest)
            .where(HandoverRequest.conversation_id == conversation_id)
            .order_by(HandoverRequest.created_at)
        ).all()
        messages = [
            _message_out(m, by_message.get(m.id, []), reviews.get(m.id)) for m in conversation.messages
        ]
        _link_pages(session, tenant_id, messages)
        return Transcript(
            id=conversation.id,
            created_at=as_utc(conversation.created_at),
            last_activity_at=as_utc(conversation.last_activity_at),
            channel=conversation.channel,
            language=conversation.language,
            status=conversation.status,
            privacy_note=PRIVACY_NOTE + TRANSCRIPT_NOTES[mode],
            transcripts=mode,
            messages=messages,
            handovers=[
                HandoverOut(
                    status=h.status, reason=h.reason, staff_name=h.staff_name, created_at=as_utc(h.created_at)
                )
                for h in handovers
            ],
            scores=scores,
        )


def _message_out(message: Message, feedback: list[FeedbackOut], review: ReviewOut | None) -> MessageOut:
    meta: dict[str, Any] = dict(message.meta or {})
    timings = meta.get("timings_ms") or {}
    return MessageOut(
        id=message.id,
        role=message.role,
        text=message.content,
        created_at=as_utc(message.created_at),
        sources=[
            SourceOut(index=s.get("index"), url=str(s.get("url", "")), title=str(s.get("title") or ""))
            for s in (message.sources or [])
            if isinstance(s, dict)
        ],
        declined=bool(message.declined),
        backend=meta.get("backend"),
        fallback=meta.get("fallback"),
        outcome=meta.get("outcome"),
        guardrail=meta.get("guardrail"),
        dropped_sentences=meta.get("dropped"),
        readability=meta.get("readability"),
        duration_ms=timings.get("total") if isinstance(timings, dict) else None,
        handover_offered=bool(meta.get("handover_offered")),
        text_kept=meta.get("transcript") != "none",
        feedback=feedback,
        review=review,
    )


def _link_pages(session: Session, tenant_id: int, messages: list[MessageOut]) -> None:
    """Each cited page as it is indexed now, so that staff can open it (and take it out)."""
    urls = {source.url for message in messages for source in message.sources}
    if not urls:
        return
    found = {
        url: (document_id, excluded)
        for url, document_id, excluded in session.execute(
            select(Document.url, Document.id, Document.excluded).where(
                Document.tenant_id == tenant_id, Document.status == "active", Document.url.in_(urls)
            )
        )
    }
    for message in messages:
        for source in message.sources:
            if source.url in found:
                source.document_id, source.excluded = found[source.url]


def _review_out(review: AnswerReview) -> ReviewOut:
    return ReviewOut(
        verdict=review.verdict,  # type: ignore[arg-type]  # stored from a Verdict
        note=review.note,
        reviewer=review.reviewer,
        updated_at=as_utc(review.updated_at),
    )


# --- marking an answer ----------------------------------------------------------------------------


def _answer(session: Session, tenant_id: int, conversation_id: str, message_id: str) -> Message:
    message = session.get(Message, message_id)
    if (
        message is None
        or message.tenant_id != tenant_id
        or message.conversation_id != conversation_id
        or message.role != "assistant"
    ):
        raise AnswerNotFound(message_id)
    return message


def mark_answer(
    db: Database, tenant_id: int, conversation_id: str, message_id: str, mark: ReviewIn, actor: str
) -> ReviewOut:
    """Mark the answer (again); the note is stored redacted, like the conversation itself."""
    note = redact(mark.note.strip()).text
    with db.session() as session:
        _answer(session, tenant_id, conversation_id, message_id)
        review = session.scalar(select(AnswerReview).where(AnswerReview.message_id == message_id))
        before = {"verdict": review.verdict, "note": review.note} if review else None
        now = utcnow()
        if review is None:
            review = AnswerReview(
                tenant_id=tenant_id,
                conversation_id=conversation_id,
                message_id=message_id,
                created_at=now,
            )
            session.add(review)
        review.verdict, review.note, review.reviewer, review.updated_at = mark.verdict, note, actor, now
        session.flush()
        AuditLog(session).record(
            tenant_id,
            actor,
            "answer.review",
            "message",
            message_id,
            {
                "conversation_id": conversation_id,
                "before": before,
                "after": {"verdict": mark.verdict, "note": note},
            },
        )
        return _review_out(review)


def clear_mark(db: Database, tenant_id: int, conversation_id: str, message_id: str, actor: str) -> bool:
    """Take the answer's mark away; False when it had none."""
    with db.session() as session:
        _answer(session, tenant_id, conversation_id, message_id)
        review = session.scalar(select(AnswerReview).where(AnswerReview.message_id == message_id))
        if review is None:
            return False
        before = {"verdict": review.verdict, "note": review.note}
        session.delete(review)
        AuditLog(session).record(
            tenant_id,
            actor,
            "answer.review_clear",
            "message",
            message_id,
            {"conversation_id": conversation_id, "before": before},
        )
        return True

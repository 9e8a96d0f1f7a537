"""Fixed answers ("vaste antwoorden"): an answer staff wrote or approved for a question and its
paraphrases, with the municipality's own pages as sources, an owner and an expiry date.

A resident's question gets a live fixed answer when it is one of its phrasings (ignoring case,
punctuation and spacing), or close enough in meaning: the embedding similarity of the question to
the fixed answer's question or a paraphrase reaches the fixed answer's threshold (0.95 by default;
staff try questions against it before it goes live). An expired one is no longer given and is listed
for review. Every use is counted. Used by the answer service, the portal and the API.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update

from virtuele_assistent.audit.service import dutch_time
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Document, FixedAnswer, as_utc, utcnow
from virtuele_assistent.storage.repositories import AuditLog
from virtuele_assistent.validation import Day, UserText

DEFAULT_THRESHOLD = 0.95
Phrase = Annotated[str, Field(min_length=3, max_length=300)]


class FixedAnswerIn(BaseModel):
    """A fixed answer as staff write it (portal form or API)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: Phrase
    paraphrases: list[Phrase] = Field(default_factory=list, max_length=20)
    answer: str = Field(min_length=1, max_length=2000)
    sources: list[Annotated[str, Field(max_length=2048)]] = Field(min_length=1, max_length=3)
    owner: str = Field(min_length=1, max_length=200)
    expires_on: Day
    status: Literal["draft", "live"] = "draft"
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.85, le=1.0)

    @field_validator("paraphrases")
    @classmethod
    def _paraphrases(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(p for p in value if p))


class SourceOut(BaseModel):
    url: str
    title: UserText


class FixedAnswerOut(BaseModel):
    id: int
    question: UserText
    paraphrases: list[UserText]
    answer: UserText
    sources: list[SourceOut]
    owner: UserText
    expires_on: date
    expired: bool
    status: str
    threshold: float
    hits: int
    last_hit_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class Tried(BaseModel):
    similarity: float
    threshold: float
    matches: bool  # at this threshold the question would get the fixed answer (once it is live)


class FixedAnswerNotFound(LookupError):
    pass


class FixedAnswerRefused(ValueError):
    """What staff sent cannot be saved: the field and a Dutch message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Match:
    fixed_id: int
    answer: str
    sources: list[dict[str, str]]
    similarity: float  # 1.0 for one of its phrasings


def today() -> date:
    """Today in the Netherlands: a fixed answer expiring today is still given today."""
    return dutch_time(utcnow()).date()


def _out(row: FixedAnswer) -> FixedAnswerOut:
    return FixedAnswerOut(
        id=row.id,
        question=row.question,
        paraphrases=list(row.paraphrases or []),
        answer=row.answer,
        sources=[SourceOut(url=s["url"], title=s.get("title", "")) for s in row.sources or []],
        owner=row.owner,
        expires_on=row.expires_on,
        expired=row.expires_on < today(),
        status=row.status,
        threshold=row.threshold,
        hits=row.hits,
        last_hit_at=as_utc(row.last_hit_at) if row.last_hit_at else None,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def _values(db: Database, tenant_id: int, data: FixedAnswerIn) -> dict[str, Any]:
    """The columns for ``data``, once its sources are known pages of this municipality."""
    if data.expires_on < today():
        raise FixedAnswerRefused(
            "expires_on", "De vervaldatum ligt in het verleden. Kies een datum vanaf vandaag."
        )
    sources = []
    with db.session() as session:
        for url in dict.fromkeys(data.sources):
            title = session.scalar(
                select(Document.title).where(
                    Document.tenant_id == tenant_id, Document.url == url, Document.status == "active"
                )
            )
            if title is None:
                raise FixedAnswerRefused(
                    "sources",
                    f"'{url}' is geen pagina van deze gemeente die de assistent kent. Gebruik het adres "
                    "van een pagina uit 'Pagina's'.",
                )
            sources.append({"url": url, "title": title})
    return {
        "question": data.question,
        "paraphrases": data.paraphrases,
        "answer": data.answer,
        "sources": sources,
        "owner": data.owner,
        "expires_on": data.expires_on,
        "status": data.status,
        "threshold": data.threshold,
    }


def _audited(row: FixedAnswer) -> dict[str, Any]:
    return {
        "question": row.question,
        "status": row.status,
        "expires_on": row.expires_on.isoformat(),
        "threshold": row.threshold,
        "answer": row.answer,
    }


def create_fixed(db: Database, tenant_id: int, data: FixedAnswerIn, actor: str) -> FixedAnswerOut:
    values = _values(db, tenant_id, data)
    with db.session() as session:
        now = utcnow()
        row = FixedAnswer(
            tenant_id=tenant_id, created_by=actor, created_at=now, updated_at=now, hits=0, **values
        )
        session.add(row)
        session.flush()
        AuditLog(session).record(
            tenant_id, actor, "fixed_answer.create", "fixed_answer", str(row.id), {"after": _audited(row)}
        )
        return _out(row)


def _row(session: Any, tenant_id: int, fixed_id: int) -> FixedAnswer:
    row = session.get(FixedAnswer, fixed_id)
    if row is None or row.tenant_id != tenant_id:
        raise FixedAnswerNotFound(fixed_id)
    return row  # type: ignore[no-any-return]


def update_fixed(
    db: Database, tenant_id: int, fixed_id: int, data: FixedAnswerIn, actor: str
) -> FixedAnswerOut:
    values = _values(db, tenant_id, data)
    with db.session() as session:
        row = _row(session, tenant_id, fixed_id)
        before = _audited(row)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        session.flush()
        AuditLog(session).record(
            tenant_id,
            actor,
            "fixed_answer.update",
            "fixed_answer",
            str(fixed_id),
            {"before": before, "after": _audited(row)},
        )
        return _out(row)


def delete_fixed(db: Database, tenant_id: int, fixed_id: int, actor: str) -> None:
    with db.session() as session:
        row = _row(session, tenant_id, fixed_id)
        AuditLog(session).record(
            tenant_id, actor, "fixed_answer.delete", "fixed_answer", str(fixed_id), {"before": _audited(row)}
        )
        session.delete(row)


def get_fixed(db: Database, tenant_id: int, fixed_id: int) -> FixedAnswerOut:
    with db.session() as session:
        return _out(_row(session, tenant_id, fixed_id))


def list_fixed(db: Database, tenant_id: int) -> list[FixedAnswerOut]:
    """The municipality's fixed answers: expired ones first (to review), then by question."""
    with db.session() as session:
        rows = session.scalars(select(FixedAnswer).where(FixedAnswer.tenant_id == tenant_id)).all()
        found = [_out(row) for row in rows]
    return sorted(found, key=lambda f: (not f.expired, f.question.casefold()))


# --- matching -------------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^\w]+")


def phrasing(text: str) -> str:
    """A question's words only: case, punctuation and spacing do not count."""
    return _NOT_WORD.sub(" ", text.casefold()).strip()


class FixedAnswerMatcher:
    """Finds the live fixed answer for a question; the phrasings' embeddings are kept per process."""

    def __init__(self, db: Database, embed: Callable[[str], np.ndarray]) -> None:
        self.db = db
        self.embed = embed
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _vector(self, text: str) -> np.ndarray:
        with self._lock:
            cached = self._vectors.get(text)
        if cached is not None:
            return cached
        vector = self.embed(text)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        with self._lock:
            self._vectors[text] = vector
            while len(self._vectors) > 5000:
                self._vectors.pop(next(iter(self._vectors)))
        return vector

    def similarity(self, phrasings: list[str], question: str, vector: np.ndarray | None = None) -> float:
        """1.0 when the question is one of the phrasings; else its closest embedding similarity."""
        asked = phrasing(question)
        if any(phrasing(p) == asked for p in phrasings):
            return 1.0
        query = self._vector(question) if vector is None else vector / (np.linalg.norm(vector) or 1.0)
        return max((float(np.dot(self._vector(p), query)) for p in phrasings), default=0.0)

    def tried(self, fixed: FixedAnswerOut, question: str) -> Tried:
        """What ``question`` scores against the fixed answer's phrasings, and whether it would get it."""
        score = self.similarity([fixed.question, *fixed.paraphrases], question)
        return Tried(similarity=round(score, 4), threshold=fixed.threshold, matches=score >= fixed.threshold)

    def match(self, tenant_id: int, question: str, vector: np.ndarray | None = None) -> Match | None:
        """The live, unexpired fixed answer closest to the question at or above its threshold; its use
        is counted."""
        with self.db.session() as session:
            rows = session.execute(
                select(
                    FixedAnswer.id,
                    FixedAnswer.question,
                    FixedAnswer.paraphrases,
                    FixedAnswer.answer,
                    FixedAnswer.sources,
                    FixedAnswer.threshold,
                ).where(
                    FixedAnswer.tenant_id == tenant_id,
                    FixedAnswer.status == "live",
                    FixedAnswer.expires_on >= today(),
                )
            ).all()
        best: Match | None = None
        for fixed_id, question_text, paraphrases, answer, sources, threshold in rows:
            score = self.similarity([question_text, *(paraphrases or [])], question, vector)
            if score >= threshold and (best is None or score > best.similarity):
                best = Match(fixed_id, answer, list(sources or []), score)
        if best is not None:
            with self.db.session() as session:
                session.execute(
                    update(FixedAnswer)
                    .where(FixedAnswer.id == best.fixed_id)
                    .values(hits=FixedAnswer.hits + 1, last_hit_at=utcnow())
                )
        return best

"""The scope check fitted on an evaluation set: does this municipality's content answer the question?

Every Dutch question that reaches the check (not a contact question, not about another municipality,
not about the resident's own file, with content retrieved from Dutch pages) is asked up to the
selection step and described by ``scope.SCOPE_FEATURES``. Answerable questions of the set are
positive; the out-of-scope questions (nothing on the site answers them) are negative. A logistic
regression learns how the kinds of evidence weigh. Declining an answerable question sends a resident
to the desk for what the site says; answering an out-of-scope one shows them a neighbouring topic
with a source, which misleads and weighs twice. The threshold is the one with the fewest weighed
wrong decisions, on out-of-fold probabilities, so the municipality measured never sets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from virtuele_assistent.answering.compose import extractive_text, number_sources
from virtuele_assistent.answering.contact import contact_reply
from virtuele_assistent.answering.scope import SCOPE_FEATURES, decide, evidence
from virtuele_assistent.answering.service import AnswerService
from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.quality import fitting
from virtuele_assistent.quality.answers import contains
from virtuele_assistent.tenants.schemas import TenantProfile


@dataclass(frozen=True)
class Question:
    item_id: str
    tenant: str
    question: str
    answerable: bool  # a question of the set that the site answers
    carries_fact: bool  # and the text selected for it holds one of its answer facts
    features: tuple[float, ...]  # SCOPE_FEATURES
    shipped: bool  # answered by the check shipped with the package


def collect(
    service: AnswerService,
    tenants: dict[str, TenantProfile],
    questions: list[dict[str, Any]],
    out_of_scope: list[dict[str, Any]],
) -> list[Question]:
    """The questions that reach the fitted check, with their evidence; follow-ups are asked after the
    question they follow."""
    out: list[Question] = []
    asked: dict[str, list[tuple[str, str]]] = {}
    for item in [*questions, *({**i, "expected": "decline_or_refer"} for i in out_of_scope)]:
        turns = asked.get(item.get("follow_up_of") or "", [])
        asked[item["id"]] = [*turns, ("resident", item["question"]), ("assistant", "")]
        answerable = item.get("expected", "answer") == "answer"
        tenant = tenants[item["tenant"]]
        selected = service.select(tenant, item["question"], turns, item.get("language"))
        understanding, selection = selected.understanding, selected.selection
        if (
            understanding.language != "nl"
            or understanding.other_municipality
            or selection.best is None
            or not selection.units
            or selection.best.passage.language not in (None, "nl")
            or contact_reply(tenant, understanding, service.terms) is not None
            or understanding.personal_case  # routed as the resident's own case, whatever the scope
        ):
            continue
        found = evidence(understanding, selection, service.terms)
        shown = extractive_text(number_sources(selection))
        facts = item.get("answer_facts") or []
        out.append(
            Question(
                item["id"],
                item["tenant"],
                item["question"],
                answerable,
                answerable and any(contains(shown, fact) for fact in facts),
                tuple(found.features[name] for name in SCOPE_FEATURES),
                decide(understanding, selection, service.terms).in_scope,
            )
        )
    return out


# Answering an out-of-scope question shows a neighbouring topic as if it answered, with a source;
# declining an answerable one sends the resident to the desk. The first misleads, so it weighs twice.
COST_ANSWERED_OUT_OF_SCOPE = 2.0


def wrong_decisions(answered: np.ndarray, answerable: np.ndarray) -> float:
    """Answerable questions declined plus out-of-scope questions answered, the latter weighing
    ``COST_ANSWERED_OUT_OF_SCOPE``."""
    declined = float(np.sum(~answered & answerable))
    misled = float(np.sum(answered & ~answerable))
    return declined + COST_ANSWERED_OUT_OF_SCOPE * misled


def best_threshold(probabilities: np.ndarray, answerable: np.ndarray) -> float:
    """The probability from which a question is answered: the fewest (weighed) wrong decisions;
    among equal ones the lowest."""
    return fitting.fewest_wrong(probabilities, lambda answered: wrong_decisions(answered, answerable))


def _arrays(questions: Sequence[Question]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.array([q.features for q in questions], dtype=float)
    y = np.array([q.answerable for q in questions], dtype=bool)
    groups = np.array([q.tenant for q in questions])
    return x, y, groups


def fit(questions: Sequence[Question]) -> FittedModel:
    x, y, groups = _arrays(questions)
    return fitting.fit_decision(
        SCOPE_FEATURES, x, y, groups, lambda p: best_threshold(p, y), lambda d: wrong_decisions(d, y)
    )


@dataclass(frozen=True)
class ScopeFigures:
    tenant: str
    answerable: int
    wrongly_declined: int
    out_of_scope: int
    declined: int  # out-of-scope questions declined
    shipped_wrongly_declined: int
    shipped_declined: int


def measure(model: FittedModel, questions: Sequence[Question], name: str) -> ScopeFigures:
    answered = fitting.decisions(model, [q.features for q in questions])
    pairs = list(zip(questions, answered, strict=True))
    return ScopeFigures(
        name,
        sum(1 for q in questions if q.answerable),
        sum(1 for q, yes in pairs if q.answerable and not yes),
        sum(1 for q in questions if not q.answerable),
        sum(1 for q, yes in pairs if not q.answerable and not yes),
        sum(1 for q in questions if q.answerable and not q.shipped),
        sum(1 for q in questions if not q.answerable and not q.shipped),
    )


def cross_validate(questions: Sequence[Question]) -> list[ScopeFigures]:
    """Each municipality measured with the model fitted on the others."""
    return fitting.cross_validate(questions, tenant_of, fit, measure)


def tenant_of(example: Question) -> str:
    return example.tenant

"""The unit scorer fitted on an evaluation set: which sentences, list items and table rows carry
the answer's facts.

Every answerable question is asked up to the selection step; every candidate unit of its retrieved
passages is labelled 1 when it contains one of the question's answer facts. A logistic regression
over ``select.UNIT_FEATURES`` learns which units carry facts. It is measured per municipality with
that municipality left out of the fit, against the model shipped with the package, by how many of the
facts that the candidates hold are in the first 1, 3 and 5 units of the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from virtuele_assistent.answering.select import UNIT_FEATURES
from virtuele_assistent.answering.service import AnswerService
from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.quality import fitting
from virtuele_assistent.quality.answers import contains
from virtuele_assistent.tenants.schemas import TenantProfile

KS = (1, 3, 5)


@dataclass
class QuestionUnits:
    item_id: str
    tenant: str
    facts: list[str]
    features: np.ndarray  # one row per candidate unit, columns UNIT_FEATURES
    shipped_scores: np.ndarray
    carries: list[frozenset[int]]  # per unit: the facts (by index) it contains
    labels: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.labels = np.array([bool(c) for c in self.carries], dtype=bool)

    @property
    def reachable(self) -> frozenset[int]:
        return frozenset().union(*self.carries) if self.carries else frozenset()

    def recall(self, scores: np.ndarray, k: int) -> float | None:
        """Share of the reachable facts in the first ``k`` units by ``scores``; None if none is."""
        if not self.reachable:
            return None
        top = np.argsort(-scores, kind="stable")[:k]
        found = frozenset().union(*(self.carries[i] for i in top))
        return len(found) / len(self.reachable)


def collect(
    service: AnswerService, tenants: dict[str, TenantProfile], questions: list[dict[str, Any]]
) -> list[QuestionUnits]:
    """The candidate units of every answerable question, labelled by the facts they carry."""
    out: list[QuestionUnits] = []
    asked: dict[str, list[tuple[str, str]]] = {}
    for item in questions:
        turns = asked.get(item.get("follow_up_of") or "", [])
        asked[item["id"]] = [*turns, ("resident", item["question"]), ("assistant", "")]
        facts = item.get("answer_facts") or []
        if item.get("expected", "answer") != "answer" or not facts:
            continue
        selection = service.select(
            tenants[item["tenant"]], item["question"], turns, item.get("language")
        ).selection
        units = selection.candidates
        if not units:
            continue
        out.append(
            QuestionUnits(
                item["id"],
                item["tenant"],
                facts,
                np.array([[u.features[name] for name in UNIT_FEATURES] for u in units], dtype=float),
                np.array([u.score for u in units], dtype=float),
                [frozenset(i for i, f in enumerate(facts) if contains(u.unit.text, f)) for u in units],
            )
        )
    return out


def _stack(questions: Sequence[QuestionUnits]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = np.vstack([q.features for q in questions])
    y = np.concatenate([q.labels for q in questions])
    groups = np.concatenate([[q.tenant] * len(q.labels) for q in questions])
    owner = np.concatenate([[i] * len(q.labels) for i, q in enumerate(questions)])
    return x, y, groups, owner


def mean_recall(questions: Sequence[QuestionUnits], scores: Sequence[np.ndarray], k: int) -> float:
    values = [r for q, s in zip(questions, scores, strict=True) if (r := q.recall(s, k)) is not None]
    return float(np.mean(values)) if values else 0.0


# A fact the resident is not shown costs more than a sentence too many: the threshold from which a
# unit is shown is the one with the best F-beta score with recall weighed twice (F2).
BETA = 2.0


def best_threshold(probabilities: np.ndarray, labels: np.ndarray, beta: float = BETA) -> float:
    """The probability from which a unit is shown: the best F-beta of 'shown' against 'carries a fact'."""
    best, threshold = -1.0, 0.5
    positives = float(np.sum(labels))
    for t in np.round(np.arange(0.02, 0.951, 0.01), 2):
        chosen = probabilities >= t
        tp = float(np.sum(chosen & labels))
        score = (1 + beta**2) * tp / (beta**2 * positives + float(np.sum(chosen))) if tp else 0.0
        if score > best:
            best, threshold = score, float(t)
    return threshold


def fit(questions: Sequence[QuestionUnits]) -> FittedModel:
    x, y, groups, owner = _stack(questions)

    def score(probabilities: np.ndarray, _: np.ndarray) -> float:
        per_question = [probabilities[owner == i] for i in range(len(questions))]
        return mean_recall(questions, per_question, 3)

    return fitting.fit(UNIT_FEATURES, x, y, groups, score, lambda p: best_threshold(p, y))


@dataclass(frozen=True)
class RankingFigures:
    tenant: str
    questions: int
    shipped: tuple[float, ...]  # fact recall in the first 1, 3, 5 units, the model shipped with the package
    fitted: tuple[float, ...]  # the same, fitted model


def measure(model: FittedModel, questions: Sequence[QuestionUnits], name: str) -> RankingFigures:
    fitted = [
        np.array([model.logit(dict(zip(UNIT_FEATURES, row, strict=True))) for row in q.features])
        for q in questions
    ]
    shipped = [q.shipped_scores for q in questions]
    return RankingFigures(
        name,
        sum(1 for q in questions if q.reachable),
        tuple(round(mean_recall(questions, shipped, k), 4) for k in KS),
        tuple(round(mean_recall(questions, fitted, k), 4) for k in KS),
    )


def cross_validate(questions: Sequence[QuestionUnits]) -> list[RankingFigures]:
    """Each municipality measured with the model fitted on the others."""
    return fitting.cross_validate(questions, tenant_of, fit, measure)


def tenant_of(example: QuestionUnits) -> str:
    return example.tenant

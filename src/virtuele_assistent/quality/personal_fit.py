"""The personal-case check fitted on an evaluation set: is a question about the resident's own file?

Positives are the project's own personal-case questions (``quality/data/personal_cases.jsonl``,
seven per municipality of the development set: the status of an application, a decision on it, a
figure kept about the resident); negatives are the answerable questions of the evaluation set, many
of them in the first person ("Hoe lang duurt het voordat mijn verhuizing verwerkt is?"). Out-of-scope
questions are left out of the fit: routing or declining them are both right. A question of the
resident's own answered with page text, and an answerable question routed to the desk, are both
wrong decisions; the threshold is the one with the fewest, on out-of-fold probabilities, so the
municipality measured never sets it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from virtuele_assistent.answering.personal import PERSONAL_FEATURES, personal_features
from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.quality import fitting


def personal_cases() -> list[dict[str, Any]]:
    """The project's personal-case questions (``expected: personal_case``)."""
    text = (
        resources.files("virtuele_assistent.quality").joinpath("data/personal_cases.jsonl").read_text("utf-8")
    )
    return [{**json.loads(line), "expected": "personal_case"} for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class Question:
    item_id: str
    tenant: str
    question: str
    personal: bool
    features: tuple[float, ...]  # PERSONAL_FEATURES
    shipped: bool  # routed as personal by the check shipped with the package


def collect(
    questions: list[dict[str, Any]], personal: list[dict[str, Any]], shipped: FittedModel
) -> list[Question]:
    """The answerable ``questions`` (negatives) and the ``personal`` ones (positives), described."""
    out = []
    for item in [*questions, *personal]:
        expected = item.get("expected", "answer")
        if expected not in ("answer", "personal_case"):
            continue
        found = personal_features(item["question"])
        out.append(
            Question(
                item["id"],
                item["tenant"],
                item["question"],
                expected == "personal_case",
                tuple(found[name] for name in PERSONAL_FEATURES),
                shipped.probability(found) >= shipped.threshold,
            )
        )
    return out


def wrong_decisions(routed: np.ndarray, personal: np.ndarray) -> float:
    return float(np.sum(routed != personal))


def best_threshold(probabilities: np.ndarray, personal: np.ndarray) -> float:
    """The probability from which a question is routed as personal: the fewest wrong decisions; among
    equal ones the highest (an answerable question keeps its answer)."""
    return fitting.fewest_wrong(probabilities, lambda routed: wrong_decisions(routed, personal), highest=True)


def fit(questions: Sequence[Question]) -> FittedModel:
    x = np.array([q.features for q in questions], dtype=float)
    y = np.array([q.personal for q in questions], dtype=bool)
    groups = np.array([q.tenant for q in questions])
    return fitting.fit_decision(
        PERSONAL_FEATURES, x, y, groups, lambda p: best_threshold(p, y), lambda d: wrong_decisions(d, y)
    )


@dataclass(frozen=True)
class PersonalFigures:
    tenant: str
    personal: int
    routed: int  # personal questions routed as personal
    answerable: int
    routed_answerable: int  # answerable questions routed as personal: a wrong decision
    shipped_routed: int
    shipped_routed_answerable: int


def measure(model: FittedModel, questions: Sequence[Question], name: str) -> PersonalFigures:
    routed = fitting.decisions(model, [q.features for q in questions])
    pairs = list(zip(questions, routed, strict=True))
    return PersonalFigures(
        name,
        sum(1 for q in questions if q.personal),
        sum(1 for q, yes in pairs if q.personal and yes),
        sum(1 for q in questions if not q.personal),
        sum(1 for q, yes in pairs if not q.personal and yes),
        sum(1 for q in questions if q.personal and q.shipped),
        sum(1 for q in questions if not q.personal and q.shipped),
    )


def tenant_of(example: Question) -> str:
    return example.tenant

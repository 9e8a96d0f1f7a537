"""The follow-up decision's fit: examples from an evaluation set, a threshold that rewrites almost no
question asked after an unrelated one, and the shipped model's figures."""

from __future__ import annotations

import numpy as np

from virtuele_assistent.quality import followup_fit
from virtuele_assistent.retrieval.followup import FOLLOW_UP_FEATURES, followup_model

ITEMS = [
    {
        "id": "a-1",
        "tenant": "meppel",
        "question": "Wat kost een paspoort?",
        "gold_docs": ["meppel/paspoort.html"],
    },
    {
        "id": "a-2",
        "tenant": "meppel",
        "question": "En voor een kind?",
        "follow_up_of": "a-1",
        "gold_docs": ["meppel/paspoort.html"],
    },
    {
        "id": "a-3",
        "tenant": "meppel",
        "question": "Hoe duur is een ID-kaart?",
        "gold_docs": ["meppel/paspoort.html"],
    },
    {
        "id": "a-4",
        "tenant": "meppel",
        "question": "Wanneer komt het grofvuil?",
        "gold_docs": ["meppel/afval.html"],
    },
    {
        "id": "b-1",
        "tenant": "assen",
        "question": "Waar meld ik een verhuizing?",
        "gold_docs": ["assen/verhuizen.html"],
    },
]


def test_examples_are_follow_ups_and_questions_after_an_unrelated_one() -> None:
    pairs = {p.item_id: p for p in followup_fit.pairs_of(ITEMS)}
    assert pairs["a-2"].follow_up and pairs["a-2"].previous == "Wat kost een paspoort?"
    # the nearest earlier question of the same municipality answered by other pages
    assert not pairs["a-4"].follow_up and pairs["a-4"].previous == "Hoe duur is een ID-kaart?"
    # no unrelated question before it: no example (the same page does not count, nor another tenant)
    assert "a-1" not in pairs and "a-3" not in pairs and "b-1" not in pairs
    assert len(pairs["a-4"].features()) == len(FOLLOW_UP_FEATURES)


def test_the_threshold_rewrites_at_most_one_in_a_hundred_unrelated_questions() -> None:
    others = np.linspace(0.0, 0.6, 200)
    follow_ups = np.array([0.3, 0.7, 0.9])
    probabilities = np.concatenate([others, follow_ups])
    labels = np.array([False] * 200 + [True] * 3)
    threshold = followup_fit.best_threshold(probabilities, labels)
    assert np.mean(others >= threshold) <= followup_fit.MAX_REWRITTEN
    assert threshold <= 0.7  # and no higher than it has to be: the two clear follow-ups are found


def test_the_shipped_model_was_measured_on_municipalities_it_did_not_see() -> None:
    model = followup_model()
    assert model.features == FOLLOW_UP_FEATURES and 0 < model.threshold < 1
    assert len(model.figures["left_one_out"]) >= 3
    for figures in model.figures["left_one_out"].values():
        assert figures["found"] <= figures["follow_ups"] and figures["rewritten"] <= figures["others"]

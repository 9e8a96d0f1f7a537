"""Fit a logistic model and measure it with one municipality left out at a time.

scikit-learn (the ``fit`` and ``dev`` extras) fits; the result is a ``FittedModel`` that the answer
step reads without it. The regularisation is chosen on out-of-fold predictions of the training
municipalities themselves (an inner leave-one-municipality-out), so the municipality a figure is
reported for never sets it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from virtuele_assistent.fitted import FittedModel

E = TypeVar("E")  # an example: a question with its units, a pair of questions
R = TypeVar("R")  # the figures of one municipality

REGULARISATION = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


class FitUnavailable(RuntimeError):
    """scikit-learn is not installed."""


def _sklearn() -> tuple[Any, Any]:
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise FitUnavailable(
            "scikit-learn is needed to fit: pip install 'virtuele-assistent[fit]'"
        ) from error
    return LogisticRegression, StandardScaler


def fit_arrays(x: np.ndarray, y: np.ndarray, regularisation: float, balanced: bool) -> tuple[Any, Any]:
    logistic_regression, standard_scaler = _sklearn()
    scaler = standard_scaler().fit(x)
    scaler.scale_[scaler.scale_ == 0] = 1.0
    regression = logistic_regression(
        C=regularisation, class_weight="balanced" if balanced else None, max_iter=5000
    )
    regression.fit(scaler.transform(x), y)
    return scaler, regression


def out_of_fold(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, regularisation: float, balanced: bool
) -> np.ndarray:
    """Probabilities of every row from a model fitted without its group (municipality)."""
    probabilities = np.zeros(len(y))
    for group in sorted(set(groups)):
        held = groups == group
        scaler, regression = fit_arrays(x[~held], y[~held], regularisation, balanced)
        probabilities[held] = regression.predict_proba(scaler.transform(x[held]))[:, 1]
    return probabilities


def fit(
    features: tuple[str, ...],
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    choose_threshold: Callable[[np.ndarray], float],
    balanced: bool = False,
) -> FittedModel:
    """The model for these rows: the regularisation with the best ``score`` of out-of-fold
    probabilities (higher is better), the threshold from ``choose_threshold`` on those same
    probabilities, then one fit on all rows."""
    if len(set(groups)) < 3:
        raise ValueError("fitting needs the examples of at least three municipalities")
    best: tuple[float, float, np.ndarray] | None = None
    for regularisation in REGULARISATION:
        probabilities = out_of_fold(x, y, groups, regularisation, balanced)
        value = score(probabilities, np.arange(len(y)))
        if best is None or value > best[0]:
            best = (value, regularisation, probabilities)
    assert best is not None
    _, regularisation, probabilities = best
    scaler, regression = fit_arrays(x, y, regularisation, balanced)
    return FittedModel(
        features=features,
        means=tuple(float(v) for v in scaler.mean_),
        scales=tuple(float(v) for v in scaler.scale_),
        coefficients=tuple(float(v) for v in regression.coef_[0]),
        intercept=float(regression.intercept_[0]),
        threshold=round(float(choose_threshold(probabilities)), 3),
        trained_on=tuple(sorted(set(str(g) for g in groups))),
        figures={"regularisation": regularisation},
    )


def fewest_wrong(
    probabilities: np.ndarray, wrong: Callable[[np.ndarray], float], highest: bool = False
) -> float:
    """The threshold (0.02 to 0.98) whose decisions (``probabilities >= t``) ``wrong`` counts fewest
    wrong; among equal ones the lowest, or the ``highest``."""
    best, threshold = float("inf"), 0.5
    for t in np.round(np.arange(0.02, 0.981, 0.01), 2):
        count = wrong(probabilities >= t)
        if count < best or (highest and count == best):
            best, threshold = count, float(t)
    return threshold


def fit_decision(
    features: tuple[str, ...],
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    threshold: Callable[[np.ndarray], float],
    wrong: Callable[[np.ndarray], float],
) -> FittedModel:
    """A yes/no check (balanced classes): the regularisation whose out-of-fold decisions at their own
    ``threshold`` are fewest ``wrong``, and that threshold."""

    def score(probabilities: np.ndarray, _: np.ndarray) -> float:
        return -wrong(probabilities >= threshold(probabilities))

    return fit(features, x, y, groups, score, threshold, balanced=True)


def decisions(model: FittedModel, rows: Sequence[Sequence[float]]) -> list[bool]:
    """The model's decision for each row of feature values (in ``model.features`` order)."""
    return [model.probability(dict(zip(model.features, row, strict=True))) >= model.threshold for row in rows]


def cross_validate(
    examples: Sequence[E],
    tenant_of: Callable[[E], str],
    fit_on: Callable[[Sequence[E]], FittedModel],
    measure: Callable[[FittedModel, Sequence[E], str], R],
) -> list[R]:
    """Each municipality measured with the model fitted on the others."""
    results = []
    for tenant in sorted({tenant_of(e) for e in examples}):
        model = fit_on([e for e in examples if tenant_of(e) != tenant])
        results.append(measure(model, [e for e in examples if tenant_of(e) == tenant], tenant))
    return results


@dataclass(frozen=True)
class FitReport(Generic[R]):
    """A model fitted on the tuned municipalities, with its figures: each tuned one left out of the
    fit, each measured in sample, and each kept aside from every fit."""

    model: FittedModel
    left_out: list[R]
    in_sample: list[R]
    kept_aside: list[R]

    def with_figures(self) -> FittedModel:
        """The model as it is shipped: with the figures it was chosen on."""
        figures = {
            **self.model.figures,
            "left_one_out": {_tenant(r): dataclasses.asdict(r) for r in self.left_out},  # type: ignore[call-overload]
            "in_sample": {_tenant(r): dataclasses.asdict(r) for r in self.in_sample},  # type: ignore[call-overload]
            "kept_aside": {_tenant(r): dataclasses.asdict(r) for r in self.kept_aside},  # type: ignore[call-overload]
        }
        return dataclasses.replace(self.model, figures=figures)


def fit_and_measure(
    examples: Sequence[E],
    tenant_of: Callable[[E], str],
    fit_on: Callable[[Sequence[E]], FittedModel],
    measure: Callable[[FittedModel, Sequence[E], str], R],
    kept_aside: set[str],
) -> FitReport[R]:
    """Fit on every municipality not kept aside and measure the model every way it is reported."""
    tuned = [e for e in examples if tenant_of(e) not in kept_aside]
    model = fit_on(tuned)

    def of(tenant: str, pool: Sequence[E]) -> list[E]:
        return [e for e in pool if tenant_of(e) == tenant]

    tuned_tenants = sorted({tenant_of(e) for e in tuned})
    return FitReport(
        model,
        cross_validate(tuned, tenant_of, fit_on, measure),
        [measure(model, of(t, tuned), t) for t in tuned_tenants],
        [measure(model, of(t, examples), t) for t in sorted(kept_aside)],
    )


def _tenant(result: Any) -> str:
    return str(result.tenant)

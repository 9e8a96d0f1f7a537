"""A fitted logistic model as the pipeline uses it: standardised features, weighed, squashed.

Its parameters are a small JSON file shipped with the package (``<step>/data/*.json``), written by
the fitting commands of ``quality/`` (scikit-learn, leave one municipality out). Running the
assistant needs only this file: no scikit-learn, no numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


class ModelMismatch(ValueError):
    """The file's features are not the ones the code computes: fit the model again."""


@dataclass(frozen=True)
class FittedModel:
    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float  # the probability from which the positive decision is taken
    trained_on: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)  # how it did, left one municipality out

    def logit(self, values: Mapping[str, float]) -> float:
        total = self.intercept
        for name, mean, scale, coef in zip(
            self.features, self.means, self.scales, self.coefficients, strict=True
        ):
            total += coef * (values[name] - mean) / scale
        return total

    def probability(self, values: Mapping[str, float]) -> float:
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, self.logit(values)))))

    def contributions(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each feature's share of the log-odds, against the training set's average case."""
        return {
            name: coef * (values[name] - mean) / scale
            for name, mean, scale, coef in zip(
                self.features, self.means, self.scales, self.coefficients, strict=True
            )
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, expected: tuple[str, ...] | None = None) -> FittedModel:
        data = json.loads(text)
        model = cls(
            features=tuple(data["features"]),
            means=tuple(float(v) for v in data["means"]),
            scales=tuple(float(v) for v in data["scales"]),
            coefficients=tuple(float(v) for v in data["coefficients"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            trained_on=tuple(data.get("trained_on", ())),
            figures=data.get("figures", {}),
        )
        if expected is not None and model.features != expected:
            raise ModelMismatch(
                f"model has features {list(model.features)}, the code computes {list(expected)}"
            )
        return model

    @classmethod
    def load(cls, path: Path, expected: tuple[str, ...] | None = None) -> FittedModel:
        return cls.from_json(path.read_text(encoding="utf-8"), expected)

    @classmethod
    def packaged(cls, package: str, name: str, expected: tuple[str, ...] | None = None) -> FittedModel:
        """A model shipped with the package: ``data/<name>`` of the step ``package``."""
        text = resources.files(package).joinpath(f"data/{name}").read_text("utf-8")
        return cls.from_json(text, expected)

"""The strategy interface every model family implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FeatureContext:
    """What a strategy may know about the encoded matrix it will be fitted on."""

    feature_names: list[str]
    monotone_increasing: list[int]
    seed: int = 42
    n_jobs: int = 2

    def monotone_vector(self) -> list[int]:
        inc = set(self.monotone_increasing)
        return [1 if i in inc else 0 for i in range(len(self.feature_names))]


class ModelStrategy(ABC):
    """A model family: how to build it from parameters, and what to search when tuning."""

    name: str
    description: str = ""

    @abstractmethod
    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        """An unfitted sklearn-compatible regressor (predicts log price)."""

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Parameters for one Optuna trial; families with nothing to tune return {}."""
        return {}

"""The strategy interface every model family implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

# A tree that sees fewer columns than this cannot combine them: on files of a dozen columns a
# column share tuned on Ames (~0.2 of hundreds of encoded columns) would leave two or three.
MIN_TREE_COLUMNS = 5


@dataclass(frozen=True)
class FeatureContext:
    """What a strategy may know about the encoded matrix it will be fitted on."""

    feature_names: list[str]
    monotone: tuple[int, ...] = ()  # per encoded column: +1, -1 or 0 (empty: none)
    seed: int = 42
    n_jobs: int = 2
    interactions: tuple[tuple[str, str], ...] = ()  # the spec's [numeric, nominal] pairs
    scalar: tuple[str, ...] = field(default=())  # encoded columns that are one per name
    nominal: tuple[str, ...] = field(default=())

    def monotone_vector(self) -> list[int]:
        if not self.monotone:
            return [0] * len(self.feature_names)
        return [int(m) for m in self.monotone]

    def column_share(self, share: float) -> float:
        """``share`` of the columns per tree, raised so a tree sees ``MIN_TREE_COLUMNS``."""
        n = len(self.feature_names)
        return max(share, min(1.0, MIN_TREE_COLUMNS / n)) if n else share

    @property
    def increasing(self) -> tuple[int, ...]:
        return tuple(i for i, m in enumerate(self.monotone) if m > 0)

    @property
    def decreasing(self) -> tuple[int, ...]:
        return tuple(i for i, m in enumerate(self.monotone) if m < 0)


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

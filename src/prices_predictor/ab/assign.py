"""Sticky variant assignment: a hash of (experiment, client), so a client keeps its variant."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from prices_predictor.core.aliases import CHALLENGER, CHAMPION


@dataclass
class Experiment:
    """The running experiment; weight is the challenger's share of traffic (0 = off)."""

    id: str = ""
    weight: float = 0.0
    shadow: bool = False
    shadow_sample: float = 1.0

    @property
    def active(self) -> bool:
        return bool(self.id) and self.weight > 0


def bucket(experiment_id: str, client_id: str) -> float:
    """A uniform number in [0, 1) fixed by the pair."""
    digest = hashlib.sha256(f"{experiment_id}\x00{client_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(exp: Experiment, client_id: str | None, rng: random.Random | None = None) -> str:
    if not exp.active:
        return CHAMPION
    u = bucket(exp.id, client_id) if client_id else (rng or random).random()
    return CHALLENGER if u < exp.weight else CHAMPION

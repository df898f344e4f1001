"""The target transform: prices <-> what the model predicts (log1p by default)."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_model(price: Any, transform: str) -> Any:
    return np.log(price) if transform == "log" else np.log1p(price)


def to_price(value: Any, transform: str) -> Any:
    return np.exp(value) if transform == "log" else np.expm1(value)

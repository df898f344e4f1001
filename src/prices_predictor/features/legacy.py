"""Encoders pickled before the data spec existed: they were the Ames preset."""

from __future__ import annotations

from typing import Any

from prices_predictor.spec.io import from_dict, preset
from prices_predictor.spec.model import DataSpec


def upgrade_state(state: dict[str, Any]) -> dict[str, Any]:
    """An encoder's pickled state in today's form (the spec as a ``DataSpec``)."""
    spec = state.get("spec")
    if spec is None:  # before specs: Ames, with Lot Frontage imputed by neighbourhood
        state["spec"] = preset("ames")
        state["group_medians"] = {"Lot Frontage": state.pop("frontage_by_hood", {})}
    elif not isinstance(spec, DataSpec):
        state["spec"] = from_dict(spec, "the model's spec")
    state.setdefault("present_modes", {})  # before presence-aware imputation
    state.setdefault("ranges", {})  # before training ranges were kept
    state.setdefault("group_medians", {})
    return state

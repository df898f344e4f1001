"""Name -> strategy, and the tuned default parameters kept in config/model_params.json."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from prices_predictor.core.errors import UserError
from prices_predictor.models.base import ModelStrategy
from prices_predictor.models.blend import BlendStrategy
from prices_predictor.models.catboost import CatBoostStrategy
from prices_predictor.models.forest import RandomForestStrategy
from prices_predictor.models.lgbm import LightGBMStrategy
from prices_predictor.models.linear import (
    LinearStrategy,
    check_interactions,
    resolve_interactions,
)
from prices_predictor.models.xgb import XGBoostStrategy
from prices_predictor.spec.model import DataSpec

STRATEGIES: dict[str, ModelStrategy] = {}
for _s in (
    LinearStrategy(),
    RandomForestStrategy(),
    XGBoostStrategy(),
    LightGBMStrategy(),
    CatBoostStrategy(),
):
    STRATEGIES[_s.name] = _s
BASE_STRATEGIES = tuple(STRATEGIES)  # what a blend can be made of
STRATEGIES["blend"] = BlendStrategy(STRATEGIES)


def get_strategy(name: str) -> ModelStrategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise UserError(f"unknown model '{name}', choose one of: {', '.join(STRATEGIES)}") from None


def default_params(
    override_file: Path | None = None, spec: DataSpec | None = None
) -> dict[str, dict[str, Any]]:
    """Tuned defaults per strategy, updated by ``override_file`` (same JSON shape) if given;
    with ``spec``, the file's linear interactions must name the spec's columns."""
    text = resources.files("prices_predictor.config").joinpath("model_params.json").read_text()
    params: dict[str, dict[str, Any]] = {
        k: v for k, v in json.loads(text).items() if not k.startswith("_")
    }
    if override_file is not None:
        try:
            extra = json.loads(Path(override_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{override_file}: cannot read parameters: {exc}") from exc
        for name, p in extra.items():
            if name.startswith("_"):  # a comment, as in the built-in file
                continue
            if not isinstance(p, dict):
                raise UserError(f"{override_file}: '{name}' must be an object of parameters")
            params.setdefault(name, {}).update(p)
        try:
            check_blend(params["blend"])
        except UserError as exc:
            raise UserError(f"{override_file}: {exc}") from None
        if "interactions" in params.get("linear", {}):
            wanted = params["linear"]["interactions"]
            try:
                if spec is None:
                    check_interactions(wanted)
                else:
                    scalar = (*spec.numeric, *spec.ordinal, *(e.name for e in spec.engineered))
                    resolve_interactions(wanted, scalar, tuple(spec.nominal))
            except UserError as exc:
                raise UserError(f"{override_file}: {exc}") from None
    return params


def check_blend(blend: dict[str, Any]) -> None:
    """The blend's members and candidates are base strategies, its weights numbers >= 0 that
    do not all vanish: a bad parameters file stops before any training."""
    weights, candidates = blend.get("weights", {}), blend.get("candidates", [])
    if not isinstance(weights, dict) or not weights:
        raise UserError('blend.weights must map member names to weights, e.g. {"linear": 1}')
    if not isinstance(candidates, list):
        raise UserError("blend.candidates must be a list of member names")
    for where, names in (("weights", list(weights)), ("candidates", candidates)):
        for m in names:
            if m not in BASE_STRATEGIES:
                raise UserError(
                    f"blend.{where}: '{m}' is not one of: " + ", ".join(BASE_STRATEGIES)
                )
    for m, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not w >= 0:
            raise UserError(f"blend.weights.{m}: {w!r} is not a number >= 0")
    if not sum(weights.values()) > 0:
        raise UserError("blend.weights: at least one weight must be > 0")


def params_for(name: str, all_params: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Parameters for one strategy; a blend also gets its members'."""
    p = dict(all_params.get(name, {}))
    if name == "blend":
        p["member_params"] = {m: all_params.get(m, {}) for m in p["weights"]}
    return p

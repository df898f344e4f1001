"""Exact additive explanations in log-price units, folded back to source features.

Trees use TreeSHAP (XGBoost ``pred_contribs``, LightGBM ``pred_contrib``, ``models.oblivious``
for CatBoost's symmetric trees, without the library; ``shap.TreeExplainer`` for the random
forest); the Ridge pipeline is explained exactly (its
transforms are per column, so each column's share is coef * standardised value, and a product
term of two columns is shared half and half between them); a blend is the weighted sum of its
members' explanations. A location effect is its own source, named after the parcel id
column (or "location" for the effect from coordinates). In every case base +
sum(contributions) equals the model's log prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from prices_predictor.models.blend import Blend
from prices_predictor.models.linear import is_linear, linear_steps
from prices_predictor.models.oblivious import forest_of, is_oblivious


@dataclass
class Explanation:
    base: np.ndarray  # (n,) log-price base value
    values: np.ndarray  # (n, n_sources) contributions per source feature
    sources: list[str]


def source_of(encoded_name: str) -> str:
    """'Neighborhood=CollgCr' -> 'Neighborhood'; other columns are their own source."""
    return encoded_name.split("=", 1)[0]


def fold_matrix(feature_names: list[str]) -> tuple[np.ndarray, list[str]]:
    """(n_encoded, n_sources) 0/1 matrix summing encoded columns into source features."""
    sources: list[str] = []
    index: dict[str, int] = {}
    for name in feature_names:
        src = source_of(name)
        if src not in index:
            index[src] = len(sources)
            sources.append(src)
    m = np.zeros((len(feature_names), len(sources)))
    for i, name in enumerate(feature_names):
        m[i, index[source_of(name)]] = 1.0
    return m, sources


def raw_contributions(reg: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(base (n,), contributions (n, n_encoded)) with base + sum == reg.predict(X)."""
    if isinstance(reg, Blend):
        base = np.zeros(X.shape[0])
        phi = np.zeros(X.shape)
        for (_, est, _), w in zip(reg.members, reg.weights, strict=True):
            b, p = raw_contributions(est, X)
            base += w * b
            phi += w * p
        return base, phi
    if is_linear(reg):
        skew, scaler, pairs, ridge = linear_steps(reg)
        z = scaler.transform(skew.transform(X))
        n = z.shape[1]
        phi = z * ridge.coef_[:n]
        for (i, j), b in zip(pairs, ridge.coef_[n:], strict=True):
            half = 0.5 * b * z[:, i] * z[:, j]  # a product term: half to each column
            phi[:, i] += half
            phi[:, j] += half
        return np.full(X.shape[0], float(ridge.intercept_)), phi
    kind = type(reg).__name__
    if kind == "XGBRegressor":
        # lazy: a training library: served models score without it
        import xgboost as xgb

        booster = reg.get_booster()
        out = booster.predict(xgb.DMatrix(X), pred_contribs=True)
        return out[:, -1].astype(np.float64), out[:, :-1].astype(np.float64)
    if kind == "LGBMRegressor":
        out = reg.booster_.predict(X, pred_contrib=True, num_threads=1)
        return out[:, -1], out[:, :-1]
    if is_oblivious(reg):
        return forest_of(reg).shap_values(X)
    # lazy: SHAP and matplotlib only to explain or plot
    import shap

    explainer = shap.TreeExplainer(reg)
    values = explainer.shap_values(X, check_additivity=False)
    base = np.full(X.shape[0], float(np.ravel(explainer.expected_value)[0]))
    return base, np.asarray(values, dtype=np.float64)


def prepare(reg: Any) -> None:
    """Compute now what explaining will need (the SHAP tables of CatBoost members' trees,
    0.24 s for 1000 trees of depth 6), e.g. in a server's background preload."""
    for est in [est for _, est, _ in reg.members] if isinstance(reg, Blend) else [reg]:
        if is_oblivious(est):
            forest_of(est).prepare()


def explain(model: Any, rows: Any) -> Explanation:
    """Explain a PriceModel's log predictions for raw rows, by source feature."""
    X = model.encoder.transform(rows)
    base, phi = raw_contributions(model.regressor, X)
    fold, sources = fold_matrix(model.encoder.feature_names)
    values = phi @ fold
    if model.location is not None:
        values = np.column_stack([values, model.location.effect(rows)])
        sources = [*sources, model.location.source]
    return Explanation(base, values, sources)


def global_importance(exp: Explanation) -> list[dict[str, float | str]]:
    """Mean |SHAP| per source feature (log units and approximate % price effect), sorted."""
    mean_abs = np.abs(exp.values).mean(axis=0)
    order = np.argsort(-mean_abs)
    return [
        {
            "feature": exp.sources[i],
            "mean_abs_shap": float(mean_abs[i]),
            "pct_effect": float(np.expm1(mean_abs[i]) * 100),
        }
        for i in order
    ]


OTHERS = "all other features"


def top_contributions(
    sources: list[str],
    phi: np.ndarray,
    logs: tuple[float, float],
    prices: np.ndarray,
    row: dict[str, Any],
    top: int,
) -> list[dict[str, Any]]:
    """Top features by |effect| plus one bucket for the rest; dollars split exactly.

    ``logs`` is (base, prediction) on the model's scale and ``prices`` the same as prices.
    Dollar effects use the logarithmic mean of the two prices (LMDI), so they add up to
    price - base price exactly while each keeps the sign of its log effect.
    """
    base, pred = logs
    price, base_price = float(prices[0]), float(prices[1])
    lmean = (price - base_price) / (pred - base) if abs(pred - base) > 1e-12 else price
    order = np.argsort(-np.abs(phi))
    keep, rest = order[:top], order[top:]

    def item(name: str, v: float, value: Any = None) -> dict[str, Any]:
        return {
            "feature": name,
            "value": value,
            "log_effect": round(v, 6),
            "pct_effect": round(float(np.expm1(v) * 100), 3),
            "dollar_effect": round(v * lmean, 2),
        }

    out = [item(sources[i], float(phi[i]), row.get(sources[i])) for i in keep]
    if len(rest):
        out.append(item(OTHERS, float(phi[rest].sum())))
    return out

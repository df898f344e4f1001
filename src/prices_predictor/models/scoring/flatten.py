"""Flatten a fitted regressor into ``Tables``: the Ridge becomes folded coefficients, a few
product terms and its inputs' training range; the trees of XGBoost, LightGBM, CatBoost and
scikit-learn forests become node tables with the blend weights folded into the leaves.

Split semantics follow each library ("go right when v > t", where v is the feature as
float32 for XGBoost and scikit-learn); the sum is taken in float64, so results match the
libraries to float32 rounding in log price. Inputs are finite by construction (the encoder
imputes every missing or infinite value), so the libraries' missing-value directions never
come into play.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from prices_predictor.models.blend import Blend
from prices_predictor.models.linear import linear_parts
from prices_predictor.models.oblivious import forest_of, is_oblivious
from prices_predictor.models.scoring.tables import Tables, Unsupported


def flatten(reg: Any) -> Tables:
    """Flatten a supported regressor (or Blend of them); raise Unsupported otherwise."""
    first = reg.members[0][1] if isinstance(reg, Blend) else reg
    lin = linear_parts(first)
    n_features = len(lin[0]) if lin is not None else getattr(first, "n_features_in_", None)
    if n_features is None:
        raise Unsupported("unfitted or unknown estimator")
    tables = Tables(n_features=int(n_features))
    if isinstance(reg, Blend):
        for (_, est, _), w in zip(reg.members, reg.weights, strict=True):
            _add(tables, est, float(w))
    else:
        _add(tables, reg, 1.0)
    return tables


def _add(t: Tables, est: Any, w: float) -> None:
    lin = linear_parts(est)
    if lin is not None:
        if t.log_cols is not None and not (
            np.array_equal(lin.log_cols, t.log_cols)
            and np.array_equal(lin.lo, t.lo)
            and np.array_equal(lin.hi, t.hi)
        ):
            raise Unsupported("two linear members with different input transforms")
        t.coef = t.coef + w * lin.coef
        t.pairs = np.concatenate([t.pairs, lin.pairs])
        t.pair_coef = np.concatenate([t.pair_coef, w * lin.pair_coef])
        t.log_cols = np.asarray(lin.log_cols, dtype=np.int64)
        t.lo, t.hi = lin.lo, lin.hi
        t.intercept += w * lin.intercept
        return
    kind = type(est).__name__
    if kind == "XGBRegressor":
        _add_xgboost(t, est.get_booster(), w)
    elif kind == "LGBMRegressor":
        _add_lightgbm(t, est.booster_, w)
    elif is_oblivious(est):
        _add_catboost(t, est, w)
    elif isinstance(est, RandomForestRegressor):
        for tree in est.estimators_:
            _add_sklearn_tree(t, tree.tree_, w / len(est.estimators_))
    else:
        raise Unsupported(kind)


def _add_xgboost(t: Tables, booster: Any, w: float) -> None:
    learner = json.loads(booster.save_raw("json"))["learner"]
    if learner["objective"]["name"] != "reg:squarederror":
        raise Unsupported(f"xgboost objective {learner['objective']['name']}")
    model = learner["gradient_booster"]["model"]
    if learner["gradient_booster"]["name"] != "gbtree":
        raise Unsupported("xgboost booster other than gbtree")
    base = json.loads(learner["learner_model_param"]["base_score"])  # e.g. "[1.2010484E1]"
    t.intercept += w * float(np.float32(base[0] if isinstance(base, list) else base))
    for tree in model["trees"]:
        left = np.array(tree["left_children"])
        cond = np.array(tree["split_conditions"], dtype=np.float32)
        if any(tree["split_type"]) or tree["categories"]:
            raise Unsupported("xgboost categorical splits")
        # XGBoost goes right when float32(x) >= t, i.e. when float32(x) > the float32 below t.
        below = np.nextafter(cond, np.float32(-np.inf), dtype=np.float32).astype(np.float64)
        leaves = {i: w * float(cond[i]) for i in range(len(left)) if left[i] == -1}
        t.add_tree(
            np.array(tree["split_indices"]),
            below,
            left,
            np.array(tree["right_children"]),
            leaves,
            as32=True,
        )


def _add_lightgbm(t: Tables, booster: Any, w: float) -> None:
    dump = booster.dump_model()
    if dump.get("average_output") or dump["num_tree_per_iteration"] != 1:
        raise Unsupported("lightgbm model is not a plain regression ensemble")
    for info in dump["tree_info"]:
        _add_lightgbm_tree(t, info["tree_structure"], w)


def _add_lightgbm_tree(t: Tables, root: dict[str, Any], w: float) -> None:
    """Number the nodes of a nested LightGBM tree (depth-first) and add it."""
    nodes: list[dict[str, Any]] = []
    index: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        index[id(node)] = len(nodes)
        nodes.append(node)
        if "leaf_value" not in node:
            if node["decision_type"] != "<=" or node["missing_type"] not in ("None", "NaN"):
                raise Unsupported("lightgbm split other than numeric '<='")
            stack += [node["right_child"], node["left_child"]]
    n = len(nodes)
    feature, threshold = np.zeros(n, dtype=np.int64), np.zeros(n)
    left, right = np.full(n, -1), np.full(n, -1)
    leaves: dict[int, float] = {}
    for i, node in enumerate(nodes):
        if "leaf_value" in node:
            leaves[i] = w * float(node["leaf_value"])
            continue
        feature[i] = int(node["split_feature"])
        threshold[i] = float(node["threshold"])
        left[i] = index[id(node["left_child"])]
        right[i] = index[id(node["right_child"])]
    t.add_tree(feature, threshold, left, right, leaves, as32=False)


def _add_catboost(t: Tables, est: Any, w: float) -> None:
    try:
        forest = forest_of(est)
    except ValueError as exc:  # categorical splits, several outputs
        raise Unsupported(str(exc)) from exc
    t.intercept += w * forest.bias
    for features, borders, values, _ in forest.trees():
        if not len(features):
            t.intercept += w * float(values[0])
            continue
        _add_oblivious_tree(t, features, borders.astype(np.float64), w * values)


def _add_oblivious_tree(
    t: Tables, feature: np.ndarray, border: np.ndarray, leaf_values: np.ndarray
) -> None:
    """An oblivious tree (level k tests split k everywhere) as a full binary tree in heap
    order. CatBoost indexes its leaves by the split outcomes with split k as bit k ("go
    right when float32(x) > border")."""
    depth = len(feature)
    inner = (1 << depth) - 1
    level = np.floor(np.log2(np.arange(inner) + 1)).astype(np.int64)
    nodes = np.arange(inner)
    leaves: dict[int, float] = {}
    for path in range(1 << depth):  # path bits: level 0 is the most significant
        index = sum(((path >> (depth - 1 - k)) & 1) << k for k in range(depth))
        leaves[inner + path] = float(leaf_values[index])
    t.add_tree(
        np.concatenate([feature[level], np.zeros(len(leaves), dtype=np.int64)]),
        np.concatenate([border[level], np.zeros(len(leaves))]),
        np.concatenate([2 * nodes + 1, np.full(len(leaves), -1)]),
        np.concatenate([2 * nodes + 2, np.full(len(leaves), -1)]),
        leaves,
        as32=True,
    )


def _add_sklearn_tree(t: Tables, tree: Any, w: float) -> None:
    left = tree.children_left
    leaves = {i: w * float(tree.value[i, 0, 0]) for i in range(tree.node_count) if left[i] == -1}
    t.add_tree(tree.feature, tree.threshold, left, tree.children_right, leaves, as32=True)

"""The Ridge member: interactions, the monotone constraint, and how both reach the kernel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize, nnls
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from prices_predictor.core.errors import UserError
from prices_predictor.models.explain import raw_contributions
from prices_predictor.models.linear import Interactions, SkewLog, interaction_pairs
from prices_predictor.models.monotone_ridge import MonotoneRidge, slope_constraints
from prices_predictor.models.scoring.kernel import BLOCK_ROWS, QS_ROWS
from prices_predictor.models.scoring.library import compile_regressor, library_predict
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model
from tests.conftest import AMES
from tests.tolerances import linear_terms, reordered_sum


def _levels(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column and a 3-level one-hot; the numeric's slope is negative in level 2."""
    x = rng.normal(size=n)
    level = rng.integers(0, 3, size=n)
    onehot = np.eye(3)[level]
    y = 2.0 * x - 3.5 * x * (level == 2) + 0.1 * rng.normal(size=n)
    return np.column_stack([x, onehot]), y


def _pipeline(pairs: tuple[tuple[int, int], ...], increasing: tuple[int, ...]) -> Pipeline:
    return Pipeline(
        [
            ("skewlog", SkewLog(clip=False)),
            ("scale", StandardScaler()),
            ("interact", Interactions(pairs)),
            ("ridge", MonotoneRidge(1.0, pairs, increasing)),
        ]
    )


def _slopes(pipe: Pipeline, X: np.ndarray) -> list[float]:
    """The fitted pipeline's slope in column 0 within each level (finite differences)."""
    out = []
    for level in range(3):
        rows = np.zeros((2, 4))
        rows[:, 0] = [0.0, 1.0]
        rows[:, 1 + level] = 1.0
        a, b = pipe.predict(rows)
        out.append(float(b - a))
    return out


def test_without_active_constraints_it_is_sklearn_ridge() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ np.array([1.0, 2.0, -1.0, 0.5, 3.0]) + rng.normal(size=200)
    ours = MonotoneRidge(3.0, (), (0, 1)).fit(X, y)
    ref = Ridge(3.0).fit(X, y)
    # two solvers of a well-conditioned 5x5 system (condition ~2): agree to ~1e-15 relative
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-9, abs=1e-12)


def test_a_level_slope_that_would_be_negative_is_held_at_zero() -> None:
    rng = np.random.default_rng(1)
    X, y = _levels(600, rng)
    pairs = ((0, 1), (0, 2), (0, 3))
    free = _pipeline(pairs, ()).fit(X, y)
    held = _pipeline(pairs, (0,)).fit(X, y)
    assert min(_slopes(free, X)) < -1.0  # the data really asks for a negative slope
    slopes = _slopes(held, X)
    # a slope held at 0 shows as the difference of two predictions (|y| ~ 5), each rounded:
    # 1e-12 of |y| is far above that rounding and far below any real slope (> 1 here)
    zero = 1e-12 * float(np.abs(y).max())
    assert min(slopes) >= -zero and slopes[2] == pytest.approx(0.0, abs=zero)
    assert slopes[0] > 1.0 and slopes[1] > 1.0  # the other levels keep their slope
    # a house in none of the levels (an unseen category) is covered too
    a, b = held.predict(np.array([[0.0, 0, 0, 0], [1.0, 0, 0, 0]]))
    assert b - a >= -zero


def test_the_constrained_fit_is_the_optimum() -> None:
    """The fit meets the optimality (KKT) conditions of the constrained problem, so no
    feasible point does better; a general solver on the same problem lands on it too.

    Tolerances are relative to the problem's own magnitudes (gradient, objective,
    coefficients), never absolute: solvers and BLAS kernels differ in rounding by CPU.
    """
    rng = np.random.default_rng(2)
    X, y = _levels(300, rng)
    pairs = ((0, 1), (0, 2), (0, 3))
    Z = Interactions(pairs).transform(StandardScaler().fit_transform(X))
    ours = MonotoneRidge(5.0, pairs, (0,)).fit(Z, y)
    w = ours.coef_
    Zc, yc = Z - Z.mean(axis=0), y - y.mean()
    G = slope_constraints(Z, 4, pairs, (0,))
    assert len(G) == 4  # three levels + none of them

    def objective(v: np.ndarray) -> float:
        return float(np.sum((yc - Zc @ v) ** 2) + 5.0 * v @ v)

    def gradient(v: np.ndarray) -> np.ndarray:
        return -2.0 * Zc.T @ (yc - Zc @ v) + 10.0 * v

    grad_scale = float(np.linalg.norm(gradient(np.zeros_like(w))))  # the gradient's size
    slack = G @ w
    assert slack.min() < 1.0  # a constraint is active: this is the constrained case
    # primal feasibility: no slope below zero beyond rounding of |G| |w|
    assert (slack >= -1e-12 * np.abs(G) @ np.abs(w)).all()
    # stationarity with multipliers >= 0: the gradient is a non-negative mix of constraints
    lam, residual = nnls(G.T, gradient(w))
    assert residual <= 1e-9 * grad_scale
    assert lam.max() > 0  # ... and the active constraint carries it
    # complementary slackness: a multiplier is zero wherever its constraint is slack
    assert (np.abs(lam * slack) <= 1e-9 * objective(w)).all()
    # weak duality: for any w', f(w) <= f(w') - lam . (G w'); here w' from SLSQP, which may
    # stop slightly infeasible ("positive directional derivative" at the optimum)
    ref = minimize(
        objective,
        np.zeros(Z.shape[1]),
        jac=gradient,
        method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda v: G @ v, "jac": lambda v: G}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    bound = objective(ref.x) - float(lam @ (G @ ref.x))
    assert objective(w) <= bound + 1e-9 * objective(w)
    # same coefficients up to SLSQP's own precision, relative to their size
    np.testing.assert_allclose(w, ref.x, rtol=0, atol=1e-4 * np.abs(w).max())


def test_sample_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="sample weights"):
        MonotoneRidge().fit(np.ones((3, 1)), np.ones(3), sample_weight=np.ones(3))


def test_interaction_names_resolve_to_level_columns() -> None:
    names = ["Lot Area", "Overall Qual", "Sale Type=New", "Sale Type=WD", "Street=Pave"]
    assert interaction_pairs([["Lot Area", "Sale Type"]], names) == ((0, 2), (0, 3))
    assert interaction_pairs([["Overall Qual", "Alley"]], names) == ()  # no level in the data


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([["Lot Size", "Sale Type"]], "'Lot Size' is not a numeric or ordinal column"),
        ([["Lot Area", "Overall Qual"]], "'Overall Qual' is not a nominal column"),
        ([["Lot Area"]], r"\['Lot Area'\] is not a \[numeric, nominal\] pair"),
        ({"Lot Area": "Sale Type"}, "expected a list"),
    ],
)
def test_a_bad_interaction_in_a_params_file_names_the_file_and_entry(
    tmp_path: Path, spec: object, message: str
) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"linear": {"interactions": spec}}))
    with pytest.raises(UserError, match=f"{f}: linear interactions: {message}"):
        default_params(f, AMES)


@pytest.fixture(scope="module")
def linear(small_ames: pd.DataFrame) -> tuple[object, np.ndarray]:
    model = fit_price_model(small_ames, "linear", default_params(), AMES, folds=2, n_jobs=1).model
    pipe = model.regressor
    assert len(pipe.named_steps["interact"].pairs) > 0  # the defaults interact
    return pipe, model.encoder.transform(small_ames)


def test_kernel_and_library_fold_the_products_exactly(linear: tuple[object, np.ndarray]) -> None:
    pipe, X = linear
    want = pipe.predict(X)  # type: ignore[attr-defined]
    fast = compile_regressor(pipe)
    # the scaler and the products' expansion are folded into the kernel's coefficients: the
    # same sum in another form, equal up to rounding of its terms
    tol = reordered_sum(X.shape[1] + 1, linear_terms(pipe, X))
    np.testing.assert_allclose(library_predict(pipe)(X), want, rtol=0, atol=tol)
    # one row, a walked block, QuickScorer blocks, column-major input
    for M in (X[:1], X[: BLOCK_ROWS + 1], X[: QS_ROWS + 70], np.asfortranarray(X)):
        np.testing.assert_allclose(fast(M), pipe.predict(M), rtol=0, atol=tol)  # type: ignore[attr-defined]


def test_explanations_share_each_product_and_stay_additive(
    linear: tuple[object, np.ndarray],
) -> None:
    pipe, X = linear
    base, phi = raw_contributions(pipe, X[:50])
    tol = reordered_sum(X.shape[1] + 1, linear_terms(pipe, X[:50]))
    np.testing.assert_allclose(base + phi.sum(axis=1), pipe.predict(X[:50]), rtol=0, atol=tol)  # type: ignore[attr-defined]


def test_a_ridge_saved_before_interactions_still_compiles(small_ames: pd.DataFrame) -> None:
    model = fit_price_model(small_ames, "linear", default_params(), AMES, folds=2, n_jobs=1).model
    X = model.encoder.transform(small_ames)
    old = Pipeline(
        [
            ("skewlog", SkewLog().fit(X)),
            ("scale", StandardScaler()),
            ("ridge", Ridge(30.0)),
        ]
    ).fit(X, np.log1p(small_ames["SalePrice"].to_numpy()))
    tol = reordered_sum(X.shape[1] + 1, linear_terms(old, X))
    np.testing.assert_allclose(compile_regressor(old)(X), old.predict(X), rtol=0, atol=tol)
    base, phi = raw_contributions(old, X[:5])
    np.testing.assert_allclose(base + phi.sum(axis=1), old.predict(X[:5]), rtol=0, atol=tol)

"""The kernels compiled ahead of time: the JIT's bits at every CPU level, served without numba."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from prices_predictor.models.scoring import aot, quickscorer
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model
from tests.conftest import AMES, base_env, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The modules for the levels this CPU runs, built the way an image build does."""
    out = tmp_path_factory.mktemp("aot")
    args = [f"--level={lv}" for lv in aot.runnable_levels()]
    cmd = [sys.executable, "-m", "prices_predictor.models.scoring.aot", "--out", str(out), *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def houses(small_ames: pd.DataFrame) -> pd.DataFrame:
    return small_ames.head(300)


def _fit(houses: pd.DataFrame, name: str, **params: Any) -> Any:
    p = default_params()
    p.setdefault(name, {}).update(params)
    return fit_price_model(houses, name, p, AMES, folds=2, n_jobs=1).model


@pytest.mark.parametrize(
    ("strategy", "params", "mask"),
    [
        ("xgboost", {"n_estimators": 30, "max_depth": 6, "min_child_weight": 0.0}, np.uint64),
        ("lightgbm", {"n_estimators": 40}, np.uint32),
        ("random_forest", {"n_estimators": 5}, None),  # too many leaves: walked, not QS
    ],
)
def test_every_level_gives_the_jit_kernels_bits(
    aot_dir: Path, houses: pd.DataFrame, strategy: str, params: dict[str, Any], mask: Any
) -> None:
    from prices_predictor.models.scoring import _jit
    from prices_predictor.models.scoring.kernel import tree_groups
    from prices_predictor.models.scoring.tables import GROUP

    model = _fit(houses, strategy, **params)
    packed = model._kernel_tables()
    qs = quickscorer.build(packed)
    assert (qs is None) == (mask is None)
    assert qs is None or qs.node_mask.dtype == mask
    X = model.encoder.transform(houses)
    groups = tree_groups(packed.as32, packed.depth, GROUP)
    levels = aot.runnable_levels()
    assert levels, "no ahead-of-time level for this machine"
    for level in levels:
        (path,) = aot_dir.glob(aot.module_name(level) + ".*.so")
        compiled = aot.Compiled(level, path)
        for n in (1, 5, 12, 64, 65, 300):
            for M in (np.ascontiguousarray(X[:n]), np.asfortranarray(X[:n]), X[:n][::-1]):
                want, got = np.empty(n), np.empty(n)
                _jit.score_rows(np.ascontiguousarray(M), 0, n, *packed.args(), want, groups)
                compiled.score_rows(M, 0, n, *packed.args(), got, groups)
                np.testing.assert_array_equal(got, want, err_msg=f"rows {level} n={n}")
                _jit.score_blocks(M, 0, n, *packed.args(), want)
                compiled.score_blocks(M, 0, n, *packed.args(), got)
                np.testing.assert_array_equal(got, want, err_msg=f"blocks {level} n={n}")
                if qs is not None:
                    args = quickscorer.kernel_args(packed, qs)
                    _jit.score_qs(M, 0, n, *args, want)
                    compiled.score_qs(M, 0, n, *args, got)
                    np.testing.assert_array_equal(got, want, err_msg=f"qs {level} n={n}")


def test_the_best_level_the_cpu_runs_is_chosen(aot_dir: Path) -> None:
    best = aot.runnable_levels()[0]
    loaded = aot.load(aot_dir)
    assert loaded is not None and loaded.level == best
    assert aot.load(aot_dir / "absent") is None


BLOCK_NUMBA = textwrap.dedent(
    """
    import sys

    class _NoNumba:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("numba", "llvmlite"):
                raise ImportError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NoNumba())
    """
)


def test_a_model_prices_without_numba_with_the_same_bits_or_through_its_libraries(
    aot_dir: Path, bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    """What the runtime image does (no numba installed): the ahead-of-time kernel gives the
    JIT's prices; with no kernel at all, the model's libraries price, and the log says so."""
    no_numba = tmp_path / "site"
    no_numba.mkdir()
    (no_numba / "sitecustomize.py").write_text(BLOCK_NUMBA)
    data = tmp_path / "houses.csv"
    houses.to_csv(data, index=False)

    def predict(name: str, **env: str) -> tuple[pd.DataFrame, str]:
        out = tmp_path / f"{name}.csv"
        e = base_env(tmp_path / name, PP_MODEL_URI=str(bundle_dir), **env)
        proc = run_cli(["predict", "--data", str(data), "--out", str(out)], e, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return pd.read_csv(out), proc.stderr

    jit, _ = predict("jit", PP_KERNEL_BACKEND="jit")
    blocked = {"PYTHONPATH": str(no_numba)}
    got, err = predict("aot", PP_KERNEL_AOT_DIR=str(aot_dir), **blocked)
    assert "without the compiled kernel" not in err
    pd.testing.assert_frame_equal(got, jit)
    lib, err = predict("lib", PP_KERNEL_AOT_DIR=str(tmp_path / "none"), **blocked)
    assert "scoring without the compiled kernel" in err and "'jit' extra" in err
    # XGBoost adds float32 leaves in float32; the kernel in float64: ~1e-6 relative
    np.testing.assert_allclose(lib["price"], jit["price"], rtol=1e-5)
    forced = run_cli(
        ["predict", "--data", str(data), "--out", str(tmp_path / "x.csv")],
        base_env(
            tmp_path / "forced",
            PP_MODEL_URI=str(bundle_dir),
            PP_KERNEL_BACKEND="aot",
            PP_KERNEL_AOT_DIR=str(tmp_path / "none"),
        ),
        timeout=300,
    )
    assert forced.returncode == 2 and "Traceback" not in forced.stderr
    assert "PP_KERNEL_BACKEND=aot: no ahead-of-time kernel" in forced.stderr

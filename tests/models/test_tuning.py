"""``train --tune``: starts from the defaults, never registers a worse CV, shows progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import private_home, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.long]  # an Optuna search: about a minute


def test_tune_never_registers_a_worse_cv_than_the_defaults_and_shows_progress(
    trained_home: dict[str, str], small_csv: Path, tmp_path: Path
) -> None:
    env = {
        **private_home(trained_home, tmp_path / "pp"),
        "PP_TUNE_TRIALS": "4",
        # 4 trials end the search; the time budget only has to leave room for them on a
        # loaded machine (else a member is skipped: "no time left")
        "PP_TUNE_TIMEOUT_S": "150",
    }
    proc = run_cli(
        ["train", "--data", str(small_csv), "--model", "xgboost", "--tune", "--no-deploy"],
        env,
        check=True,
    )
    err = proc.stderr
    # stage by stage (not a terminal: plain lines), trials with the best CV and time left
    for line in (
        "[train] read the data done in",
        "[train] fit (CV, final fit) ...",
        "[train] tune: CV of the defaults done in",
        "[train] register in MLflow done in",
    ):
        assert line in err, err
    assert "[train] tune: xgboost: 1/4; best CV 0." in err and " s left" in err
    listed = {
        m["version"]: m["metrics"]
        for m in json.loads(run_cli(["models", "--json"], env, check=True).stdout)
    }
    untuned, tuned = listed["1"], listed["2"]
    # the session's model: same data, folds, seed and (fast) defaults, no tuning
    assert tuned["tune_default_cv_rmse"] == pytest.approx(untuned["cv_rmse_mean"], rel=1e-9)
    assert tuned["cv_rmse_mean"] <= untuned["cv_rmse_mean"] * (1 + 1e-9)
    # the fit registers the CV tuning judged for what it kept (not computed a second time)
    judged = "tune_default_cv_rmse" if tuned["tune_gain"] == 0 else "tune_best_cv_rmse"
    assert tuned["cv_rmse_mean"] == tuned[judged]
    if tuned["tune_gain"] == 0:
        assert "defaults were kept" in proc.stdout
        assert tuned["cv_rmse_mean"] == pytest.approx(untuned["cv_rmse_mean"], rel=1e-9)
    else:
        assert tuned["tune_gain"] > 0 and "better" in proc.stdout
        assert "chosen xgboost: " in err

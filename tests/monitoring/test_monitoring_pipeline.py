"""The ZenML monitoring pipeline and the training drift gate, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from prices_predictor.store.predlog import PredictionLog
from tests.conftest import logged, private_home, run_cli

pytestmark = pytest.mark.slow


@pytest.mark.long  # monitoring, retraining and gates end to end: in make test-slow
def test_monitor_alerts_then_retrains_and_training_drift_can_fail(
    trained_home: dict[str, str],
    small_ames: pd.DataFrame,
    small_csv: Path,
    tmp_path: Path,
) -> None:
    home = tmp_path / "pp"
    env = private_home(trained_home, home, "serving")
    shifted = small_ames.sample(300, random_state=1).copy()
    shifted["Gr Liv Area"] *= 1.5
    recs = json.loads(shifted.drop(columns=["SalePrice"]).to_json(orient="records"))
    log = PredictionLog(f"sqlite:///{home}/predictions.db", home / "journal")
    log.add(logged(recs))
    log.close()
    proc = run_cli(["monitor"], env)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "important feature(s) drifted: Gr Liv Area" in proc.stdout
    # the retrained model (a heavily shrunk Ridge) is worse than the champion: it is registered
    # and gated, and becomes the challenger
    weak = tmp_path / "weak.json"
    weak.write_text(json.dumps({"linear": {"alpha": 3000.0}}))
    retrain = {**env, "PP_MODEL": "linear", "PP_PARAMS_FILE": str(weak)}
    proc = run_cli(["monitor", "--retrain-data", str(small_csv)], retrain)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "retraining on" in proc.stdout and "version 2" in proc.stdout
    assert "CHALLENGER" in proc.stdout
    # new training data shifted against the champion's reference: fail when told to
    bad = tmp_path / "shifted.csv"
    train_shift = small_ames.copy()
    train_shift["Gr Liv Area"] *= 1.5
    train_shift.to_csv(bad, index=False)
    proc = run_cli(["train", "--data", str(bad)], {**env, "PP_DRIFT_ON_TRAINING": "fail"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "training data drifted" in proc.stderr and "Traceback" not in proc.stderr

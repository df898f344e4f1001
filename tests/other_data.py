"""Models trained, through the CLI, on housing data of other schemas than Ames (no spec given:
the spec is inferred), each the champion of its own PP_HOME."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests import datasets
from tests.conftest import base_env, run_cli

OTHER_TRAINED = ("windsor", "saratoga", "sacramento")
UNSOLD_IN, UNSOLD = "sacramento", 40  # this file also lists houses not sold (no price)
# and names its size as a German export would: the API field is wohnflaeche_ft2
ACCENTED = {"sqft": "Wohnfläche (ft²)"}


def with_listings(path: Path) -> None:
    """Add houses without a price among the sales, as a file of listings and sales has them,
    and name a column with letters outside ASCII."""
    df = pd.read_csv(path).rename(columns=ACCENTED)
    listed = df.sample(UNSOLD, random_state=1).assign(**{datasets.target(UNSOLD_IN): np.nan})
    half = UNSOLD // 2
    parts = [df.iloc[:300], listed.iloc[:half], df.iloc[300:], listed.iloc[half:]]
    pd.concat(parts).to_csv(path, index=False)


@pytest.fixture(scope="session")
def other_homes(
    tmp_path_factory: pytest.TempPathFactory, fast_params_file: Path
) -> dict[str, dict[str, str]]:
    """name -> env of a PP_HOME whose champion was trained on that data set."""
    out = {}
    root = tmp_path_factory.mktemp("other")
    for name in OTHER_TRAINED:
        data = datasets.to_csv(name, root)
        if name == UNSOLD_IN:
            with_listings(data)
        env = base_env(root / name, fast_params_file)
        for k in ("PP_GATE_MAX_RMSE", "PP_GATE_MIN_R2"):  # Ames numbers: the baseline decides
            env.pop(k)
        proc = run_cli(
            ["train", "--data", str(data), "--target", datasets.target(name)], env, timeout=600
        )
        assert proc.returncode == 0, f"{name}: {proc.stdout}\n{proc.stderr}"
        out[name] = {**env, "TRAIN_STDOUT": proc.stdout, "DATA": str(data)}
    return out

"""Models trained, through the CLI, on housing data of other schemas than Ames (no spec given:
the spec is inferred), each the champion of its own PP_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import datasets
from tests.conftest import base_env, run_cli

OTHER_TRAINED = ("windsor", "saratoga", "sacramento")


@pytest.fixture(scope="session")
def other_homes(
    tmp_path_factory: pytest.TempPathFactory, fast_params_file: Path
) -> dict[str, dict[str, str]]:
    """name -> env of a PP_HOME whose champion was trained on that data set."""
    out = {}
    root = tmp_path_factory.mktemp("other")
    for name in OTHER_TRAINED:
        data = datasets.to_csv(name, root)
        env = base_env(root / name, fast_params_file)
        for k in ("PP_GATE_MAX_RMSE", "PP_GATE_MIN_R2"):  # Ames numbers: the baseline decides
            env.pop(k)
        proc = run_cli(
            ["train", "--data", str(data), "--target", datasets.target(name)], env, timeout=600
        )
        assert proc.returncode == 0, f"{name}: {proc.stdout}\n{proc.stderr}"
        out[name] = {**env, "TRAIN_STDOUT": proc.stdout, "DATA": str(data)}
    return out

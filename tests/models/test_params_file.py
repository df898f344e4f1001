"""A bad PP_PARAMS_FILE stops `train` before any training: one line naming the file and the
entry, exit 2, no traceback, nothing registered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prices_predictor.core.errors import UserError
from prices_predictor.models.strategies import default_params
from tests.conftest import AMES, base_env, run_cli


@pytest.mark.parametrize(
    ("blend", "message"),
    [
        ({"weights": {"ridge": 1.0}}, "blend.weights: 'ridge' is not one of: linear, "),
        ({"candidates": ["forest"]}, "blend.candidates: 'forest' is not one of: linear, "),
        ({"candidates": "catboost"}, "blend.candidates must be a list"),
        ({"weights": {"linear": "heavy"}}, "blend.weights.linear: 'heavy' is not a number >= 0"),
        ({"weights": {"linear": -1}}, "blend.weights.linear: -1 is not a number >= 0"),
        (
            {"weights": {"linear": 0, "lightgbm": 0}},
            "blend.weights: at least one weight must be > 0",
        ),
        ({"weights": {}}, "blend.weights must map member names to weights"),
    ],
)
def test_a_bad_blend_entry_names_the_file_and_entry(
    tmp_path: Path, blend: dict[str, object], message: str
) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"blend": blend}))
    with pytest.raises(UserError) as err:
        default_params(f, AMES)
    assert str(err.value).startswith(f"{f}: {message}")


def test_a_section_that_is_not_an_object_is_refused_and_comments_are_skipped(
    tmp_path: Path,
) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"_comment": "a copy of the built-in file", "lightgbm": 400}))
    with pytest.raises(UserError, match=f"{f}: 'lightgbm' must be an object of parameters"):
        default_params(f, AMES)
    f.write_text(
        json.dumps({"_comment": "a copy of the built-in file", "lightgbm": {"n_estimators": 50}})
    )
    assert default_params(f, AMES)["lightgbm"]["n_estimators"] == 50


def test_train_refuses_a_bad_params_file_before_training(small_csv: Path, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"blend": {"weights": {"ridge": 1.0, "lightgbm": 1.0}}}))
    env = base_env(tmp_path / "home", f)
    proc = run_cli(["train", "--data", str(small_csv)], env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"{f}: blend.weights: 'ridge' is not one of" in out
    assert "Traceback" not in out and "training 'blend'" not in out
    assert not (tmp_path / "home" / "mlflow.db").exists()  # nothing ran, nothing registered

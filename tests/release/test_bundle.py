"""Self-contained bundles: export, verify, load; missing or corrupted files are clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.core.errors import BundleError
from prices_predictor.tracking.bundle import MANIFEST, load_bundle
from tests.conftest import run_cli


def test_bundle_holds_model_metadata_and_reference(
    bundle_dir: Path, small_ames: pd.DataFrame
) -> None:
    manifest = json.loads((bundle_dir / MANIFEST).read_text())
    assert manifest["name"] == "prices_predictor" and manifest["version"] == "1"
    assert "rmse" in manifest["metrics"]
    assert (bundle_dir / "reference.parquet").exists()
    assert (bundle_dir / "metadata.json").exists()
    assert any(f.startswith("model/") for f in manifest["files"])
    model, _ = load_bundle(bundle_dir)
    prices = model.predict_price(small_ames.head(10))
    assert np.isfinite(prices).all() and (prices > 10_000).all()
    ref = pd.read_parquet(bundle_dir / "reference.parquet")
    assert "Gr Liv Area" in ref.columns and "SalePrice" not in ref.columns


@pytest.fixture()
def copy(bundle_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "b"
    shutil.copytree(bundle_dir, dst)
    return dst


def test_missing_file_is_named(copy: Path) -> None:
    victim = next((copy / "model" / "artifacts").glob("*.joblib"))
    victim.unlink()
    with pytest.raises(BundleError, match="file missing: model/artifacts/"):
        load_bundle(copy)


def test_corrupted_file_is_named(copy: Path) -> None:
    victim = next((copy / "model" / "artifacts").glob("*.joblib"))
    victim.write_bytes(b"garbage")
    with pytest.raises(BundleError, match="does not match the checksum written at export"):
        load_bundle(copy)


def test_corrupted_manifest_and_not_a_bundle(copy: Path, tmp_path: Path) -> None:
    (copy / MANIFEST).write_text("{")
    with pytest.raises(BundleError, match="corrupted manifest"):
        load_bundle(copy)
    with pytest.raises(BundleError, match="bundle directory not found"):
        load_bundle(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(tmp_path / "empty")


def test_export_without_alias_fails_clearly(trained_home: dict[str, str], tmp_path: Path) -> None:
    proc = run_cli(["export", "--alias", "challenger", "--out", str(tmp_path / "x")], trained_home)
    assert proc.returncode == 2
    assert "no 'challenger' alias" in proc.stderr

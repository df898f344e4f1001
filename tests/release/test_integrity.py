"""Model integrity: a model whose files differ from the checksums written when it was logged
(registry) or exported (bundle) is never unpickled; the model already serving keeps serving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from prices_predictor.serving.app import create_app
from prices_predictor.tracking.bundle import MANIFEST
from tests.conftest import private_home, run_cli
from tests.serving.fixtures import TOKEN, make_settings, wait_ready

ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _joblib(root: Path) -> Path:
    return next(p for p in root.rglob("*.joblib") if "serving" not in p.relative_to(root).parts)


def test_a_truncated_bundle_is_refused_by_the_cli(
    bundle_dir: Path, small_ames: pd.DataFrame, tmp_path: Path, trained_home: dict[str, str]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bundle)
    _truncate(_joblib(bundle / "model"))
    data = tmp_path / "houses.parquet"
    small_ames.head(5).to_parquet(data)
    env = {**trained_home, "PP_MODEL_URI": str(bundle)}
    proc = run_cli(["predict", "--data", str(data), "--out", str(tmp_path / "out.parquet")], env)
    assert proc.returncode == 2, proc.stderr
    assert "model/artifacts/" in proc.stderr and "does not match the checksum" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_a_tampered_bundle_replacing_the_served_one_is_refused_and_the_old_model_serves(
    bundle_dir: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bundle)
    with TestClient(create_app(make_settings(tmp_path / "home", bundle))) as c:
        wait_ready(c)
        before = c.post("/v1/predict", json={"gr_liv_area": 1500}).json()["price"]
        # a new export lands in place, but its model file is not the one it lists
        manifest = json.loads((bundle / MANIFEST).read_text())
        (bundle / MANIFEST).write_text(json.dumps({**manifest, "version": "2"}))
        victim = _joblib(bundle / "model")
        victim.write_bytes(victim.read_bytes() + b"\x00 appended")
        r = c.post("/admin/reload", headers=ADMIN)
        assert r.status_code == 200
        assert r.json()["result"]["champion"].startswith("error: ModelIntegrityError")
        assert r.json()["versions"] == {"champion": "1"}
        r = c.post("/v1/predict", json={"gr_liv_area": 1500})
        assert r.status_code == 200 and r.headers["x-model-version"] == "1"
        assert r.json()["price"] == before
        metrics = c.get("/metrics").text
        assert "pp_model_integrity_failures_total 1.0" in metrics
        # asking again does not count the same bundle twice
        assert c.post("/admin/reload", headers=ADMIN).json()["result"]["champion"] == "unchanged"
        assert "pp_model_integrity_failures_total 1.0" in c.get("/metrics").text


def test_a_registry_artifact_that_differs_from_what_was_logged_is_refused(
    trained_home: dict[str, str], small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    env = private_home(trained_home, tmp_path / "pp", "serving")
    data, out = tmp_path / "houses.parquet", tmp_path / "out.parquet"
    small_ames.head(5).to_parquet(data)
    args = ["predict", "--data", str(data), "--out", str(out)]
    run_cli(args, env, check=True)
    expected = pd.read_parquet(out)

    # damaged on the serving machine's disk: downloaded again from the registry, same prices
    cached = _joblib(tmp_path / "pp" / "serving")
    _truncate(cached)
    run_cli(args, env, check=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)

    # damaged in the artifact store itself (the copied registry still points at the session's
    # artifact store, so the file is restored afterwards): refused, with the file named
    shutil.rmtree(tmp_path / "pp" / "serving")
    store = Path(trained_home["PP_HOME"]) / "mlartifacts"
    originals = {p: p.read_bytes() for p in store.rglob("*.joblib")}  # every version's model
    try:
        for p in originals:
            p.write_bytes(b"not the model that was trained")
        out.unlink()
        proc = run_cli(args, env)
    finally:
        for p, data in originals.items():
            p.write_bytes(data)
    assert proc.returncode == 2, proc.stderr
    assert "v1" in proc.stderr and "does not match the checksum logged at training" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def _legacy_pickle() -> bytes:
    """A pickle naming a module this version does not have (as a newer version's could)."""
    import pickle
    import sys
    import types

    mod = types.ModuleType("prices_predictor.models.future_kernel")

    class Kernel:
        pass

    Kernel.__module__ = mod.__name__
    Kernel.__qualname__ = "Kernel"
    mod.Kernel = Kernel  # type: ignore[attr-defined]
    sys.modules[mod.__name__] = mod
    try:
        return pickle.dumps(Kernel())
    finally:
        del sys.modules[mod.__name__]


def test_a_model_this_version_cannot_read_is_refused_with_what_to_do(
    bundle_dir: Path, small_ames: pd.DataFrame, trained_home: dict[str, str], tmp_path: Path
) -> None:
    from prices_predictor.tracking.checksums import sha256

    bundle = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bundle)
    _joblib(bundle / "model").write_bytes(_legacy_pickle())
    (bundle / "model" / "requirements.txt").write_text("prices-predictor==9.9.9\n")
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"] = {rel: sha256(bundle / rel) for rel in manifest["files"]}
    (bundle / MANIFEST).write_text(json.dumps(manifest))  # a consistent bundle, old format
    data = tmp_path / "houses.parquet"
    small_ames.head(5).to_parquet(data)
    env = {**trained_home, "PP_MODEL_URI": str(bundle)}
    proc = run_cli(["predict", "--data", str(data), "--out", str(tmp_path / "o.parquet")], env)
    assert proc.returncode == 2, proc.stderr
    assert "saved by prices-predictor 9.9.9" in proc.stderr
    assert "prices-predictor train" in proc.stderr and "Traceback" not in proc.stderr

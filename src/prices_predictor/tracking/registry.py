"""Logging the model to MLflow, registering versions and moving aliases."""

from __future__ import annotations

import contextlib
import json
import pickle
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from prices_predictor import __version__
from prices_predictor.core.errors import RegistryError
from prices_predictor.core.extras import missing_extra
from prices_predictor.models.price_model import PriceModel
from prices_predictor.spec.io import dump_yaml, parse_spec, preset
from prices_predictor.spec.model import DataSpec
from prices_predictor.tracking.checksums import CHECKSUMS_FILE, verify_checksums, write_checksums
from prices_predictor.tracking.legacy import load_legacy

REFERENCE_FILE = "reference.parquet"
METADATA_FILE = "metadata.json"
SPEC_FILE = "spec.yaml"
REFERENCE_ROWS = 3000


def _requirements() -> list[str]:

    pkgs = [
        "mlflow",
        "numpy",
        "pandas",
        "scikit-learn",
        "scipy",
        "xgboost-cpu",
        "lightgbm",
        "joblib",
    ]
    reqs = []
    for p in pkgs:
        try:
            reqs.append(f"{p}=={version(p)}")
        except Exception:
            continue
    return [*reqs, f"prices-predictor=={__version__}"]


def log_price_model(model: PriceModel, train: pd.DataFrame, metadata: dict[str, Any]) -> str:
    """Log the pyfunc model (signature, example) plus metadata, the data spec and the drift
    reference.

    Must run inside an active MLflow run; returns the logged model's URI.
    """
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    import mlflow

    # lazy: MLflow's pyfunc module (~2 s) only to log a model
    from prices_predictor.tracking.pyfunc import (
        PRICE_MODEL_ARTIFACT,
        PricesPyfunc,
        input_example,
        signature_for,
    )

    with tempfile.TemporaryDirectory() as tmp:
        pkl = Path(tmp) / "price_model.joblib"
        joblib.dump(model, pkl)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=PricesPyfunc(),
            artifacts={PRICE_MODEL_ARTIFACT: str(pkl)},
            signature=signature_for(train, model.spec),
            input_example=input_example(train, model.spec),
            pip_requirements=_requirements(),
        )
        meta = Path(tmp) / METADATA_FILE
        meta.write_text(json.dumps(metadata, indent=2, default=str))
        mlflow.log_artifact(str(meta), artifact_path="bundle")
        spec_file = Path(tmp) / SPEC_FILE
        spec_file.write_text(dump_yaml(model.spec), encoding="utf-8")
        mlflow.log_artifact(str(spec_file), artifact_path="bundle")
        ref = Path(tmp) / REFERENCE_FILE
        cols = [c for c in model.spec.names() if c in train.columns]
        train[cols].head(REFERENCE_ROWS).to_parquet(ref, index=False)
        mlflow.log_artifact(str(ref), artifact_path="bundle")
        # the paths are those download_version lays out; verified before the pickle is opened
        sums = write_checksums(
            Path(tmp) / CHECKSUMS_FILE,
            {
                f"model/artifacts/{pkl.name}": pkl,
                METADATA_FILE: meta,
                SPEC_FILE: spec_file,
                REFERENCE_FILE: ref,
            },
        )
        mlflow.log_artifact(str(sums), artifact_path="bundle")
    return str(info.model_uri)


@dataclass
class VersionInfo:
    name: str
    version: str
    run_id: str | None
    source: str
    aliases: list[str]
    tags: dict[str, str]


def client() -> Any:
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    from mlflow import MlflowClient

    return MlflowClient()


def register(model_uri: str, name: str, run_id: str, tags: dict[str, str]) -> str:
    """New version of ``name`` from ``model_uri``; returns the version number."""
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    import mlflow

    mv = mlflow.register_model(model_uri, name, tags={**tags, "run_id": run_id})
    return str(mv.version)


def version_info(name: str, version: str) -> VersionInfo:
    c = client()
    try:
        mv = c.get_model_version(name, str(version))
    except Exception as exc:
        raise RegistryError(f"model {name} version {version} not found") from exc
    return VersionInfo(name, str(mv.version), mv.run_id, mv.source, list(mv.aliases), dict(mv.tags))


def alias_version(name: str, alias: str) -> str | None:
    """Version behind ``alias``, or None when the alias (or the model) does not exist."""
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    from mlflow.exceptions import MlflowException

    try:
        return str(client().get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        code = getattr(exc, "error_code", "")
        if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise RegistryError(f"registry: {str(exc).splitlines()[0]}") from exc


def set_alias(name: str, alias: str, version: str) -> None:
    client().set_registered_model_alias(name, alias, str(version))


def delete_alias(name: str, alias: str) -> None:
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    from mlflow.exceptions import MlflowException

    with contextlib.suppress(MlflowException):
        client().delete_registered_model_alias(name, alias)


def set_version_tags(name: str, version: str, tags: dict[str, Any]) -> None:
    c = client()
    for k, v in tags.items():
        c.set_model_version_tag(name, str(version), k, str(v))


def download_version(name: str, version: str, dst: Path) -> Path:
    """Download the run's model dir and bundle files for ``version`` into ``dst`` and check
    them against the checksums logged with them (ModelIntegrityError if they differ)."""
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    import mlflow

    info = version_info(name, version)
    dst.mkdir(parents=True, exist_ok=True)
    model_dir = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{name}/{version}", dst_path=str(dst / "model")
    )
    if info.run_id:
        mlflow.artifacts.download_artifacts(
            run_id=info.run_id, artifact_path="bundle", dst_path=str(dst)
        )
        for f in (dst / "bundle").iterdir():
            f.rename(dst / f.name)
        (dst / "bundle").rmdir()
    verify_checksums(dst, f"{name} v{version}")
    return Path(model_dir)


def load_price_model(name: str, version: str) -> PriceModel:
    """The fitted PriceModel of a registered version (no pyfunc wrapper)."""
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = download_version(name, version, Path(tmp))
        return load_price_model_dir(model_dir)


def load_price_model_dir(model_dir: Path) -> PriceModel:
    pkl = next((model_dir / "artifacts").glob("*.joblib"), None)
    if pkl is None:
        raise RegistryError(f"{model_dir}: no price model artifact inside")
    try:
        try:
            model = joblib.load(pkl)
        except ImportError as exc:  # a class from a module path 0.1.x had
            missing = missing_extra(exc, f"the model in {model_dir}")
            if missing is not None:  # a library of an extra that is not installed
                raise missing from None
            model = load_legacy(pkl)
    except (ImportError, AttributeError, TypeError, KeyError) as exc:
        # the pickle names classes or fields this version does not have
        raise RegistryError(_incompatible(model_dir, exc)) from None
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise RegistryError(f"{pkl}: damaged model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(model, PriceModel):
        raise RegistryError(f"{pkl}: not a price model ({type(model).__name__})")
    return model


def _incompatible(model_dir: Path, exc: Exception) -> str:
    saved = "another version"
    reqs = model_dir / "requirements.txt"
    if reqs.exists():
        for line in reqs.read_text().splitlines():
            if line.startswith("prices-predictor=="):
                saved = line.split("==", 1)[1].strip()
    return (
        f"{model_dir}: this model was saved by prices-predictor {saved} and cannot be loaded "
        f"by {__version__} ({type(exc).__name__}: {exc}); models saved before 0.2.0 predate "
        "the data spec: train again with `prices-predictor train`"
    )


def latest_version(name: str) -> str:
    versions = client().search_model_versions(f"name='{name}'")
    if not versions:
        raise RegistryError(f"no registered versions of {name}: run `prices-predictor train`")
    return str(max(int(v.version) for v in versions))


def list_versions(name: str) -> list[dict[str, Any]]:
    """Every version with its metrics (from tags), aliases and gate verdict; newest first."""
    c = client()
    versions = c.search_model_versions(f"name='{name}'")
    if not versions:
        return []
    by_version: dict[str, list[str]] = {}
    for alias, v in c.get_registered_model(name).aliases.items():
        by_version.setdefault(str(v), []).append(alias)
    rows = []
    for mv in versions:
        tags = dict(mv.tags)
        metrics = {
            k.removeprefix("metric."): float(v) for k, v in tags.items() if k.startswith("metric.")
        }
        rows.append(
            {
                "version": str(mv.version),
                "aliases": sorted(by_version.get(str(mv.version), [])),
                "strategy": tags.get("strategy", ""),
                "metrics": metrics,
                "verdict": tags.get("gate.verdict", ""),
                "trained_at": tags.get("trained_at", ""),
                "data_fingerprint": tags.get("data_fingerprint", ""),
                "forced_by": tags.get("forced_by"),
            }
        )
    return sorted(rows, key=lambda r: -int(r["version"]))


def version_spec(name: str, version: str) -> DataSpec:
    """The data spec a version was trained with (versions from before specs: the Ames preset)."""
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    import mlflow
    from mlflow.exceptions import MlflowException

    info = version_info(name, version)
    if not info.run_id:
        return preset("ames")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=info.run_id, artifact_path=f"bundle/{SPEC_FILE}", dst_path=tmp
            )
        except (MlflowException, OSError):
            return preset("ames")
        return parse_spec(Path(path).read_text(encoding="utf-8"), f"{name} v{version} spec")

"""Self-contained model bundle: MLflow model dir + metadata + drift reference, checksummed."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from prices_predictor.core.errors import BundleError, ModelIntegrityError, RegistryError
from prices_predictor.core.settings import Settings
from prices_predictor.models.price_model import PriceModel
from prices_predictor.tracking.checksums import check_files, sha256
from prices_predictor.tracking.registry import (
    METADATA_FILE,
    REFERENCE_FILE,
    alias_version,
    download_version,
    load_price_model_dir,
    version_info,
)

MANIFEST = "bundle.json"


def export_bundle(
    s: Settings, out: Path, alias: str = "champion", version: str | None = None
) -> dict[str, Any]:
    """Download a registered version into ``out`` (replaced atomically); returns the manifest."""
    name = s.model_name
    if version is None:
        version = alias_version(name, alias)
        if version is None:
            raise RegistryError(f"{name} has no '{alias}' alias to export")
    info = version_info(name, version)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=out.parent))
    try:
        download_version(name, version, tmp)
        meta_path = tmp / METADATA_FILE
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        files = {str(p.relative_to(tmp)): sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "name": name,
            "version": version,
            "aliases": info.aliases,
            "model_version_arg": os.environ.get("MODEL_VERSION", ""),
            "metrics": meta.get("metrics", {}),
            "features": meta.get("features", {}),
            "trained_at": meta.get("trained_at", ""),
            "data_fingerprint": info.tags.get("data_fingerprint", ""),
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def read_manifest(bundle: Path) -> dict[str, Any]:
    path = bundle / MANIFEST
    if not bundle.is_dir():
        raise BundleError(f"{bundle}: bundle directory not found")
    if not path.exists():
        raise BundleError(f"{bundle}: not a model bundle ({MANIFEST} missing)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}: corrupted manifest ({exc.msg})") from exc
    return manifest


def verify_bundle(bundle: Path) -> dict[str, Any]:
    """Check every listed file exists and matches its checksum."""
    manifest = read_manifest(bundle)
    if not manifest.get("files"):
        raise ModelIntegrityError(f"{bundle}: {MANIFEST} lists no files to verify")
    check_files(bundle, manifest["files"], str(bundle), "written at export")
    return manifest


def load_bundle(bundle: Path) -> tuple[PriceModel, dict[str, Any]]:
    """The verified PriceModel and manifest of a bundle directory."""
    manifest = verify_bundle(bundle)
    try:
        model = load_price_model_dir(bundle / "model")
    except Exception as exc:
        raise BundleError(f"{bundle}: cannot load the model: {exc}") from exc
    return model, manifest


def reference_path(bundle: Path) -> Path:
    return bundle / REFERENCE_FILE

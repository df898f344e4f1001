"""The model a server, a command or a job uses: a registry alias or version, or a bundle.

One place loads models for everything above the tracking layer: the API's holder, the CLI's
``predict``/``explain``/``drift``, the pipelines' steps and the job worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prices_predictor.core.errors import ModelIntegrityError, RegistryError
from prices_predictor.core.settings import Settings
from prices_predictor.models.price_model import PriceModel
from prices_predictor.spec.requests import RequestSchema, request_schema
from prices_predictor.tracking.bundle import MANIFEST, load_bundle, reference_path
from prices_predictor.tracking.checksums import verify_checksums
from prices_predictor.tracking.registry import (
    REFERENCE_FILE,
    alias_version,
    download_version,
    load_price_model_dir,
    version_info,
)

log = logging.getLogger("prices_predictor.tracking.loading")


@dataclass
class LoadedModel:
    """One servable model version and what the API reports about it."""

    model: PriceModel
    name: str
    version: str
    alias: str
    source: str
    metadata: dict[str, Any]
    loaded_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    reference: Path | None = None
    directory: Path | None = None  # the verified files (bundle, or local copy of a version)
    schema: RequestSchema = field(init=False)  # the request models of the model's spec
    # set once batch kernels and explanations are preloaded (serving's background thread)
    preloaded: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.schema = request_schema(self.model.spec)

    def warm(self) -> None:
        """First predictions allocate and JIT-free paths settle; do it before swapping in."""
        self.model.predict_log([{}])
        self.model.predict_log([{}] * 2)


def load_from_registry(s: Settings, alias: str) -> LoadedModel | None:
    """The version behind ``alias``; None when the alias does not exist."""
    version = alias_version(s.model_name, alias)
    if version is None:
        return None
    return load_version(s, version, alias)


def load_from_bundle(path: Path) -> LoadedModel:
    """A verified bundle directory (``export``)."""
    model, manifest = load_bundle(path)
    ref = reference_path(path)
    meta = {**model.metadata, "bundle": manifest}
    return LoadedModel(
        model,
        manifest["name"],
        str(manifest["version"]),
        "bundle",
        str(path),
        meta,
        reference=ref if ref.exists() else None,
        directory=path,
    )


def served_model(s: Settings, version: str | None = None) -> LoadedModel:
    """The model the server would serve (the PP_MODEL_URI bundle, else the PP_SERVE_ALIAS
    version of the registry), or registered ``version`` when given."""
    if version is not None:
        version_info(s.model_name, version)  # a clear error for an unknown version
        return load_version(s, version)
    if s.model_uri:
        return load_from_bundle(Path(s.model_uri))
    loaded = load_from_registry(s, s.serve_alias)
    if loaded is None:
        raise RegistryError(f"{s.model_name} has no '{s.serve_alias}' alias: train first")
    return loaded


def load_version(s: Settings, version: str, alias: str = "") -> LoadedModel:
    """Registered ``version`` (downloaded once into PP_HOME/serving)."""
    info = version_info(s.model_name, version)
    cache = s.home / "serving" / f"{s.model_name}-v{version}"
    what = f"{s.model_name} v{version}"
    if (cache / "model").exists():
        try:
            verify_checksums(cache, f"{what} (local copy {cache})")
        except ModelIntegrityError as exc:  # damaged on this disk: fetch it again
            log.warning("local model copy damaged: downloading it again", extra={"error": str(exc)})
            shutil.rmtree(cache, ignore_errors=True)
    if not (cache / "model").exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache.parent))
        try:
            download_version(s.model_name, version, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        with contextlib.suppress(OSError):  # another process won the race: use its copy
            tmp.rename(cache)
        shutil.rmtree(tmp, ignore_errors=True)
    model = load_price_model_dir(cache / "model")
    ref = cache / REFERENCE_FILE
    source = f"models:/{s.model_name}@{alias}" if alias else f"models:/{s.model_name}/{version}"
    return LoadedModel(
        model,
        s.model_name,
        version,
        alias or f"v{version}",
        source,
        {**model.metadata, "tags": info.tags},
        reference=ref if ref.exists() else None,
        directory=cache,
    )


def load_directory(path: Path) -> PriceModel:
    """The model in a directory made by :func:`load_version` (a version's local copy) or by
    ``export`` (a bundle), checksums verified: what a Spark executor receives."""
    if (path / MANIFEST).exists():
        return load_bundle(path)[0]
    verify_checksums(path, str(path))
    return load_price_model_dir(path / "model")

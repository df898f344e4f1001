"""The Feast repository under ``PP_FEATURE_REPO``: configuration, definitions, apply,
materialize. Definitions are built as Feast objects from the manifest (no Python repo files
to keep in sync with the spec)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from prices_predictor.core.settings import Settings
from prices_predictor.featurestore.layout import (
    ENTITY,
    PROJECT,
    TS,
    FeatureStoreError,
    Manifest,
    plan,
    sale_timestamps,
    source_frame,
)
from prices_predictor.spec.model import DataSpec

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RepoPaths:
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def source(self) -> Path:
        return self.root / "data" / "houses.parquet"

    @property
    def registry(self) -> Path:
        return self.root / "registry.db"

    @property
    def online_db(self) -> Path:
        return self.root / "online.db"


def paths(s: Settings) -> RepoPaths:
    return RepoPaths(s.feature_repo_dir)


def online_config(s: Settings) -> dict[str, Any]:
    """The online store's Feast configuration: SQLite in the repository unless set."""
    if not s.feature_online_store:
        return {"type": "sqlite", "path": str(paths(s).online_db)}
    try:
        conf = json.loads(os.path.expandvars(s.feature_online_store))
    except json.JSONDecodeError as exc:
        raise FeatureStoreError(f"PP_FEATURE_ONLINE_STORE is not JSON: {exc}") from None
    if not isinstance(conf, dict) or "type" not in conf:
        raise FeatureStoreError('PP_FEATURE_ONLINE_STORE needs an object with "type"')
    if conf["type"] == "postgres":
        conf.setdefault("sslmode", "disable")
    return conf


def open_store(s: Settings) -> Any:
    """A ``feast.FeatureStore`` on the repository (created when missing)."""
    # lazy: Feast takes seconds to import; only the commands and servers that use it pay
    from feast import FeatureStore, RepoConfig
    from feast.repo_config import RegistryConfig

    p = paths(s)
    p.root.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(
        project=PROJECT,
        provider="local",
        registry=RegistryConfig(path=str(p.registry), cache_ttl_seconds=60),
        online_store=online_config(s),
        offline_store={"type": "file"},
        entity_key_serialization_version=3,
    )
    return FeatureStore(repo_path=str(p.root), config=config)


def definitions(manifest: Manifest, source_path: Path) -> list[Any]:
    """Entity, source, one view per group of fields, and a service of all views."""
    # lazy: Feast takes seconds to import; only the commands and servers that use it pay
    from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
    from feast.types import Bool, Float64, Int64, String

    types = {"int64": Int64, "float64": Float64, "bool": Bool, "string": String}
    key_type = ValueType.INT64 if manifest.id_dtype == "int64" else ValueType.STRING
    house = Entity(name=ENTITY, join_keys=[manifest.join_key], value_type=key_type)
    source = FileSource(name="houses", path=str(source_path), timestamp_field=TS)
    views = []
    for view in manifest.view_names():
        group = view.removeprefix(f"{ENTITY}_")
        views.append(
            FeatureView(
                name=view,
                entities=[house],
                ttl=timedelta(0),  # a sale's attributes hold until the house sells again
                schema=[
                    Field(name=f.name, dtype=types[f.dtype])
                    for f in manifest.fields
                    if f.group == group
                ],
                source=source,
                online=True,
            )
        )
    service = FeatureService(name=f"{ENTITY}_all", features=list[Any](views))
    return [house, source, *views, service]


def apply(s: Settings, spec: DataSpec, df: pd.DataFrame) -> Manifest:
    """Write the source from ``df`` (the spec's houses) and apply the views; views of an
    earlier spec that no longer exist are deleted."""
    manifest = plan(spec, df)
    ts = sale_timestamps(df, spec)
    frame = source_frame(df, manifest, ts)
    if frame.empty:
        raise FeatureStoreError(
            f"no house has both an id ({manifest.id_column}) and a readable sale date"
        )
    p = paths(s)
    p.source.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.source.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(p.source)
    manifest.rows = len(frame)
    manifest.first_ts = frame[TS].min().isoformat()
    manifest.last_ts = frame[TS].max().isoformat()
    manifest.source = str(p.source)
    store = open_store(s)
    objects = definitions(manifest, p.source)
    wanted = set(manifest.view_names())
    with quiet():
        for old in store.list_feature_views():
            if old.name not in wanted:
                store.delete_feature_view(old.name)
        store.apply(objects)
    manifest.write(p.manifest)
    return manifest


def materialize(s: Settings) -> tuple[Manifest, float]:
    """Load every house's latest attributes into the online store: (manifest, seconds).

    Always the whole history up to now: Feast's incremental run starts a year back on a
    fresh store, and a window that ends in the past would overwrite newer values."""
    manifest = Manifest.read(paths(s).manifest)
    store = open_store(s)
    start = pd.Timestamp(manifest.first_ts).to_pydatetime() - timedelta(seconds=1)
    t0 = time.perf_counter()
    with quiet():
        store.materialize(start, datetime.now(UTC) + timedelta(seconds=1))
    return manifest, time.perf_counter() - t0


@contextlib.contextmanager
def quiet() -> Any:
    """Feast prints progress bars on stdout; keep stdout for the commands' own output."""
    with contextlib.redirect_stdout(sys.stderr):
        yield

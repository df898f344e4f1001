"""Online reads for serving: a house's features by its id.

Any failure of the store (file gone, server down, views out of date) is ``StoreUnavailable``
with the reason: the routes that need the store answer 503, the others never touch it. The
Feast store object is rebuilt after a failure (a dropped PostgreSQL connection never heals in
place) and when the SQLite file was replaced (an open handle keeps reading the old file);
after a failure the store is left alone for ``PP_FEATURE_RETRY_S``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prices_predictor.core.settings import Settings
from prices_predictor.featurestore.layout import Manifest, StoreField
from prices_predictor.featurestore.repo import online_config, open_store, paths

log = logging.getLogger("prices_predictor.featurestore")


class StoreUnavailable(Exception):
    """The online store cannot answer (503 for the requests that need it)."""


@dataclass(frozen=True)
class Found:
    """One id's answer: ``values`` keyed by the spec's column names (nulls left out)."""

    known: bool
    values: dict[str, Any]


class OnlineFeatures:
    def __init__(self, s: Settings) -> None:
        self.settings = s
        self.paths = paths(s)
        self._sqlite = self._sqlite_path(s)
        self._lock = threading.Lock()
        self._store: Any = None
        self._inode: int | None = None
        self._manifest: Manifest | None = None
        self._manifest_mtime = 0.0
        self._failed_at = 0.0
        self._last_error = ""

    @staticmethod
    def _sqlite_path(s: Settings) -> Path | None:
        try:
            conf = online_config(s)
        except Exception:  # reported by the first lookup
            return None
        return Path(conf["path"]) if conf.get("type") == "sqlite" else None

    @property
    def manifest(self) -> Manifest:
        mtime = self.paths.manifest.stat().st_mtime if self.paths.manifest.exists() else 0.0
        if self._manifest is None or mtime != self._manifest_mtime:
            self._manifest = Manifest.read(self.paths.manifest)
            self._manifest_mtime = mtime
            if self._store is not None:
                self._store.refresh_registry()
        return self._manifest

    def id_column(self) -> str | None:
        try:
            return self.manifest.id_column
        except Exception:
            return None

    def lookup(self, ids: list[Any], columns: list[str]) -> list[Found]:
        """Features of ``columns`` (spec column names) for each id, in order."""
        if time.monotonic() - self._failed_at < self.settings.feature_retry_s:
            raise StoreUnavailable(self._last_error)
        try:
            return self._lookup(ids, columns)
        except StoreUnavailable as exc:
            self._fail(str(exc))
            raise
        except Exception as exc:  # any failure of an optional dependency: 503, never 500
            reason = f"feature store: {type(exc).__name__}: {_first_line(exc)}"
            self._fail(reason)
            raise StoreUnavailable(reason) from exc

    def _fail(self, reason: str) -> None:
        log.warning("feature store unavailable: %s", reason)
        self._last_error = reason
        self._failed_at = time.monotonic()
        with self._lock:
            self._store = None

    def _lookup(self, ids: list[Any], columns: list[str]) -> list[Found]:
        manifest = self.manifest
        by_column = manifest.by_column()
        fields = [by_column[c] for c in columns if c in by_column]
        if not fields:
            return [Found(False, {}) for _ in ids]
        store = self._open()
        key = manifest.join_key
        rows = [{key: _key(i, manifest.id_dtype)} for i in ids]
        refs = [f"house_{f.group}:{f.name}" for f in fields]
        out = store.get_online_features(features=refs, entity_rows=rows)
        data = out.to_dict(include_event_timestamps=True)
        return [_found(data, fields, n) for n in range(len(ids))]

    def _open(self) -> Any:
        with self._lock:
            if self._sqlite is not None:
                try:
                    inode = self._sqlite.stat().st_ino
                except FileNotFoundError:
                    self._store = None
                    raise StoreUnavailable(
                        f"feature store: online store file {self._sqlite} is missing "
                        "(run 'prices-predictor features materialize')"
                    ) from None
                if inode != self._inode:
                    self._store, self._inode = None, inode
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    def warm(self) -> None:
        """Import Feast and open the store now (a server's start), not on the first request."""
        try:
            self._open()
        except Exception as exc:
            log.warning("feature store not ready at start: %s", _first_line(exc))


def _key(value: Any, dtype: str) -> Any:
    if dtype == "int64":
        return int(value)
    return str(value)


def _found(data: dict[str, list[Any]], fields: list[StoreField], n: int) -> Found:
    known = any(data.get(f"{f.name}__ts", [0] * (n + 1))[n] for f in fields)
    values = {f.column: data[f.name][n] for f in fields if data[f.name][n] is not None}
    return Found(bool(known), values if known else {})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

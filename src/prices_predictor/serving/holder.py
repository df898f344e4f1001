"""Loaded model variants (champion, challenger), loaded off the request path, swapped atomically."""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from prices_predictor.core.aliases import CHALLENGER, CHAMPION
from prices_predictor.core.errors import ModelIntegrityError
from prices_predictor.core.extras import MissingExtra
from prices_predictor.core.settings import Settings
from prices_predictor.tracking.bundle import MANIFEST
from prices_predictor.tracking.loading import LoadedModel, load_from_bundle, load_from_registry
from prices_predictor.tracking.registry import alias_version

log = logging.getLogger("prices_predictor.serving")


def _preload(loaded: LoadedModel, freeze: bool) -> None:
    """After the model serves: compile the batch kernel, open the regressor and prepare its
    explanations, then (``freeze``) settle the heap.

    One-house predictions need neither; without this the first batch would compile the kernel
    (~0.5 s when the kernel cache is empty) and the first explanation pay ~1 s of imports.
    """
    try:
        loaded.model.warm_kernels()
        # lazy: scikit-learn, SHAP: off a server's start (the preload thread imports them)
        from prices_predictor.models.explain import prepare

        prepare(loaded.model.regressor)
    except MissingExtra as exc:  # e.g. an older CatBoost model without catboost: it prices anyway
        log.warning(f"explanations unavailable: {exc}", extra={"model_version": loaded.version})
    except Exception:  # batches and explanations will report the problem themselves
        log.exception("preloading after start failed", extra={"model_version": loaded.version})
    if freeze:
        settle_heap()
    loaded.preloaded.set()


_SETTLE_LOCK = threading.Lock()


def settle_heap() -> None:
    """Take everything alive now (libraries, loaded models) out of the garbage collector's scans.

    A full collection walks every tracked object: with the model and its libraries loaded that
    is a ~0.1 s pause that requests queue behind (p99 at concurrency 8: 17.7 ms, 8.1 frozen).
    Frozen objects are still freed by reference counting; unfreezing first lets the collection
    reclaim cycles left by a model this load replaced.
    """
    with _SETTLE_LOCK:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


class PredictionCache:
    """Thread-safe LRU of log predictions keyed by (model version, canonical input)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> float | None:
        if self.size == 0:
            return None
        with self._lock:
            v = self._data.get(key)
            if v is not None:
                self._data.move_to_end(key)
            return v

    def put(self, key: tuple[str, str], value: float) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _manifest_digest(bundle: Path) -> str:
    try:
        return hashlib.sha256((bundle / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return "absent"  # load_from_bundle says why


class ModelHolder:
    """App-scoped state: the variants being served and the last load error."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.variants: dict[str, LoadedModel] = {}
        self.last_error: str | None = None
        self._refused: set[tuple[str, str]] = set()  # (variant, version or bundle digest)
        self._bundle_digest: str | None = None  # of the manifest of the bundle being served
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return CHAMPION in self.variants

    def get(self, variant: str = CHAMPION) -> LoadedModel | None:
        return self.variants.get(variant)

    def reload(self) -> dict[str, str]:
        """Load what the aliases (or the bundle) point to now; swap in what changed.

        A failed load keeps the old model. Returns {variant: 'loaded'|'unchanged'|'error: ...'}.
        """
        with self._lock:
            s = self.settings
            result: dict[str, str] = {}
            targets: dict[str, str | None]
            if s.model_uri:
                targets = {CHAMPION: None}
            else:
                targets = {CHAMPION: s.serve_alias, CHALLENGER: CHALLENGER}
            for variant, alias in targets.items():
                try:
                    result[variant] = self._reload_one(variant, alias)
                except Exception as exc:  # keep serving the old model; report why
                    msg = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    result[variant] = f"error: {msg}"
                    if variant == CHAMPION:
                        self.last_error = msg
                    what = "refused" if isinstance(exc, ModelIntegrityError) else "load failed"
                    log.error(f"model {what}", extra={"variant": variant, "error": msg})
            return result

    def _checked(
        self, variant: str, target: str, load: Callable[[], LoadedModel | None]
    ) -> LoadedModel | None:
        """``load()``, remembering a refusal: bytes that failed their checksums will not pass
        on a retry, so ``target`` (a version or a bundle's manifest digest) is not retried."""
        try:
            return load()
        except ModelIntegrityError:
            self._refused.add((variant, target))
            raise

    def _reload_one(self, variant: str, alias: str | None) -> str:
        s = self.settings
        if alias is None:
            assert s.model_uri is not None
            # a bundle replaced in place (a new export, a mounted volume) is picked up by its
            # manifest; its files are verified before it replaces what serves
            digest = _manifest_digest(Path(s.model_uri))
            current = self.variants.get(variant)
            if (current is not None and digest == self._bundle_digest) or (
                variant,
                digest,
            ) in self._refused:
                return "unchanged"
            bundle = Path(s.model_uri)
            loaded: LoadedModel | None = self._checked(
                variant, digest, lambda: load_from_bundle(bundle)
            )
            self._bundle_digest = digest
        else:
            version = alias_version(s.model_name, alias)
            current = self.variants.get(variant)
            if version is None:
                if current is not None and variant != CHAMPION:
                    self.variants.pop(variant, None)
                    return "removed"
                if variant == CHAMPION:
                    self.last_error = f"registry has no '{alias}' alias for {s.model_name}"
                return "absent"
            if (current is not None and current.version == version) or (
                variant,
                version,
            ) in self._refused:
                return "unchanged"
            loaded = self._checked(variant, version, lambda: load_from_registry(s, alias))
        if loaded is None:
            return "absent"
        loaded.warm()
        new = dict(self.variants)
        new[variant] = loaded
        self.variants = new  # one reference assignment: readers see old or new, never half
        if variant == CHAMPION:
            self.last_error = None
        log.info("model loaded", extra={"variant": variant, "model_version": loaded.version})
        threading.Thread(target=_preload, args=(loaded, s.gc_freeze), daemon=True).start()
        return "loaded"

"""Loading models pickled by 0.1.x, whose classes lived in modules that have since moved.

A pickle names each object's class by module path. 0.1.x kept the scoring kernel in
``models.kernel`` (now ``models.scoring``) and a few helpers elsewhere; while such a pickle
is read, those paths resolve to today's modules. The compiled kernel tables it carries are not
reused (their layout changed): they are rebuilt from the regressor on first use, and the
encoder's state is upgraded by the encoder itself (the Ames preset, which 0.1.x was).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib

OLD_MODULES = {
    "prices_predictor.models.fast": "prices_predictor.models.linear",
    "prices_predictor.models.quickscorer": "prices_predictor.models.scoring.quickscorer",
    "prices_predictor.models.registry": "prices_predictor.models.strategies",
    "prices_predictor.errors": "prices_predictor.core.errors",
}
STALE_MODULE = "prices_predictor.models.kernel"  # compiled tables: rebuilt, not reused
_LOCK = threading.Lock()


class StaleTables:
    """Stands in for 0.1.x's compiled kernel objects while unpickling; then dropped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


@contextlib.contextmanager
def old_module_paths() -> Iterator[None]:
    """0.1.x module paths importable for the duration (only those not present today)."""
    added = []
    with _LOCK:
        try:
            for old, new in OLD_MODULES.items():
                if old not in sys.modules:
                    sys.modules[old] = importlib.import_module(new)
                    added.append(old)
            if STALE_MODULE not in sys.modules:
                stale = types.ModuleType(STALE_MODULE)
                stale.__getattr__ = lambda name: StaleTables  # type: ignore[method-assign]
                sys.modules[STALE_MODULE] = stale
                added.append(STALE_MODULE)
            yield
        finally:
            for name in added:
                sys.modules.pop(name, None)


def load_legacy(pkl: Path) -> Any:
    """Unpickle a 0.1.x model: its regressor is opened now (its pickle may name old paths
    too) and compiled tables from then are dropped, to be rebuilt."""
    with old_module_paths():
        model = joblib.load(pkl)
        state = model.__dict__
        for key, value in list(state.items()):
            if isinstance(value, StaleTables):
                del state[key]
        if "_regressor_pickle" in state:
            model.regressor  # noqa: B018  (opens it while the old paths resolve)
    return model

"""Score a flattened blend (``flatten``) with compiled kernels (``_jit``: numba's JIT, or the
same kernels compiled ahead of time, ``aot``).

Each row costs one pass over plain arrays instead of three library calls. Which kernel runs
depends on the number of rows (the crossovers are measured: docs/performance.md): one row at
a time walking groups of trees together, blocks of rows walking each tree together, or
QuickScorer blocks of 64 rows; large inputs are split over the cores.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from prices_predictor.core.errors import UserError
from prices_predictor.core.extras import missing_extra
from prices_predictor.core.settings import get_settings
from prices_predictor.models.scoring import aot, quickscorer
from prices_predictor.models.scoring.tables import GROUP, Packed, Tables

# Below BLOCK_ROWS each row walks groups of trees together (their memory loads overlap); from
# there, blocks of rows walk each tree together, and from QS_ROWS on blocks of 64 rows are
# scored QuickScorer style where the trees allow it: a block costs about the same whether it
# holds 12 or 64 rows, so below QS_ROWS walking is cheaper. From PARALLEL_ROWS on, the blocks
# are split over the cores. The crossovers are measured by `make bench` (docs/performance.md).
BLOCK_ROWS = 8
QS_ROWS = 12
PARALLEL_ROWS = 2000
PIECES_PER_JOB = 4
PIECE_ROWS = 5000  # at least: smaller pieces cost more in dispatch than they balance


def _numba_cache_dir() -> None:
    """Point numba's cache at PP_KERNEL_CACHE_DIR (set before numba is first imported)."""
    if "NUMBA_CACHE_DIR" not in os.environ:
        os.environ["NUMBA_CACHE_DIR"] = str(get_settings().kernel_cache)


def tree_groups(as32: np.ndarray, depth: np.ndarray, size: int) -> np.ndarray:
    """Consecutive trees walked together by one row: (first, end, depth, as32) per group.

    A group holds at most ``size`` trees that share the float32 flag; it walks as deep as its
    deepest tree (leaves absorb the extra steps).
    """
    out, t, n = [], 0, len(depth)
    while t < n:
        end = t + 1
        while end < n and end - t < size and as32[end] == as32[t]:
            end += 1
        out.append((t, end, int(depth[t:end].max()), int(as32[t])))
        t = end
    return np.array(out, dtype=np.int64).reshape(-1, 4)


_BACKENDS: dict[tuple[str, str], Any] = {}
_BACKENDS_LOCK = threading.Lock()


def backend() -> Any:
    """The three kernels (``score_rows``, ``score_blocks``, ``score_qs``): PP_KERNEL_BACKEND
    ``aot`` = compiled ahead of time for this CPU (the runtime image ships them instead of
    numba), ``jit`` = numba (the ``jit`` extra), ``auto`` = the first of them installed.
    Raises MissingExtra when none is."""
    s = get_settings()
    key = (s.kernel_backend, str(s.kernel_aot_dir or ""))
    with _BACKENDS_LOCK:
        if key not in _BACKENDS:
            _BACKENDS[key] = _load_backend(s.kernel_backend, s.kernel_aot_dir)
        return _BACKENDS[key]


def _load_backend(choice: str, aot_dir: Any) -> Any:
    if choice in ("auto", "aot"):
        compiled = aot.load(aot_dir)
        if compiled is not None:
            return compiled
        if choice == "aot":
            where = aot_dir or aot.default_dir()
            raise UserError(
                f"PP_KERNEL_BACKEND=aot: no ahead-of-time kernel for this CPU in {where} "
                "(build them with `python -m prices_predictor.models.scoring.aot`)"
            )
    _numba_cache_dir()
    try:
        # lazy: numba reads NUMBA_CACHE_DIR when first imported: set it first
        from prices_predictor.models.scoring import _jit
    except ImportError as exc:
        missing = missing_extra(exc, "the compiled scoring kernel")
        if missing is None:
            raise
        raise missing from None
    return _jit


class Kernel:
    """Callable X -> log price from flattened tables; thread-parallel for large X."""

    def __init__(self, packed: Packed, n_jobs: int = 2) -> None:
        kernels = backend()
        self.packed = packed
        self._args = self.packed.args()
        self._groups = tree_groups(packed.as32, packed.depth, GROUP)
        self._one: Any = kernels.score_rows
        self._walk: Any = kernels.score_blocks
        self._qs: Any = kernels.score_qs
        self._blocks: tuple[Any, tuple[Any, ...]] | None = None  # see block_kernel
        self.n_jobs = max(1, n_jobs)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def block_kernel(self) -> tuple[Any, tuple[Any, ...]]:
        """The kernel for blocks of rows and its table arguments: QuickScorer when every
        tree has at most 64 leaves, else the walk. Built on first use (~0.1 s, which a
        server's start would otherwise pay before the first one-house request)."""
        if self._blocks is None:
            with self._pool_lock:
                if self._blocks is None:
                    self._blocks = self._make_blocks()
        return self._blocks

    def _make_blocks(self) -> tuple[Any, tuple[Any, ...]]:
        qs = quickscorer.build(self.packed)
        if qs is None:
            return self._walk, self._args
        return self._qs, quickscorer.kernel_args(self.packed, qs)

    def warm(self) -> None:
        """Load (or compile) every kernel this model uses, for both memory layouts (the
        encoder returns rows from dicts row-major, DataFrames column-major)."""
        for n in (1, BLOCK_ROWS, QS_ROWS):
            X = np.zeros((n, self.packed.n_features))
            self(X)
            self(np.asfortranarray(X))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.packed.n_features:
            raise ValueError(f"expected (n, {self.packed.n_features}) features, got {X.shape}")
        n = X.shape[0]
        out = np.empty(n)
        if n < BLOCK_ROWS:
            self._one(np.ascontiguousarray(X), 0, n, *self._args, out, self._groups)
            return out
        if n < QS_ROWS:
            self._walk(X, 0, n, *self._args, out)
            return out
        block, args = self.block_kernel()
        if n < PARALLEL_ROWS or self.n_jobs == 1:
            block(X, 0, n, *args, out)
            return out
        with self._pool_lock:  # batch endpoints score from several threads
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.n_jobs, thread_name_prefix="pp-kernel")
        # more pieces than threads: a thread that shares its core (e.g. with a batch's encoder)
        # finishes later, and the others take its remaining pieces instead of waiting
        pieces = max(self.n_jobs, min(PIECES_PER_JOB * self.n_jobs, n // PIECE_ROWS))
        bounds = np.linspace(0, n, pieces + 1).astype(int)
        jobs = [
            self._pool.submit(block, X, int(a), int(b), *args, out)  # type: ignore[call-arg]
            for a, b in itertools.pairwise(bounds)
        ]
        for j in jobs:
            j.result()
        return out


def warm_cache() -> None:
    """Compile both kernels into the numba cache (image builds: the first start then skips it)."""
    Kernel(Tables.one_split().packed(), n_jobs=1).warm()


if __name__ == "__main__":
    warm_cache()

"""The scoring kernels compiled ahead of time, for installs without numba.

numba and llvmlite weigh ~175 MB, most of the runtime image. ``build`` compiles ``_jit``'s
kernels once with ``numba.pycc`` into small extension modules that need only NumPy: one per
instruction-set level of the architecture (x86-64: baseline, v3 = AVX2, v4 = AVX-512), since
the image may run on another CPU than the one that built it. ``load`` picks the best module
the running CPU supports. The IR is the JIT's and neither uses fast-math, so both give the
same numbers (tested).

    python -m prices_predictor.models.scoring.aot --out DIR
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.machinery
import importlib.util
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from prices_predictor.models.scoring import quickscorer
from prices_predictor.models.scoring.tables import GROUP, Tables

PREFIX = "_aot_"
# target CPUs by machine, lowest first; a level runs where the CPU has all its flags
LEVELS: dict[str, tuple[str, ...]] = {
    "x86_64": ("x86-64", "x86-64-v3", "x86-64-v4"),
    "aarch64": ("generic",),
}
_X86_FLAGS = {
    "x86-64": frozenset(),
    "x86-64-v3": frozenset(
        {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}
        | {"cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"}  # v2
    ),
}
_X86_FLAGS["x86-64-v4"] = _X86_FLAGS["x86-64-v3"] | {
    "avx512f",
    "avx512bw",
    "avx512cd",
    "avx512dq",
    "avx512vl",
}


def module_name(level: str) -> str:
    return PREFIX + level.replace("-", "_")


def default_dir() -> Path:
    """Where an install keeps its compiled modules: beside this file."""
    return Path(__file__).parent


# -- choosing a module at run time ---------------------------------------------------------


def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def runnable_levels() -> list[str]:
    """The levels of this machine's architecture that its CPU runs, best first."""
    levels = LEVELS.get(platform.machine(), ())
    if platform.machine() != "x86_64":
        return list(reversed(levels))
    flags = _cpu_flags()
    return [lv for lv in reversed(levels) if _X86_FLAGS[lv] <= flags]


def _import(name: str, path: Path) -> ModuleType:
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def find(directory: Path | None = None) -> tuple[str, Path] | None:
    """The best compiled module this CPU runs in ``directory``: (level, path), or None."""
    directory = directory or default_dir()
    for level in runnable_levels():
        paths = sorted(directory.glob(module_name(level) + ".*.so"))
        if paths:
            return level, paths[0]
    return None


class Compiled:
    """``_jit``'s three kernels backed by an ahead-of-time module.

    An exported function takes exactly the types it was compiled for: the memory layout of X
    and the width of QuickScorer's masks pick the export, and any other X is copied to C order.
    """

    def __init__(self, level: str, path: Path) -> None:
        self.level = level
        self.path = path
        self._m = _import(module_name(level), path)

    def score_rows(self, X: np.ndarray, *args: Any) -> None:
        self._m.rows_C(_c_or_f(X, "C")[1], *args)

    def score_blocks(self, X: np.ndarray, *args: Any) -> None:
        order, X = _c_or_f(X)
        getattr(self._m, "blocks_" + order)(X, *args)

    def score_qs(self, X: np.ndarray, *args: Any) -> None:
        order, X = _c_or_f(X)
        width = args[QS_MASK_ARG].dtype.itemsize
        getattr(self._m, f"qs_{order}_u{width}")(X, *args)


def load(directory: Path | None = None) -> Compiled | None:
    found = find(directory)
    return Compiled(*found) if found else None


def _c_or_f(X: np.ndarray, only: str = "CF") -> tuple[str, np.ndarray]:
    """X as an export takes it (its layout unchecked by pycc's wrapper): float64, aligned,
    writeable, C or F contiguous (one of ``only``); anything else is copied to C order."""
    if X.dtype == np.float64 and X.flags.aligned and X.flags.writeable:
        if "C" in only and X.flags.c_contiguous:
            return "C", X
        if "F" in only and X.flags.f_contiguous:
            return "F", X
    return "C", np.array(X, dtype=np.float64, order="C")


# -- the arguments each kernel takes -------------------------------------------------------

# score_qs(X, start, stop, *linear_args (8), group tables (4), node_mask, ...): the mask's
# index among the arguments after X
QS_MASK_ARG = 2 + 8 + 4


def _examples() -> dict[str, tuple[Any, tuple[Any, ...]]]:
    """Each export's kernel and example arguments of the exact types it takes."""
    # lazy: numba is a build-time dependency here
    from prices_predictor.models.scoring import _jit
    from prices_predictor.models.scoring.kernel import tree_groups

    packed = Tables.one_split().packed()
    qs = quickscorer.build(packed)
    assert qs is not None
    X = {"C": np.zeros((2, 2)), "F": np.zeros((2, 2), order="F")}
    head = (0, 2)
    out = np.zeros(2)
    groups = tree_groups(packed.as32, packed.depth, GROUP)
    ex: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "rows_C": (_jit.score_rows, (X["C"], *head, *packed.args(), out, groups))
    }
    for order in "CF":
        ex["blocks_" + order] = (_jit.score_blocks, (X[order], *head, *packed.args(), out))
        for dtype in (np.uint32, np.uint64):
            args = list(quickscorer.kernel_args(packed, qs))
            i = QS_MASK_ARG - 2
            args[i] = args[i].astype(dtype)
            args[-1] = args[-1].astype(dtype)
            width = np.dtype(dtype).itemsize
            ex[f"qs_{order}_u{width}"] = (_jit.score_qs, (X[order], *head, *args, out))
    return ex


@contextlib.contextmanager
def _releasing_gil() -> Iterator[None]:
    """pycc's wrappers keep the GIL by default; the kernel's threads need it released (as
    the JIT's ``nogil=True``). pycc has no option for it, so its flags default is swapped."""
    # lazy: numba is a build-time dependency here
    from numba.pycc import compiler

    original = compiler.Flags

    class NoGil(original):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self.release_gil = True

    compiler.Flags = NoGil  # type: ignore[misc]
    try:
        yield
    finally:
        compiler.Flags = original  # type: ignore[misc]


def build(out: Path, levels: list[str] | None = None) -> list[Path]:
    """Compile the kernels for ``levels`` (default: every level of this machine) into ``out``."""
    # lazy: numba is a build-time dependency here
    from numba import typeof, types
    from numba.pycc import CC

    machine = platform.machine()
    if levels is None:
        if machine not in LEVELS:
            raise SystemExit(f"no ahead-of-time levels known for machine {machine!r}")
        levels = list(LEVELS[machine])
    out.mkdir(parents=True, exist_ok=True)
    examples = _examples()
    made: list[Path] = []
    for level in levels:
        cc = CC(module_name(level))
        cc.output_dir = str(out)
        cc.target_cpu = level
        for name, (kernel, args) in examples.items():
            cc.export(name, types.void(*[typeof(a) for a in args]))(kernel.py_func)
        with _releasing_gil():
            cc.compile()
        made.extend(out.glob(module_name(level) + ".*"))
    return made


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=default_dir(), help="where to write the modules")
    p.add_argument("--level", action="append", help="target CPU (repeatable); default: all")
    a = p.parse_args(argv)
    for path in build(a.out, a.level):
        print(path, file=sys.stderr)


if __name__ == "__main__":
    main()

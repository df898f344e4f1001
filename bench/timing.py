"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def p50_ms(f: Callable[[int], Any], n: int, warm: int = 0) -> float:
    """Median wall time of ``f(i)`` over ``n`` calls (after ``warm`` untimed ones), in ms."""
    for i in range(warm):
        f(i)
    ts = []
    for i in range(n):
        t = time.perf_counter()
        f(i)
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1e3)

"""Engineered features compiled from the spec into one Python function.

The function takes the encoded scalar columns (numeric, date and ordinal features, in encoder
order) and returns the engineered values. The same code runs on floats (one house) and on
numpy columns (a batch), so both paths compute identical numbers. Generated source keeps the
one-house path as fast as hand-written arithmetic; only column positions and float weights
from a validated spec enter it, never names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from prices_predictor.spec.model import Engineered

Compiled = Callable[[Sequence[Any]], tuple[Any, ...]]


def ratio(a: Any, b: Any) -> Any:
    """a / b, and 0 where b is 0 (the encoder's output must stay finite)."""
    if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        out = np.zeros(a.shape)
        np.divide(a, b, out=out, where=b != 0)
        return out
    return a / b if b != 0 else 0.0


def compile_engineered(items: Sequence[Engineered], scalar: Sequence[str]) -> Compiled:
    """``f(x) -> (e0, e1, ...)`` where ``x[i]`` is the value of ``scalar[i]``."""
    position = {name: i for i, name in enumerate(scalar)}
    local: dict[str, str] = {}
    lines = ["def engineered(x):"]
    for k, e in enumerate(items):
        refs = [local.get(t.column) or f"x[{position[t.column]}]" for t in e.terms]
        lines.append(f"    e{k} = {_expression(e, refs)}")
        local[e.name] = f"e{k}"
    lines.append(f"    return ({''.join(f'e{k}, ' for k in range(len(items)))})")
    namespace: dict[str, Any] = {"_ratio": ratio}
    exec(compile("\n".join(lines), "<engineered features>", "exec"), namespace)
    func: Compiled = namespace["engineered"]
    return func


def _expression(e: Engineered, refs: list[str]) -> str:
    if e.op == "difference":
        return f"{refs[0]} - {refs[1]}"
    if e.op == "product":
        return " * ".join(refs)
    if e.op == "ratio":
        return f"_ratio({refs[0]}, {refs[1]})"
    total = _weighted_sum(refs, [t.weight for t in e.terms])
    if e.op == "sum":
        return total
    test = ">" if e.when == "> 0" else "!="
    return f"1.0 * ({total} {test} 0)"


def _weighted_sum(refs: list[str], weights: list[float]) -> str:
    """Left to right, as written by hand: ``a + 0.5 * b - c``."""
    out = ""
    for i, (ref, w) in enumerate(zip(refs, weights, strict=True)):
        term = ref if abs(w) == 1.0 else f"{float(abs(w))!r} * {ref}"
        if i == 0:
            out = term if w >= 0 else f"-{term}"
        else:
            out += f" + {term}" if w >= 0 else f" - {term}"
    return out

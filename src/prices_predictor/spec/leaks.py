"""Columns computed from the sale price (a price per square foot, a sale-to-list ratio):
they would leak the answer into a model, so spec inference leaves them out.

Such a column, with one other column of the file, gives the price back: regressed on the logs
of both, the log price is within ``DERIVED_RMS`` on nearly every row, where neither column
alone comes near. Every pair is fitted at once from masked cross-products on a sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from prices_predictor.spec.names import api_name

if TYPE_CHECKING:
    from prices_predictor.spec.model import DataSpec

DERIVED_RMS = 0.01  # log-price error below which two columns reconstruct the price
DERIVED_ROWS = 2000  # rows the reconstruction is checked on
DERIVED_DISTINCT = 20  # fewer values than this cannot carry the price's variation
# a share or a rate; 'per' as a word of the API name (cost_per_sf), not inside one (superficie)
SHARE_NAME = re.compile(r"(?:^|_)per(?:_|$)|pct|percent|ratio|rate")
SHARE_MARK = re.compile(r"[/%]")
# ... or a money amount
RATIO_NAME = re.compile(SHARE_NAME.pattern + r"|cost|price|value")
RATIO_MARK = re.compile(r"[$€£¥₹/%]")
NUMERIC_SHARE = 0.9  # share of a column's cells that must be numbers to be tried


def ratio_named(col: str) -> bool:
    """Named like a ratio or a money amount (``CostPerSqFt``, ``SP_LP_Pct``, ``$/SQUARE
    FEET``: a currency sign or a slash, which the API name would drop, count too)."""
    return bool(RATIO_NAME.search(api_name(str(col))) or RATIO_MARK.search(str(col)))


def share_named(col: str) -> bool:
    """Named like a share or a rate (``SP_LP_Pct``, ``Sales Ratio``), not only an amount."""
    return bool(SHARE_NAME.search(api_name(str(col))) or SHARE_MARK.search(str(col)))


def the_derived(c: str, d: str) -> bool:
    """Of two columns that give the price back together, whether ``d`` is, by the names, the
    one computed from it and ``c`` the genuine one: ``d`` is named like a ratio and ``c``
    not, or ``d`` like a share and ``c`` like an amount (an assessed value beside the
    assessment-to-sale ratio: the value stays)."""
    return (ratio_named(d) and not ratio_named(c)) or (share_named(d) and not share_named(c))


def leaks_in(spec: DataSpec, df: pd.DataFrame) -> dict[str, str]:
    """The numeric features of a declared spec that ``df`` shows are computed from its price
    (the spec's size column and the one not named like a ratio, or like an amount beside a
    share, stay), with why."""
    if spec.target.column not in df.columns:
        return {}
    price = pd.to_numeric(df[spec.target.column], errors="coerce")
    numeric = [
        f.name
        for f in spec.features
        if f.kind == "numeric" and f.name in df.columns and f.name != spec.size
    ]

    # a partner outside the spec (the file's price per square foot) is weighed by its name too
    rivals = {str(c) for c in df.columns} - {spec.target.column}
    return derived_from_price(df, price.where(price > 0), numeric, the_derived, rivals)


def derived_from_price(
    df: pd.DataFrame,
    price: pd.Series,
    candidates: list[str],
    stays: Callable[[str, str], bool],
    rivals: set[str] | None = None,
) -> dict[str, str]:
    """The candidate columns computed from ``price`` (missing where unknown), with why.

    A price per square foot times the area, or a sale-to-list ratio times the list price,
    gives the price back: regressed on the logs of such a pair, the log price is within
    ``DERIVED_RMS``, where neither column alone comes near. No pair of genuine house
    features does that. Of a pair whose partner is one of ``rivals`` (default: the
    candidates), ``stays(c, d)`` says ``c`` is the genuine one (else both go: either may be
    the derived one); with any other partner (a list price, left out already), the candidate
    goes.
    """
    logs = _positive_logs(df, price)
    if logs is None or not candidates:
        return {}
    y, x, names = logs
    fits = _pair_fits(y, x)
    index = {n: i for i, n in enumerate(names)}
    out: dict[str, str] = {}
    for c in candidates:
        i = index.get(c)
        if df[c].nunique() < DERIVED_DISTINCT:
            continue  # a year or a count: varies too little to carry the price
        if i is not None and (j := _partner(fits, i)) is not None:
            d = names[j]
            if d in (candidates if rivals is None else rivals) and stays(c, d):
                continue  # the partner is the ratio: it goes, this one stays
            out[c] = (
                f"computed from the price: with '{d}' it gives the price back "
                f"(rms of log {fits.pair[i, j]:.4f})"
            )
    return out


def _partner(fits: _PairFits, i: int) -> int | None:
    """The column that, with column ``i``, reconstructs the price; None if none does."""
    for j in np.argsort(fits.pair[i]):
        if fits.pair[i, j] >= DERIVED_RMS:
            return None
        enough = fits.rows[i, j] >= max(30, fits.rows[i, i] // 2)
        # on the pair's rows, neither column alone may do it (else it is a copy of the
        # price, or the other column is constant there)
        both = min(fits.alone[i, j], fits.alone[j, i]) >= 2 * max(fits.pair[i, j], 1e-3)
        if j != i and enough and both:
            return int(j)
    return None


def _positive_logs(
    df: pd.DataFrame, price: pd.Series
) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """log(price) and the logs of every other numeric column (NaN where not positive), on up
    to ``DERIVED_ROWS`` rows that have a price."""
    values = price.to_numpy(dtype=np.float64, na_value=np.nan)
    rows = np.flatnonzero(values > 0)
    if len(rows) < 30:
        return None
    if len(rows) > DERIVED_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, DERIVED_ROWS, replace=False))
    part = df.iloc[rows]
    names, cols = [], []
    for col in part.columns:
        if col == price.name:
            continue
        v = pd.to_numeric(part[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            log = np.where(v > 0, np.log(v), np.nan)
        if np.isfinite(v).mean() < NUMERIC_SHARE or np.isfinite(log).sum() < 30:
            continue
        cols.append(log)
        names.append(str(col))
    if not cols:
        return None
    return np.log(values[rows]), np.column_stack(cols), names


@dataclass
class _PairFits:
    """Least squares of the log price on the logs of every pair (i, j) of columns, on the
    rows where both are defined: ``pair[i, j]`` the rms residual of ``y ~ 1 + x_i + x_j``,
    ``alone[i, j]`` that of ``y ~ 1 + x_i`` on the same rows, ``rows[i, j]`` their count
    (the diagonal: one column on its own rows)."""

    pair: np.ndarray
    alone: np.ndarray
    rows: np.ndarray


def _pair_fits(y: np.ndarray, x: np.ndarray) -> _PairFits:
    """All pairs at once, from masked cross-products (normal equations; ``y`` and each
    column centred by their means for conditioning)."""
    m = np.isfinite(x).astype(np.float64)
    xc = np.where(m > 0, x - np.nanmean(x, axis=0), 0.0)
    yc = y - y.mean()
    n = m.T @ m
    sx = xc.T @ m  # sx[i, j]: the sum of x_i over the rows where x_j is defined too
    sxx = (xc * xc).T @ m
    sxy = (xc * yc[:, None]).T @ m
    sy = (m * yc[:, None]).T @ m
    syy = (m * (yc * yc)[:, None]).T @ m
    cross = xc.T @ xc
    pair = _rms([[n, sx, sx.T], [sx, sxx, cross], [sx.T, cross, sxx.T]], [sy, sxy, sxy.T], syy, n)
    alone = _rms([[n, sx], [sx, sxx]], [sy, sxy], syy, n)
    return _PairFits(pair, alone, n.astype(np.int64))


def _rms(
    gram: list[list[np.ndarray]], xty: list[np.ndarray], yty: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Elementwise over the (p, p) entries: the rms residual of the least-squares fit whose
    normal equations are ``gram @ beta = xty`` (inf with fewer than 3 rows)."""
    a = np.stack([np.stack(row, -1) for row in gram], -2)
    b = np.stack(xty, -1)
    beta = np.einsum("...ij,...j->...i", np.linalg.pinv(a, rcond=1e-10), b)
    sse = yty - np.einsum("...i,...i->...", beta, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(np.clip(sse, 0, None) / n)
    return np.where(n >= 3, rms, np.inf)

"""Per-variant outcomes and the decision: promote the challenger, keep the champion, or wait."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy.stats import norm

Z95 = 1.959963984540054


@dataclass
class VariantStats:
    variant: str
    requests: int
    with_outcome: int
    conversions: int
    conversion_rate: float
    ci95: tuple[float, float]
    mae: float | None
    mape: float | None
    n_prices: int
    latency_ms_mean: float | None


@dataclass
class ABReport:
    variants: dict[str, VariantStats]
    difference: float | None = None
    p_value: float | None = None
    verdict: str = "keep running"
    needed_per_variant: int | None = None
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / den
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test."""
    if n1 == 0 or n2 == 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (k2 / n2 - k1 / n1) / se
    return float(2 * norm.sf(abs(z)))


def sample_size(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Rows per variant to detect p1 -> p2 with the two-proportion test."""
    if p1 == p2:
        return None
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    pbar = (p1 + p2) / 2
    num = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(num**2 / (p1 - p2) ** 2)


def stats_for(variant: str, rows: list[dict[str, Any]]) -> VariantStats:
    outcome = [r for r in rows if r["converted"] is not None]
    k = sum(1 for r in outcome if r["converted"])
    priced = [r for r in rows if r["actual_price"]]
    errs = [abs(r["price"] - r["actual_price"]) for r in priced]
    lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    return VariantStats(
        variant=variant,
        requests=len(rows),
        with_outcome=len(outcome),
        conversions=k,
        conversion_rate=k / len(outcome) if outcome else 0.0,
        ci95=wilson(k, len(outcome)),
        mae=sum(errs) / len(errs) if errs else None,
        mape=sum(e / r["actual_price"] for e, r in zip(errs, priced, strict=True)) / len(errs)
        if errs
        else None,
        n_prices=len(priced),
        latency_ms_mean=sum(lat) / len(lat) if lat else None,
    )


def analyse(rows: list[dict[str, Any]], alpha: float = 0.05, power: float = 0.8) -> ABReport:
    by: dict[str, list[dict[str, Any]]] = {"champion": [], "challenger": []}
    for r in rows:
        by.setdefault(r["variant"], []).append(r)
    variants = {v: stats_for(v, rs) for v, rs in by.items()}
    rep = ABReport(variants)
    a, b = variants["champion"], variants["challenger"]
    if a.with_outcome == 0 or b.with_outcome == 0:
        rep.reasons.append("no outcomes recorded for one of the variants yet")
        return rep
    rep.difference = b.conversion_rate - a.conversion_rate
    rep.p_value = two_proportion_p(a.conversions, a.with_outcome, b.conversions, b.with_outcome)
    mae_worse = a.mae is not None and b.mae is not None and b.mae > a.mae * 1.05
    if rep.p_value < alpha and rep.difference > 0 and not mae_worse:
        rep.verdict = "promote challenger"
        rep.reasons.append(f"challenger converts better (p={rep.p_value:.4f} < {alpha})")
    elif rep.p_value < alpha and rep.difference < 0:
        rep.verdict = "keep champion"
        rep.reasons.append(f"challenger converts worse (p={rep.p_value:.4f} < {alpha})")
    else:
        rep.verdict = "keep running"
        if mae_worse and rep.difference > 0:
            rep.reasons.append("challenger converts better but its online MAE is >5% worse")
        need = sample_size(a.conversion_rate, b.conversion_rate, alpha, power)
        rep.needed_per_variant = need
        rep.reasons.append(
            f"not significant (p={rep.p_value:.4f}); "
            + (
                f"about {need} outcomes per variant needed for power {power}"
                if need
                else "no difference observed yet"
            )
        )
    return rep

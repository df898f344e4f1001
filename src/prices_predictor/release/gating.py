"""The two promotion gates, as a pure decision.

Threshold gate: the candidate's holdout RMSE(log) must be at least ``min_baseline_gain``
(default 10%) below the median-price-per-size baseline's on the same rows, and within the
optional absolute limits (``max_rmse``, ``min_r2``; the Ames preset sets them). Comparison
gate: it must beat the champion on the same holdout rows by ``min_improvement``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from prices_predictor.core.settings import Settings
from prices_predictor.spec.model import DataSpec

Verdict = Literal["promoted", "challenger", "rejected"]
DEFAULT_MIN_BASELINE_GAIN = 0.10


@dataclass(frozen=True)
class Limits:
    min_baseline_gain: float | None
    max_rmse: float | None
    min_r2: float | None
    min_improvement: float


def limits(s: Settings, spec: DataSpec) -> Limits:
    """Each limit from PP_ settings set explicitly, else the spec, else the default."""

    def pick(setting: float | None, from_spec: float | None, default: float | None) -> Any:
        if setting is not None:
            return setting
        return from_spec if from_spec is not None else default

    g = spec.gates
    return Limits(
        pick(s.gate_min_baseline_gain, g.min_baseline_gain, DEFAULT_MIN_BASELINE_GAIN),
        pick(s.gate_max_rmse, g.max_rmse, None),
        pick(s.gate_min_r2, g.min_r2, None),
        s.gate_min_improvement,
    )


@dataclass
class GateDecision:
    verdict: Verdict
    candidate_version: str
    candidate_rmse: float
    candidate_r2: float
    champion_version: str | None
    champion_rmse: float | None
    max_rmse: float | None
    min_r2: float | None
    min_improvement: float
    baseline_rmse: float | None = None
    min_baseline_gain: float | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.verdict == "promoted"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    candidate_version: str,
    candidate: dict[str, float],
    champion_version: str | None,
    champion: dict[str, float] | None,
    lim: Limits,
    *,
    same_schema: bool = True,
) -> GateDecision:
    """Threshold gate, then comparison gate on the same holdout rows.

    ``same_schema=False``: the champion reads other input columns; the candidate can then
    only become the challenger (clients of the champion would break), unless promoted by hand.
    """
    d = GateDecision(
        "rejected",
        candidate_version,
        candidate["rmse"],
        candidate["r2"],
        champion_version,
        champion["rmse"] if champion else None,
        lim.max_rmse,
        lim.min_r2,
        lim.min_improvement,
        candidate.get("baseline_rmse"),
        lim.min_baseline_gain,
    )
    _threshold(d, candidate, lim)
    if d.reasons:
        return d
    if champion_version is not None and champion_version != candidate_version and not same_schema:
        d.verdict = "challenger"
        d.reasons.append(
            f"comparison: champion v{champion_version} reads other input columns; "
            "promote by hand (promote --force) once clients send the new ones"
        )
    elif champion is None or champion_version is None:
        d.verdict = "promoted"
        d.reasons.append("no champion yet; threshold gate passed")
    elif champion_version == candidate_version:
        d.verdict = "promoted"
        d.reasons.append("candidate is already the champion")
    elif candidate["rmse"] < champion["rmse"] and (
        champion["rmse"] - candidate["rmse"] >= lim.min_improvement
    ):
        d.verdict = "promoted"
        d.reasons.append(
            f"comparison: RMSE {candidate['rmse']:.4f} beats champion v{champion_version} "
            f"{champion['rmse']:.4f} by >= {lim.min_improvement}"
        )
    else:
        d.verdict = "challenger"
        d.reasons.append(
            f"comparison: RMSE {candidate['rmse']:.4f} does not beat champion v{champion_version} "
            f"{champion['rmse']:.4f} by more than {lim.min_improvement}"
        )
    return d


def _threshold(d: GateDecision, candidate: dict[str, float], lim: Limits) -> None:
    rmse, base = candidate["rmse"], candidate.get("baseline_rmse")
    if lim.min_baseline_gain is not None and base is not None and base > 0:
        gain = 1.0 - rmse / base
        if gain < lim.min_baseline_gain:
            d.reasons.append(
                f"threshold: RMSE {rmse:.4f} is {gain:.1%} below the baseline's {base:.4f} "
                f"(needs >= {lim.min_baseline_gain:.0%})"
            )
    if lim.max_rmse is not None and rmse > lim.max_rmse:
        d.reasons.append(f"threshold: RMSE {rmse:.4f} > max {lim.max_rmse:.4f}")
    if lim.min_r2 is not None and candidate["r2"] < lim.min_r2:
        d.reasons.append(f"threshold: R2 {candidate['r2']:.4f} < min {lim.min_r2:.4f}")

"""The two promotion gates, as a pure decision."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Verdict = Literal["promoted", "challenger", "rejected"]


@dataclass
class GateDecision:
    verdict: Verdict
    candidate_version: str
    candidate_rmse: float
    candidate_r2: float
    champion_version: str | None
    champion_rmse: float | None
    max_rmse: float
    min_r2: float
    min_improvement: float
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
    *,
    max_rmse: float,
    min_r2: float,
    min_improvement: float,
) -> GateDecision:
    """Threshold gate, then comparison gate on the same holdout rows."""
    d = GateDecision(
        "rejected",
        candidate_version,
        candidate["rmse"],
        candidate["r2"],
        champion_version,
        champion["rmse"] if champion else None,
        max_rmse,
        min_r2,
        min_improvement,
    )
    if candidate["rmse"] > max_rmse:
        d.reasons.append(f"threshold: RMSE {candidate['rmse']:.4f} > max {max_rmse:.4f}")
    if candidate["r2"] < min_r2:
        d.reasons.append(f"threshold: R2 {candidate['r2']:.4f} < min {min_r2:.4f}")
    if d.reasons:
        return d
    if champion is None or champion_version is None:
        d.verdict = "promoted"
        d.reasons.append("no champion yet; threshold gate passed")
    elif champion_version == candidate_version:
        d.verdict = "promoted"
        d.reasons.append("candidate is already the champion")
    elif candidate["rmse"] < champion["rmse"] and (
        champion["rmse"] - candidate["rmse"] >= min_improvement
    ):
        d.verdict = "promoted"
        d.reasons.append(
            f"comparison: RMSE {candidate['rmse']:.4f} beats champion v{champion_version} "
            f"{champion['rmse']:.4f} by >= {min_improvement}"
        )
    else:
        d.verdict = "challenger"
        d.reasons.append(
            f"comparison: RMSE {candidate['rmse']:.4f} does not beat champion v{champion_version} "
            f"{champion['rmse']:.4f} by more than {min_improvement}"
        )
    return d

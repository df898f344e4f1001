"""Step: the threshold and comparison gates."""

from typing import Annotated, Any

from zenml import step

from prices_predictor.deploy.gating import decide
from prices_predictor.settings import get_settings


@step(enable_cache=False)
def apply_gates(
    candidate_version: str,
    candidate_metrics: dict[str, float],
    champion_version: str,
    champion_metrics: dict[str, float],
) -> Annotated[dict[str, Any], "gate_decision"]:
    s = get_settings()
    return decide(
        candidate_version,
        candidate_metrics,
        champion_version or None,
        champion_metrics or None,
        max_rmse=s.gate_max_rmse,
        min_r2=s.gate_min_r2,
        min_improvement=s.gate_min_improvement,
    ).as_dict()

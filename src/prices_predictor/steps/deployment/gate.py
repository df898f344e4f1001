"""Step: the threshold and comparison gates."""

from typing import Annotated, Any

from zenml import step

from prices_predictor.core.settings import get_settings
from prices_predictor.release.gating import decide, limits
from prices_predictor.spec.io import from_dict


@step(enable_cache=False)
def apply_gates(
    candidate_version: str,
    candidate_metrics: dict[str, float],
    champion_version: str,
    champion_metrics: dict[str, float],
    candidate_spec: dict[str, Any],
    same_schema: bool = True,
) -> Annotated[dict[str, Any], "gate_decision"]:
    s = get_settings()
    spec = from_dict(candidate_spec, f"version {candidate_version}'s spec")
    return decide(
        candidate_version,
        candidate_metrics,
        champion_version or None,
        champion_metrics or None,
        limits(s, spec),
        same_schema=same_schema,
    ).as_dict()

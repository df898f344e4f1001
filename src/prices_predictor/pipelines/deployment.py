"""ZenML deployment pipeline: score candidate and champion -> gates -> aliases."""

from typing import Any

from zenml import pipeline

from prices_predictor.steps.deployment.gate import apply_gates
from prices_predictor.steps.deployment.promote import promote_model
from prices_predictor.steps.deployment.score import score_candidates


@pipeline(enable_cache=False)
def deployment_pipeline(candidate_version: str) -> Any:
    cand, champ_version, champ, spec, same = score_candidates(candidate_version)
    decision = apply_gates(candidate_version, cand, champ_version, champ, spec, same)
    return promote_model(decision)

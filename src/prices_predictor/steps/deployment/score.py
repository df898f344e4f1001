"""Step: score the candidate and the current champion on the same protocol holdout."""

from typing import Annotated

from zenml import step

from prices_predictor.deploy.aliases import CHAMPION
from prices_predictor.deploy.scoring import holdout_for, score
from prices_predictor.settings import get_settings
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import alias_version, load_price_model, version_info


@step(enable_cache=False)
def score_candidates(
    candidate_version: str,
) -> tuple[
    Annotated[dict[str, float], "candidate_metrics"],
    Annotated[str, "champion_version"],
    Annotated[dict[str, float], "champion_metrics"],
]:
    """Recomputes the holdout from the candidate's data; empty champion outputs when none."""
    s = get_settings()
    configure(s)
    info = version_info(s.model_name, candidate_version)
    holdout = holdout_for(s, info.tags.get("data_source") or s.data)
    cand = score(load_price_model(s.model_name, candidate_version), holdout, s.target)
    champ_version = alias_version(s.model_name, CHAMPION) or ""
    champ = (
        score(load_price_model(s.model_name, champ_version), holdout, s.target)
        if champ_version
        else {}
    )
    return cand, champ_version, champ

"""Step: score the candidate and the current champion on the same protocol holdout."""

from typing import Annotated, Any

from zenml import step

from prices_predictor.core.settings import get_settings
from prices_predictor.evaluation.baseline import Baseline
from prices_predictor.evaluation.holdout import score
from prices_predictor.release.aliases import CHAMPION
from prices_predictor.release.scoring import protocol_parts
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import alias_version, load_price_model, version_info


@step(enable_cache=False)
def score_candidates(
    candidate_version: str,
) -> tuple[
    Annotated[dict[str, float], "candidate_metrics"],
    Annotated[str, "champion_version"],
    Annotated[dict[str, float], "champion_metrics"],
    Annotated[dict[str, Any], "candidate_spec"],
    Annotated[bool, "same_schema"],
]:
    """Recomputes the holdout from the candidate's data; empty champion outputs when none.

    A champion that reads other input columns is not scored on the candidate's rows."""
    s = get_settings()
    configure(s)
    info = version_info(s.model_name, candidate_version)
    candidate = load_price_model(s.model_name, candidate_version)
    spec = candidate.spec
    train, holdout = protocol_parts(s, info.tags.get("data_source") or s.data, spec)
    cand = score(candidate, holdout, Baseline.fit(train, spec))
    champ_version = alias_version(s.model_name, CHAMPION) or ""
    champ: dict[str, float] = {}
    same = True
    if champ_version and champ_version != candidate_version:
        champion = load_price_model(s.model_name, champ_version)
        same = champion.spec.input_signature() == spec.input_signature()
        if same:
            champ = score(champion, holdout)
    elif champ_version:
        champ = cand
    return cand, champ_version, champ, spec.model_dump(mode="json"), same

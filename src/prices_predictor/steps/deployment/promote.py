"""Step: move the aliases as the gates decided and record the decision on the version."""

import datetime as dt
from typing import Annotated, Any

from zenml import step

from prices_predictor.core.settings import get_settings
from prices_predictor.release.aliases import make_challenger, promote
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import set_version_tags


@step(enable_cache=False)
def promote_model(gate_decision: dict[str, Any]) -> Annotated[dict[str, Any], "decision"]:
    s = get_settings()
    configure(s)
    version = gate_decision["candidate_version"]
    verdict = gate_decision["verdict"]
    if verdict == "promoted":
        promote(s, version, reason="; ".join(gate_decision["reasons"]))
    elif verdict == "challenger":
        make_challenger(s, version)
    set_version_tags(
        s.model_name,
        version,
        {
            "gate.verdict": verdict,
            "gate.time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "gate.candidate_rmse": round(gate_decision["candidate_rmse"], 6),
            "gate.candidate_r2": round(gate_decision["candidate_r2"], 6),
            "gate.champion_version": gate_decision["champion_version"] or "",
            "gate.champion_rmse": ""
            if gate_decision["champion_rmse"] is None
            else round(gate_decision["champion_rmse"], 6),
            "gate.max_rmse": _blank(gate_decision["max_rmse"]),
            "gate.min_r2": _blank(gate_decision["min_r2"]),
            "gate.baseline_rmse": _blank(gate_decision.get("baseline_rmse")),
            "gate.min_baseline_gain": _blank(gate_decision.get("min_baseline_gain")),
            "gate.min_improvement": gate_decision["min_improvement"],
            "gate.reasons": "; ".join(gate_decision["reasons"])[:4000],
        },
    )
    return gate_decision


def _blank(v: Any) -> Any:
    return "" if v is None else round(v, 6) if isinstance(v, float) else v

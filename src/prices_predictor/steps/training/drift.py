"""Step: drift of the new training data against the current champion's reference."""

import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from zenml import step

from prices_predictor.core import progress
from prices_predictor.core.aliases import CHAMPION
from prices_predictor.core.errors import DataError
from prices_predictor.core.settings import get_settings
from prices_predictor.models.price_model import PriceModel
from prices_predictor.monitoring.drift import check
from prices_predictor.tracking.loading import load_from_registry
from prices_predictor.tracking.mlflow_env import configure

log = logging.getLogger(__name__)


@step(enable_cache=False)
def training_drift(
    train: pd.DataFrame, price_model: PriceModel, mlflow_run_id: str
) -> Annotated[dict[str, Any], "training_drift"]:
    """No champion yet, or one that reads other columns: nothing to compare, recorded as such.
    PP_DRIFT_ON_TRAINING=fail stops."""
    with progress.stage("drift vs the champion's data"):
        # lazy: MLflow (~2 s) stays off start-up paths that do not need it
        import mlflow

        s = get_settings()
        configure(s)
        champion = load_from_registry(s, CHAMPION)
        if champion is None or champion.reference is None:
            return {"status": "no_reference", "alert": False}
        spec = price_model.spec
        if champion.model.spec.input_signature() != spec.input_signature():
            return {"status": "other_schema", "alert": False}
        with tempfile.TemporaryDirectory() as tmp:
            result = check(
                pd.read_parquet(champion.reference),
                train,
                spec,
                kind="training",
                importance=champion.metadata.get("importance", []),
                share_alert=s.drift_share_alert,
                top_k=s.drift_top_k,
                min_rows=s.drift_min_rows,
                report_dir=Path(tmp),
            )
            with mlflow.start_run(run_id=mlflow_run_id):
                mlflow.log_metrics(
                    {"drift_share": result.share, "drift_alert": float(result.alert)}
                )
                mlflow.log_dict(result.as_dict(), "drift/training_drift.json")
                if result.report_path:
                    mlflow.log_artifact(result.report_path, "drift")
        if result.alert:
            msg = f"training data drifted from champion v{champion.version}: " + "; ".join(
                result.reasons
            )
            if s.drift_on_training == "fail":
                raise DataError(msg + " (PP_DRIFT_ON_TRAINING=fail)")
            log.warning(msg)
        return result.as_dict()

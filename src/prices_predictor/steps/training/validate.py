"""Step: quality gate on the raw rows; hard violations raise, soft ones are recorded."""

import logging
from typing import Annotated, Any

import pandas as pd
from zenml import step

from prices_predictor.core import progress
from prices_predictor.data.validate import require_valid, validate
from prices_predictor.spec.io import from_dict

log = logging.getLogger(__name__)


@step(enable_cache=True)
def validate_data(
    raw_data: pd.DataFrame, source: str, spec: dict[str, Any]
) -> Annotated[dict[str, Any], "validation_report"]:
    with progress.stage("validate"):
        report = validate(raw_data, from_dict(spec), source=source)
        require_valid(report, source)
        if report.soft:
            log.warning("%s: soft validation findings:\n%s", source, report.table(report.soft))
        return report.as_dict()

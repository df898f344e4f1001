"""The MLflow pyfunc wrapper: plain ``mlflow.pyfunc.load_model`` predicts dollar prices."""

from __future__ import annotations

from typing import Any

import joblib
import mlflow.pyfunc
import numpy as np
import pandas as pd

from prices_predictor.data import schema
from prices_predictor.models.price_model import PriceModel

PRICE_MODEL_ARTIFACT = "price_model"


class PricesPyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """Input: a DataFrame of raw Ames features (original names). Output: price in dollars."""

    def load_context(self, context: Any) -> None:
        self.model: PriceModel = joblib.load(context.artifacts[PRICE_MODEL_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> np.ndarray:
        return self.model.predict_price(model_input)


def signature_for(frame: pd.DataFrame) -> Any:
    """Every feature (and the parcel id) optional, typed as in the training frame (MLflow
    refuses int -> double).

    Integer columns are ``long``, float columns ``double``, text ``string``; a feature the
    training data lacked is ``double`` (numeric) or ``string`` (categorical).
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    cols: list[Any] = []
    for c in schema.INPUTS:
        if c in frame.columns and pd.api.types.is_integer_dtype(frame[c]):
            t = "long"
        elif c in frame.columns and pd.api.types.is_float_dtype(frame[c]):
            t = "double"
        elif c == schema.LOCATION_COLUMN:
            t = "long"
        elif c in frame.columns or c in schema.CATEGORICAL:
            t = (
                "string"
                if not pd.api.types.is_numeric_dtype(frame.get(c, pd.Series([""])))
                else "double"
            )
        else:
            t = "double"
        cols.append(ColSpec(t, c, required=False))
    return ModelSignature(inputs=Schema(cols), outputs=Schema([ColSpec("double")]))


def input_example(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in schema.INPUTS if c in frame.columns]
    return frame[cols].head(2).copy()

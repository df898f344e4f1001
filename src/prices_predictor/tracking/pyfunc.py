"""The MLflow pyfunc wrapper: plain ``mlflow.pyfunc.load_model`` predicts dollar prices."""

from __future__ import annotations

from typing import Any

import joblib
import mlflow.pyfunc
import numpy as np
import pandas as pd

from prices_predictor.models.price_model import PriceModel
from prices_predictor.spec.model import DataSpec

PRICE_MODEL_ARTIFACT = "price_model"


class PricesPyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    """Input: a DataFrame of raw features (the spec's column names). Output: the price."""

    def load_context(self, context: Any) -> None:
        self.model: PriceModel = joblib.load(context.artifacts[PRICE_MODEL_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> np.ndarray:
        return self.model.predict_price(model_input)


def signature_for(frame: pd.DataFrame, spec: DataSpec) -> Any:
    """Every input of the spec optional, typed as in the training frame (MLflow refuses
    int -> double).

    Integer columns are ``long``, float columns ``double``, text ``string``; an input the
    training data lacked is ``double`` (numeric) or ``string`` (categorical, date).
    """
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    kinds = {f.name: f.kind for f in spec.features}
    cols: list[Any] = []
    for c in spec.inputs():
        if c in frame.columns and pd.api.types.is_integer_dtype(frame[c]):
            t = "long"
        elif c in frame.columns and pd.api.types.is_float_dtype(frame[c]):
            t = "double"
        elif c in frame.columns and pd.api.types.is_bool_dtype(frame[c]):
            t = "boolean"
        elif c in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[c]):
            t = "datetime"
        elif kinds.get(c, "numeric") == "numeric" and c not in frame.columns:
            t = "long" if spec.location is not None and c in spec.location_columns() else "double"
        else:
            t = "string"
        cols.append(ColSpec(t, c, required=False))
    return ModelSignature(inputs=Schema(cols), outputs=Schema([ColSpec("double")]))


def input_example(frame: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
    cols = [c for c in spec.inputs() if c in frame.columns]
    return frame[cols].head(2).copy()

"""``price_udf``: the model as a Spark column expression, for notebooks.

    from prices_predictor.spark import price_udf
    price = price_udf(spark, "models:/prices_predictor@champion")  # or a bundle directory
    houses = spark.read.parquet("s3a://bucket/parcels/")
    priced = houses.withColumn("p", price(*houses.columns)).select("PID", "p.*")
    # PID, price, price_low, price_high

Columns may carry the spec's names (``Gr Liv Area``) or snake_case ones; any the model does
not use are ignored, missing ones imputed, exactly as ``predict`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prices_predictor.batch.score import PRICE_COLUMNS
from prices_predictor.core.errors import UserError
from prices_predictor.spark import executor
from prices_predictor.spark.score import typed
from prices_predictor.spec.model import field_map

if TYPE_CHECKING:
    from pyspark.sql import Column, SparkSession

RESULT_TYPE = "price double, price_low double, price_high double"


def price_udf(spark: SparkSession, model_uri: str) -> Callable[..., Column]:
    """A function of columns returning a struct<price, price_low, price_high> column.

    ``model_uri``: a bundle directory (``prices-predictor export``), ``models:/NAME/VERSION``
    or ``models:/NAME@ALIAS`` of the registry in ``PP_MLFLOW_TRACKING_URI`` (or PP_HOME's).
    """
    # lazy: pyspark only for the Spark engine
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    directory = resolve(model_uri)
    name = executor.ship(spark, directory)

    # pandas_udf reads the kind of UDF (iterator of frames) from the annotations
    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        yield from _score_struct(name, batches)

    udf = pandas_udf(score, RESULT_TYPE)  # type: ignore[call-overload]

    def apply(*cols: str | Column) -> Column:
        if not cols:
            raise ValueError("price_udf needs the house columns, e.g. price(*df.columns)")
        return udf(F.struct(*[F.col(f"`{c}`") if isinstance(c, str) else c for c in cols]))

    return apply


def _score_struct(name: str, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    model = executor.model(name)
    names = field_map(model.spec)
    for pdf in batches:
        pdf = typed(pdf.rename(columns={c: names.get(c, c) for c in pdf.columns}), model.spec)
        log_price = model.predict_log(pdf)
        low, high = model.price_range(log_price)
        values = (np.expm1(log_price), low, high)
        yield pd.DataFrame(dict(zip(PRICE_COLUMNS, values, strict=True)))


def resolve(model_uri: str) -> Path:
    """The local directory holding the model ``model_uri`` names."""
    if not model_uri.startswith("models:/"):
        path = Path(model_uri).expanduser()
        if not path.is_dir():
            raise UserError(f"{model_uri}: not a bundle directory nor a models:/ URI")
        return path
    # lazy: the registry (MLflow) only for models:/ URIs
    from prices_predictor.core.settings import get_settings
    from prices_predictor.tracking.loading import load_version
    from prices_predictor.tracking.mlflow_env import configure
    from prices_predictor.tracking.registry import alias_version

    s = get_settings()
    configure(s)
    ref = model_uri.removeprefix("models:/")
    if "@" in ref:
        model_name, alias = ref.split("@", 1)
        version = alias_version(model_name, alias)
        if version is None:
            raise UserError(f"{model_uri}: no such alias")
    else:
        model_name, _, version = ref.partition("/")
    if model_name != s.model_name:
        s = s.model_copy(update={"model_name": model_name})
    loaded: Any = load_version(s, version)
    directory: Path = loaded.directory
    return directory

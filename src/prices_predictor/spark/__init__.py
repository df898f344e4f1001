"""Batch scoring on Spark: ``prices-predictor predict --engine spark`` and a UDF for notebooks.

Needs the ``spark`` extra (``pip install prices-predictor[spark]``) and Java 17 or 21. Nothing
here imports pyspark until it is used.

- ``session``: a SparkSession configured for Arrow batches (and loopback-only in local mode);
- ``executor``: the model on executors, loaded once per Python worker;
- ``score``: read, validate (findings aggregated over every row), score, write;
- ``udf``: :func:`price_udf`, a struct of price, price_low, price_high per row.
"""

from prices_predictor.spark.udf import price_udf

__all__ = ["price_udf"]

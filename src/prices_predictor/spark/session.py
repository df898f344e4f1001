"""The SparkSession the engine uses (or the user's, if one is running)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prices_predictor.core.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# rows per Arrow batch handed to Python: above the model's pipelining threshold (40,000), so
# each batch is encoded and scored in overlapping slices
BATCH_ROWS = 50_000
# input split size: several tasks per Parquet file (Spark splits at row-group boundaries)
SPLIT_BYTES = 16 << 20


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401  # lazy: only to check that the extra is installed
    except ImportError:
        raise UserError(
            "the Spark engine needs pyspark: pip install 'prices-predictor[spark]'"
        ) from None


def require_java() -> None:
    """Spark's JVM fails with an unhelpful message when Java is missing: say it first."""
    home = os.environ.get("JAVA_HOME")
    if home and not (Path(home) / "bin" / "java").exists():
        raise UserError(f"JAVA_HOME={home} has no bin/java: point it at a Java 17 or 21")
    if not home and shutil.which("java") is None:
        raise UserError(
            "Spark needs Java 17 or 21 and none was found (JAVA_HOME unset, no java on PATH): "
            "apt-get install openjdk-17-jre-headless"
        )


def get_session(master: str | None, scratch: Path, kernel_cache: Path) -> SparkSession:
    """The active session if there is one, else a new one on ``master`` (None: the master
    spark-submit was given)."""
    require_pyspark()
    from pyspark.sql import SparkSession  # lazy: pyspark only for the Spark engine

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    require_java()
    # the JVM and the Python workers inherit this process' environment
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(kernel_cache))  # compile kernels once
    scratch.mkdir(parents=True, exist_ok=True)
    b = SparkSession.builder.appName("prices-predictor")
    if master is not None:
        b = b.master(master)
    if master is not None and master.startswith("local"):  # nothing listens beyond loopback
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        b = b.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(BATCH_ROWS),
        # pandas UDFs (price_udf, MLflow's spark_udf) otherwise get 4,096-row batches
        "spark.sql.execution.arrow.pythonUDF.columnarInput.enabled": "false",
        "spark.sql.files.maxPartitionBytes": str(SPLIT_BYTES),
        "spark.local.dir": str(scratch),
        "spark.executorEnv.NUMBA_CACHE_DIR": os.environ["NUMBA_CACHE_DIR"],
    }
    for key, value in conf.items():
        b = b.config(key, value)
    log = scratch / "spark.log"
    try:
        with _stderr_to(log):
            session = b.getOrCreate()
    except Exception as exc:  # PySparkRuntimeError: JAVA_GATEWAY_EXITED and the like
        where = master or "the submitted master"
        raise UserError(f"cannot start Spark on {where}: {exc} (details: {log})") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def _stderr_to(log: Path) -> Iterator[None]:
    """The JVM (and the Python workers it starts) inherit file descriptor 2 when the session
    is created: point it at a log file meanwhile, so that Spark's start-up banner, its log
    and Java stack traces go there, and the terminal shows only our own lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)

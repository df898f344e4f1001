"""The model on executors: shipped as a directory with the job, loaded once per Python
worker (workers are reused across tasks and jobs), kernels warmed before the first batch."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from prices_predictor.models.price_model import PriceModel
from prices_predictor.tracking.loading import load_directory

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_models: dict[str, PriceModel] = {}
_lock = threading.Lock()


def ship(spark: SparkSession, directory: Path) -> str:
    """Send a model directory to every executor; returns the name tasks load it by."""
    name = f"pp-model-{uuid.uuid4().hex[:12]}"
    staging = Path(tempfile.mkdtemp(prefix="pp-spark-"))
    shutil.copytree(directory, staging / name)
    spark.sparkContext.addFile(str(staging / name), recursive=True)
    return name


def model(name: str) -> PriceModel:
    """The shipped model ``name`` in this worker (loaded and verified on first use)."""
    with _lock:
        loaded = _models.get(name)
        if loaded is None:
            from pyspark import SparkFiles  # lazy: only on Spark executors

            loaded = load_directory(Path(SparkFiles.get(name)))
            loaded.warm_kernels()
            _models.clear()  # one model per worker: a new job's model replaces the last
            _models[name] = loaded
        return loaded

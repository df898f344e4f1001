#!/usr/bin/env bash
# Price a table on a Spark cluster with spark-submit. The driver and executors run the
# image built with the spark extra (docker build --build-arg WITH_SPARK=1 -t prices-predictor:spark .),
# or any Python 3.11 environment with `pip install prices-predictor[spark]` of the version
# that trained the model (a pickled model loads with its own package version).
#   MASTER   spark://host:7077, k8s://https://api:6443, yarn, local[*]
#   MODEL    a bundle directory (prices-predictor export) or models:/prices_predictor/VERSION
#   DATA     Parquet (file or dataset) or CSV, any Hadoop URL (s3a://, hdfs://, gs://, file:/)
#   OUT      Parquet dataset to write (replaced); joins back to DATA on the --keep columns
set -euo pipefail
: "${MASTER:?}" "${MODEL:?}" "${DATA:?}" "${OUT:?}"
DRIVER=$(python -c 'import prices_predictor.spark.__main__ as m; print(m.__file__)')
exec spark-submit \
  --master "$MASTER" \
  --conf spark.sql.execution.arrow.pyspark.enabled=true \
  --conf spark.sql.execution.arrow.maxRecordsPerBatch=50000 \
  --conf spark.sql.files.maxPartitionBytes=16m \
  --conf spark.pyspark.python="$(command -v python)" \
  "$DRIVER" --model "$MODEL" --data "$DATA" --out "$OUT" ${KEEP:+--keep "$KEEP"}

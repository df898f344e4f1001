"""Driver program for ``spark-submit`` (a cluster run):

    spark-submit --master k8s://https://... \\
      "$(python -c 'import prices_predictor.spark.__main__ as m; print(m.__file__)')" \\
      --model /models/bundle --data s3a://bucket/parcels/ --out s3a://bucket/prices/ --keep PID

The same scoring as ``prices-predictor predict --engine spark``, with the session, master and
resources spark-submit configured. ``--model``: a bundle directory or a ``models:/`` URI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prices_predictor.core.errors import UserError
from prices_predictor.core.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="prices_predictor.spark")
    p.add_argument("--model", required=True, help="bundle directory or models:/NAME/VERSION")
    p.add_argument("--data", required=True, help="Parquet or CSV, any Hadoop file system URL")
    p.add_argument("--out", required=True, help="Parquet dataset to write (replaced)")
    p.add_argument("--keep", action="append", default=None, help="key column (repeatable)")
    a = p.parse_args(argv)
    # lazy: pyspark and the registry only when this driver runs
    from prices_predictor.spark import executor
    from prices_predictor.spark.score import score_table
    from prices_predictor.spark.session import get_session
    from prices_predictor.spark.udf import resolve
    from prices_predictor.tracking.loading import load_directory

    s = get_settings()
    try:
        directory = resolve(a.model)
        spec = load_directory(directory).spec
        spark = get_session(None, s.home / "spark-tmp", s.kernel_cache)
        name = executor.ship(spark, Path(directory))
        res = score_table(spark, name, spec, a.data, a.out, a.keep)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for text in res.batch.warnings():
        print(f"warning: {text}", file=sys.stderr)
    print(f"priced {res.rows:,} rows -> {a.out} ({res.seconds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

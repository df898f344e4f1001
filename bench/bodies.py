"""Request bodies of N houses for each protocol and body type (path, content type, bytes)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa

JSON = "application/json"
Body = tuple[str, str, bytes]
# MLflow's server reads JSON and CSV; these are the kinds sent to both servers
BOTH = ("split", "records", "csv")


def mlflow_bodies(houses: pd.DataFrame) -> dict[str, Body]:
    """MLflow's scoring protocol on ``/invocations``."""
    records = json.loads(houses.to_json(orient="records"))
    split = json.loads(houses.to_json(orient="split", index=False))
    parquet = io.BytesIO()
    houses.to_parquet(parquet, index=False)
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(houses, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return {
        "split": ("/invocations", JSON, json.dumps({"dataframe_split": split}).encode()),
        "records": ("/invocations", JSON, json.dumps({"dataframe_records": records}).encode()),
        "csv": ("/invocations", "text/csv", houses.to_csv(index=False).encode()),
        "parquet": ("/invocations", "application/vnd.apache.parquet", parquet.getvalue()),
        "arrow": (
            "/invocations",
            "application/vnd.apache.arrow.stream",
            sink.getvalue().to_pybytes(),
        ),
    }


def v2_body(houses: pd.DataFrame, model_name: str, datatypes: dict[str, str]) -> Body:
    """Open Inference Protocol v2: one input per column, missing values as null."""
    from prices_predictor.spec.names import api_name

    inputs = []
    for column in houses.columns:
        name = api_name(str(column))
        kind = datatypes.get(name)
        if kind is None:
            continue  # a column the model does not read (v2 rejects unknown inputs)
        values = houses[column].astype(object).where(houses[column].notna(), None).tolist()
        if kind == "BYTES":
            values = ["" if v is None else str(v) for v in values]
        inputs.append({"name": name, "shape": [len(values)], "datatype": kind, "data": values})
    path = f"/v2/models/{model_name}/infer"
    return path, JSON, json.dumps({"inputs": inputs}).encode()

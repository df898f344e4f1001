"""The HTTP ceiling: FastAPI parsing the same body into the same schema (the Ames preset's
request model, as served for the Ames model), returning a constant."""

from __future__ import annotations

from fastapi import FastAPI

from prices_predictor.spec.io import preset
from prices_predictor.spec.requests import request_schema

HouseFeatures = request_schema(preset("ames")).house

app = FastAPI()


@app.post("/v1/predict")
async def predict(house: HouseFeatures) -> dict[str, float]:  # type: ignore[valid-type]
    return {"price": 1.0}

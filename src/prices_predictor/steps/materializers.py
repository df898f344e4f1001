"""ZenML materializer for the fitted PriceModel (joblib, as MLflow stores it)."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import joblib
from zenml.enums import ArtifactType
from zenml.materializers.base_materializer import BaseMaterializer

from prices_predictor.models.price_model import PriceModel

FILENAME = "price_model.joblib"


class PriceModelMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (PriceModel,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def load(self, data_type: type[Any]) -> PriceModel:
        with self.artifact_store.open(os.path.join(self.uri, FILENAME), "rb") as fh:
            model: PriceModel = joblib.load(fh)
        return model

    def save(self, data: PriceModel) -> None:
        with self.artifact_store.open(os.path.join(self.uri, FILENAME), "wb") as fh:
            joblib.dump(data, fh)

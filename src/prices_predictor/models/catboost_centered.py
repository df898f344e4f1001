"""CatBoost fitted on the centred target, so that its monotone constraints keep their level.

With ``monotone_constraints`` set, CatBoost starts its trees from zero instead of the target's
mean: on log prices (about 12) the early trees spend their budget on the level, and the
model ends biased (measured: -0.13 in log price on Ames' ten key columns, fold RMSE 0.176
against 0.118 centred). Fitting on ``y - mean(y)`` and folding the mean into the model's own
bias (``set_scale_and_bias``) removes that; predictions, SHAP values and the exported model
all include it. Imported only where CatBoost is (training, explanations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from catboost import CatBoostRegressor


class CenteredCatBoost(CatBoostRegressor):  # type: ignore[misc]
    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> CenteredCatBoost:
        target = np.asarray(y, dtype=np.float64)
        offset = float(target.mean())
        super().fit(X, target - offset, **kwargs)
        scale, bias = self.get_scale_and_bias()
        self.set_scale_and_bias(scale, float(np.ravel(bias)[0]) + offset)
        return self

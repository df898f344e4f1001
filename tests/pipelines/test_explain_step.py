"""The training's SHAP step on a holdout of any size."""

from __future__ import annotations

import pandas as pd

from prices_predictor.steps.training.explain import EXPLAIN_ROWS, explained_rows


def test_a_large_holdout_is_explained_on_the_same_sample_every_time() -> None:
    holdout = pd.DataFrame({"area": range(3 * EXPLAIN_ROWS)})
    first, again = explained_rows(holdout), explained_rows(holdout)
    assert len(first) == EXPLAIN_ROWS and first.index.is_unique
    assert first.index.equals(again.index)
    assert first.index.max() > 2 * EXPLAIN_ROWS  # drawn from the whole holdout, not its head
    small = holdout.head(600)  # Ames' holdout: every house, as before
    assert explained_rows(small).index.equals(small.index)

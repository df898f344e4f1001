"""The sales a model learns from: a file's priced rows, and the spec chosen for them.

Training, ``spec infer`` and ``features apply`` read a file the same way, so a spec inferred
by any of them reads the prices of the same rows: the protocol split's training part of the
priced rows, which training then splits again identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from prices_predictor.data.ingest import priced
from prices_predictor.data.split import training_rows
from prices_predictor.spec.choose import Chosen, choose


@dataclass(frozen=True)
class Sales:
    rows: pd.DataFrame  # the priced rows, index reset
    chosen: Chosen
    unpriced: int  # rows of the file left out: no price
    zero: int = 0  # of which a price of 0 (a transfer without a sale)

    def note(self, source: str) -> str:
        """One line for the user, empty when every row had a price."""
        if not self.unpriced:
            return ""
        total = len(self.rows) + self.unpriced
        empty = self.unpriced - self.zero
        why = "not sold, or withheld" if empty else ""
        if self.zero:
            zeros = f"{self.zero:,} of 0: a transfer without a sale"
            why = f"{empty:,} empty: {why}; {zeros}" if empty else zeros
        return (
            f"{source}: {self.unpriced:,} of {total:,} rows have no price in "
            f"'{self.chosen.spec.target.column}' ({why}); left out, {len(self.rows):,} sales "
            "remain"
        )


def sales(
    raw: pd.DataFrame,
    spec_arg: str | None,
    target: str | None,
    source: str,
    test_size: float,
    seed: int,
) -> Sales:
    """The priced rows of ``raw`` and the spec for them (``choose``'s rules). The target
    column comes from the first choice; when rows without a price are dropped, an inferred
    spec is inferred again, so its decisions read the training part of the rows that train."""
    chosen = choose(raw, spec_arg, target, source, training_rows(len(raw), test_size, seed))
    rows, empty, zero = priced(raw, chosen.spec.target.column, source)
    if empty + zero and chosen.how == "inferred":
        chosen = choose(rows, spec_arg, target, source, training_rows(len(rows), test_size, seed))
    return Sales(rows, chosen, empty + zero, zero)

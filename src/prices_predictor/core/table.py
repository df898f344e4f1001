"""A table of houses by columns, without pandas' per-frame costs (a batch request's rows).

``len(table)`` is the number of rows; ``table[name]`` a column (numpy array or Categorical);
``table[a:b]`` the rows a..b as a table. The encoder, the location effects and the pipelined
scorer take it where they take a DataFrame.
"""

from __future__ import annotations

from typing import Any, overload


class Table:
    __slots__ = ("columns", "n")

    def __init__(self, columns: dict[str, Any], n: int) -> None:
        self.columns = columns
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    @overload
    def __getitem__(self, key: str) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> Table: ...

    def __getitem__(self, key: str | slice) -> Any:
        if isinstance(key, slice):
            start, stop, _ = key.indices(self.n)
            return Table({c: v[key] for c, v in self.columns.items()}, max(0, stop - start))
        return self.columns[key]

    def get(self, name: str, default: Any = None) -> Any:
        return self.columns.get(name, default)

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Rows as dicts (for the few places that need them: logs, samples)."""
        n = self.n if limit is None else min(limit, self.n)
        lists = {c: list(v[:n]) for c, v in self.columns.items()}
        return [{c: lists[c][i] for c in lists} for i in range(n)]


class Coded:
    """A text column factorised once: ``codes`` (int64; -1 is missing) into ``levels``.

    What request bodies hand the checks and the encoder instead of a pandas Categorical:
    the same information without pandas' per-column construction costs, which dominate a
    batch of a few hundred houses.
    """

    __slots__ = ("codes", "levels")

    def __init__(self, codes: Any, levels: list[Any]) -> None:
        self.codes = codes
        self.levels = levels

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, key: Any) -> Coded:
        return Coded(self.codes[key], self.levels)

    def __iter__(self) -> Any:
        levels = self.levels
        return (None if c < 0 else levels[c] for c in self.codes.tolist())

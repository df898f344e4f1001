"""Tables for scoring blocks of rows the QuickScorer way (Lucchese et al., SIGIR 2015).

Instead of walking each tree, every tree keeps a bit per leaf, all set. A node whose test is
true for a row ("go right": value > threshold) rules out the leaves of its left subtree, so its
mask clears their bits; the row's leaf is then the lowest bit left standing. Nodes are sorted by
feature and threshold, so for a block of rows the kernel scans each feature's thresholds in
ascending order, compares them to ``LANES`` rows at once and stops at the first threshold no row
exceeds. Nodes of different trees often share a threshold (LightGBM's bins): one comparison
serves them all. Trees with more than 64 leaves (random forests) are not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from prices_predictor.models.scoring.tables import Packed

MAX_LEAVES = 64


@dataclass(frozen=True)
class QSTables:
    """What ``_jit.score_qs`` reads."""

    group_start: np.ndarray  # uint64, per feature (+1): its range of threshold groups
    group_threshold: np.ndarray  # float64: a row takes the right branch when value > this
    group_node: np.ndarray  # uint64, per group (+1): its range of nodes
    node_tree: np.ndarray  # uint32: the node's tree
    node_mask: np.ndarray  # uint32 or uint64: keeps the leaves right of the node
    leaf_start: np.ndarray  # uint64, per tree: where its leaves start in leaf_value
    leaf_value: np.ndarray  # float64, each tree's leaves from left to right


def kernel_args(p: Packed, qs: QSTables) -> tuple[Any, ...]:
    """``score_qs``'s table arguments: the linear part's, then QuickScorer's."""
    ones = np.full(1, np.iinfo(qs.node_mask.dtype).max, dtype=qs.node_mask.dtype)
    tables = (qs.group_start, qs.group_threshold, qs.group_node, qs.node_tree)
    leaves = (qs.node_mask, qs.leaf_start, qs.leaf_value, ones)
    return (*p.linear_args(), *tables, *leaves)


def exact_threshold(t: float, as32: bool) -> float:
    """The float64 ``u`` with ``x > u`` exactly when the tree goes right for value ``x``.

    A float32 tree goes right when ``float32(x) > t``: that holds from the point where x rounds
    (to nearest, ties to even) to the first float32 above t.
    """
    if not as32 or np.isinf(t):
        return float(t)
    below = np.float32(t)
    if float(below) > t:  # t is not a float32: the tree compares against the one below it
        below = np.nextafter(below, np.float32(-np.inf))
    above = np.nextafter(below, np.float32(np.inf))
    if np.isinf(above):
        return float(np.inf)
    mid = (float(below) + float(above)) / 2  # exact: float32 values are sparse in float64
    above_even = not int(np.array(above, dtype=np.float32).view(np.int32)) & 1
    return float(np.nextafter(mid, -np.inf)) if above_even else mid


def build(p: Packed) -> QSTables | None:
    """QuickScorer tables for the trees of ``p`` (None if a tree has too many leaves)."""
    first_leaf, children = p.first_leaf, p.children
    nodes: list[tuple[int, float, int, int]] = []  # feature, threshold, tree, mask
    leaf_start: list[int] = []
    leaf_value: list[float] = []
    for tree, root in enumerate(p.roots.tolist()):
        leaf_start.append(len(leaf_value))
        leaves: list[int] = []
        spans: dict[int, tuple[int, int]] = {}  # node -> (first leaf, first leaf not left of it)
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:  # in-order, iteratively: leaves get numbered left to right
            n, left_done = stack.pop()
            if n >= first_leaf:
                leaves.append(n)
            elif left_done:
                spans[n] = (spans[n][0], len(leaves))
                stack.append((int(children[n, 1]), False))
            else:
                spans[n] = (len(leaves), -1)
                stack += [(n, True), (int(children[n, 0]), False)]
        if len(leaves) > MAX_LEAVES:
            return None
        for n, (a, b) in spans.items():
            keep = ((1 << MAX_LEAVES) - 1) & ~(((1 << (b - a)) - 1) << a)
            t = exact_threshold(float(p.threshold[n]), bool(p.as32[tree]))
            nodes.append((int(p.feature[n]), t, tree, keep))
        leaf_value += p.value[leaves].tolist()
    nodes.sort(key=lambda z: (z[0], z[1]))
    feature = np.array([z[0] for z in nodes], dtype=np.int64)
    threshold = np.array([z[1] for z in nodes], dtype=np.float64)
    first = np.ones(len(nodes), dtype=bool)
    first[1:] = (feature[1:] != feature[:-1]) | (threshold[1:] != threshold[:-1])
    starts = np.flatnonzero(first)
    masks = np.array([z[3] for z in nodes], dtype=np.uint64)
    if int(np.diff([*leaf_start, len(leaf_value)]).max(initial=1)) <= 32:
        masks = (masks & np.uint64(0xFFFFFFFF)).astype(np.uint32)  # half the bits to update
    return QSTables(
        group_start=np.searchsorted(feature[starts], np.arange(p.n_features + 1)).astype(np.uint64),
        group_threshold=threshold[starts],
        group_node=np.append(starts, len(nodes)).astype(np.uint64),
        node_tree=np.array([z[2] for z in nodes], dtype=np.uint32),
        node_mask=masks,
        leaf_start=np.array(leaf_start, dtype=np.uint64),
        leaf_value=np.array(leaf_value, dtype=np.float64),
    )

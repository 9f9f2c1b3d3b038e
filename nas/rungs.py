"""Multi-fidelity promotion as MO-ASHA does it: by non-dominated rank, never by a weighted sum.

Trials of one rung (one training budget) are sorted into Pareto fronts (pymoo's
NonDominatedSorting); the first fronts go up a rung, and inside the front that does not fit whole,
trials with the larger crowding distance (the less crowded parts of the front) go first. A
weighted sum would promote only the knee its weights favour and could never reach a concave part
of the front; non-dominated rank keeps the whole trade-off alive. Optuna's pruners are
single-objective, so this is ours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from nas.domain import TrialRecord, TrialState
from nas.spec import ObjectiveSpec


def promotion_order(values: np.ndarray) -> list[int]:
    """Row indices of `values` (n x m, every column minimised), best first.

    Ordered by front rank, then by crowding distance inside a front (larger first; a front's
    end points have infinite distance), then by row index so equal rows keep a stable order.
    """
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D matrix, got shape {values.shape}")
    if len(values) == 0:
        return []
    order: list[int] = []
    for members in NonDominatedSorting().do(values):
        front = np.sort(np.asarray(members, dtype=int))
        crowding = (
            calc_crowding_distance(values[front]) if len(front) > 2 else np.full(len(front), np.inf)
        )
        # lexsort: last key first; -crowding puts the less crowded first, index breaks ties.
        ranked = front[np.lexsort((front, -crowding))]
        order.extend(int(i) for i in ranked)
    return order


def _minimised(trials: Sequence[TrialRecord], objectives: Sequence[ObjectiveSpec]) -> np.ndarray:
    signs = np.array([1.0 if o.resolved_direction == "minimize" else -1.0 for o in objectives])
    rows = [[(t.objectives or {})[o.metric] for o in objectives] for t in trials]
    return np.asarray(rows, dtype=float).reshape(len(trials), len(objectives)) * signs


def promotable(
    trials: Sequence[TrialRecord], objectives: Sequence[ObjectiveSpec]
) -> list[TrialRecord]:
    """Complete trials whose every objective is a finite number."""
    names = [o.metric for o in objectives]
    return [
        t
        for t in trials
        if t.state == TrialState.COMPLETE
        and t.objectives
        and all(name in t.objectives and np.isfinite(t.objectives[name]) for name in names)
    ]


def rank_trials(
    trials: Sequence[TrialRecord], objectives: Sequence[ObjectiveSpec]
) -> list[TrialRecord]:
    """The promotable trials, best first: feasible before infeasible, each by non-dominated rank."""
    if not objectives:
        raise ValueError("ranking trials needs at least one objective")
    ranked: list[TrialRecord] = []
    candidates = promotable(trials, objectives)
    for feasible in (True, False):
        group = [t for t in candidates if bool(t.feasible) is feasible]
        ranked.extend(group[i] for i in promotion_order(_minimised(group, objectives)))
    return ranked


def promote(
    trials: Sequence[TrialRecord],
    objectives: Sequence[ObjectiveSpec],
    *,
    eta: int | None = None,
    keep: int | None = None,
) -> list[TrialRecord]:
    """The trials that go up a rung: the top `keep`, or the top 1/eta (at least one) of them."""
    if (eta is None) == (keep is None):
        raise ValueError(f"give exactly one of eta and keep, got eta={eta!r}, keep={keep!r}")
    if eta is not None and eta < 2:
        raise ValueError(f"eta must be an integer >= 2, got {eta!r}")
    if keep is not None and keep < 0:
        raise ValueError(f"keep must be >= 0, got {keep!r}")
    ranked = rank_trials(trials, objectives)
    count = keep if keep is not None else max(1, len(ranked) // int(eta or 2))
    return ranked[:count]

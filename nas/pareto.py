"""Pareto front and hypervolume of a campaign's finished trials (pymoo does the geometry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from nas.domain import TrialRecord, TrialState
from nas.spec import ObjectiveSpec


@dataclass(frozen=True)
class FrontUpdate:
    trial_ids: list[int]
    hypervolume: float
    n_complete: int


def _minimisation_matrix(
    trials: Sequence[TrialRecord], objectives: Sequence[ObjectiveSpec]
) -> np.ndarray:
    """Objective values with 'maximize' objectives negated, so smaller is better everywhere."""
    signs = np.array([1.0 if o.resolved_direction == "minimize" else -1.0 for o in objectives])
    values = np.array(
        [[t.objectives[o.metric] for o in objectives] for t in trials if t.objectives],
        dtype=float,
    )
    return values.reshape(len(values), len(objectives)) * signs


def _reference_point(objectives: Sequence[ObjectiveSpec]) -> np.ndarray:
    return np.array(
        [
            o.resolved_reference if o.resolved_direction == "minimize" else -o.resolved_reference
            for o in objectives
        ],
        dtype=float,
    )


def front_candidates(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
    """Complete, feasible trials with finite objectives: the only ones that may be on the front."""
    return [
        t
        for t in trials
        if t.state == TrialState.COMPLETE
        and t.feasible
        and t.objectives
        and all(np.isfinite(v) for v in t.objectives.values())
    ]


def compute_front(
    trials: Sequence[TrialRecord], objectives: Sequence[ObjectiveSpec]
) -> FrontUpdate:
    """The non-dominated feasible trials and the hypervolume they dominate."""
    n_complete = sum(t.state == TrialState.COMPLETE for t in trials)
    candidates = front_candidates(trials)
    if not candidates:
        return FrontUpdate([], 0.0, n_complete)
    values = _minimisation_matrix(candidates, objectives)
    front_idx = NonDominatedSorting().do(values, only_non_dominated_front=True)
    front_idx = sorted(int(i) for i in front_idx)
    ref = _reference_point(objectives)
    inside = values[front_idx][np.all(values[front_idx] < ref, axis=1)]
    hypervolume = float(HV(ref_point=ref)(inside)) if len(inside) else 0.0
    return FrontUpdate([candidates[i].id for i in front_idx], hypervolume, n_complete)

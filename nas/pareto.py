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
    hypervolume = _hypervolume(values[front_idx], _reference_point(objectives))
    return FrontUpdate([candidates[i].id for i in front_idx], hypervolume, n_complete)


def _hypervolume(values: np.ndarray, ref: np.ndarray) -> float:
    inside = values[np.all(values < ref, axis=1)] if len(values) else values
    return float(HV(ref_point=ref)(inside)) if len(inside) else 0.0


class IncrementalFront:
    """The front kept in memory and updated one trial at a time.

    Cost per update grows with the front's size, not the campaign's: the controller's overhead
    stays flat as a campaign reaches 100k trials. Built once from the stored trials at start.
    """

    def __init__(self, objectives: Sequence[ObjectiveSpec], trials: Sequence[TrialRecord]) -> None:
        self._objectives = list(objectives)
        self._ref = _reference_point(self._objectives)
        start = compute_front(trials, self._objectives)
        by_id = {t.id: t for t in trials}
        front = [by_id[i] for i in start.trial_ids]
        self._ids: list[int] = list(start.trial_ids)
        self._values = _minimisation_matrix(front, self._objectives)
        self.n_complete = start.n_complete
        self.hypervolume = start.hypervolume

    def add(self, trial: TrialRecord) -> FrontUpdate:
        """Account for one newly finished trial; returns the front to store."""
        if trial.state == TrialState.COMPLETE:
            self.n_complete += 1
        if front_candidates([trial]):
            self._insert(trial)
        return FrontUpdate(list(self._ids), self.hypervolume, self.n_complete)

    def _insert(self, trial: TrialRecord) -> None:
        point = _minimisation_matrix([trial], self._objectives)[0]
        values = self._values
        if len(values):
            dominated_by_front = np.any(
                np.all(values <= point, axis=1) & np.any(values < point, axis=1)
            )
            if dominated_by_front:
                return
            keep = ~(np.all(point <= values, axis=1) & np.any(point < values, axis=1))
            values = values[keep]
            self._ids = [i for i, k in zip(self._ids, keep, strict=True) if k]
        self._values = np.vstack([values, point]) if len(values) else point[None, :]
        self._ids.append(trial.id)
        self.hypervolume = _hypervolume(self._values, self._ref)

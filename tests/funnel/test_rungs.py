"""MO-ASHA promotion: by non-dominated rank and crowding distance, never by a weighted sum."""

from __future__ import annotations

import numpy as np
import pytest

from nas.domain import TrialRecord, TrialState
from nas.rungs import promote, promotion_order, rank_trials
from nas.spec import ObjectiveSpec

OBJECTIVES = [ObjectiveSpec(metric="bpp"), ObjectiveSpec(metric="decode_ms_12mp")]


def _trial(i: int, bpp: float, ms: float, *, feasible: bool = True, state=TrialState.COMPLETE):
    return TrialRecord(
        id=i,
        campaign_id=1,
        number=i,
        state=state,
        config={"i": i},
        config_hash=f"h{i}",
        attempts=1,
        error=None,
        metrics={"bpp": bpp, "decode_ms_12mp": ms},
        objectives={"bpp": bpp, "decode_ms_12mp": ms},
        feasible=feasible,
    )


def test_a_weighted_sum_promotes_a_dominated_trial_where_non_dominated_rank_does_not():
    # A and B are the front's ends, C the knee; D is dominated by C but has a better
    # equal-weight sum than A or B.
    trials = [_trial(1, 0, 10), _trial(2, 10, 0), _trial(3, 3, 3), _trial(4, 4, 4)]
    by_rank = {t.id for t in promote(trials, OBJECTIVES, keep=3)}
    by_sum = {t.id for t in sorted(trials, key=lambda t: sum(t.objectives.values()))[:3]}
    assert by_rank == {1, 2, 3}
    assert 4 in by_sum and by_sum != by_rank


def test_inside_a_front_the_less_crowded_trials_go_first():
    # One front of five; 2 and 3 are close together, so one of them is the most crowded.
    values = np.array([[0, 10], [4, 5.9], [4.1, 5.8], [7, 3], [10, 0]], dtype=float)
    order = promotion_order(values)
    assert set(order[:2]) == {0, 4}  # the ends: infinite crowding distance
    assert order[2] == 3  # far from its neighbours
    assert sorted(order) == [0, 1, 2, 3, 4]


def test_top_one_over_eta_and_maximised_objectives():
    psnr_up = [ObjectiveSpec(metric="psnr"), ObjectiveSpec(metric="decode_ms_12mp")]
    trials = [
        TrialRecord(i, 1, i, TrialState.COMPLETE, {}, f"h{i}", 1, None, {}, obj, True)
        for i, obj in enumerate(
            [
                {"psnr": 30.0, "decode_ms_12mp": 100.0},
                {"psnr": 28.0, "decode_ms_12mp": 100.0},  # dominated by 0 (lower psnr)
                {"psnr": 25.0, "decode_ms_12mp": 50.0},
                {"psnr": 24.0, "decode_ms_12mp": 60.0},  # dominated by 2
                {"psnr": 20.0, "decode_ms_12mp": 200.0},  # dominated by everything
                {"psnr": 31.0, "decode_ms_12mp": 300.0},
            ]
        )
    ]
    promoted = promote(trials, psnr_up, eta=2)
    assert {t.id for t in promoted} == {0, 2, 5}


def test_failed_and_infeasible_trials_come_last_or_not_at_all():
    trials = [
        _trial(1, 0.1, 1, feasible=False),
        _trial(2, 5, 50),
        _trial(3, 0, 0, state=TrialState.FAILED),
    ]
    ranked = rank_trials(trials, OBJECTIVES)
    assert [t.id for t in ranked] == [2, 1]


@pytest.mark.parametrize("kwargs", [{}, {"eta": 3, "keep": 1}, {"eta": 1}, {"keep": -1}])
def test_bad_promotion_arguments_are_named(kwargs):
    with pytest.raises(ValueError, match="eta|keep"):
        promote([_trial(1, 0, 1)], OBJECTIVES, **kwargs)

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nas.domain import TrialRecord, TrialState
from nas.pareto import IncrementalFront, compute_front
from nas.selection import best_for_budget
from nas.spec import ObjectiveSpec

OBJECTIVES = [
    ObjectiveSpec(metric="quality_ratio_vs_jpeg", reference=2.0),
    ObjectiveSpec(metric="decode_ms_12mp", reference=1000.0),
]


def _trial(i, ratio, ms, state=TrialState.COMPLETE, feasible=True):
    metrics = {"quality_ratio_vs_jpeg": ratio, "decode_ms_12mp": ms}
    return TrialRecord(
        id=100 + i,
        campaign_id=1,
        number=i,
        state=state,
        config={"i": i},
        config_hash=str(i),
        attempts=1,
        error=None,
        metrics=metrics if state == TrialState.COMPLETE else {},
        objectives=metrics if state == TrialState.COMPLETE else None,
        feasible=feasible if state == TrialState.COMPLETE else None,
    )


def test_front_keeps_non_dominated_feasible_trials():
    trials = [
        _trial(0, 1.0, 500),
        _trial(1, 0.8, 800),
        _trial(2, 1.2, 600),  # dominated by 0
        _trial(3, 0.5, 100, feasible=False),  # would dominate everything, but infeasible
        _trial(4, 0.0, 0, state=TrialState.FAILED),
        _trial(5, 1.5, 200),
    ]
    update = compute_front(trials, OBJECTIVES)
    assert sorted(update.trial_ids) == [100, 101, 105]
    assert update.n_complete == 5
    # Hypervolume of the staircase {(1.0,500),(0.8,800),(1.5,200)} to reference (2, 1000).
    expected = 0.5 * 800 + (1.5 - 1.0) * 500 + (1.0 - 0.8) * 200
    assert update.hypervolume == pytest.approx(expected)


def test_points_beyond_the_reference_add_no_volume():
    update = compute_front([_trial(0, 3.0, 50)], OBJECTIVES)
    assert update.trial_ids == [100]
    assert update.hypervolume == 0.0


def test_maximised_objectives_are_handled():
    objectives = [
        ObjectiveSpec(metric="psnr", reference=20.0),
        ObjectiveSpec(metric="decode_ms_12mp", reference=1000.0),
    ]
    a = _trial(0, 0, 100)
    b = _trial(1, 0, 200)
    a = a.__class__(**{**a.__dict__, "objectives": {"psnr": 30.0, "decode_ms_12mp": 100.0}})
    b = b.__class__(**{**b.__dict__, "objectives": {"psnr": 25.0, "decode_ms_12mp": 200.0}})
    update = compute_front([a, b], objectives)
    assert update.trial_ids == [100]
    assert update.hypervolume == pytest.approx(10.0 * 900.0)


def test_empty_front():
    update = compute_front([_trial(0, 0, 0, state=TrialState.FAILED)], OBJECTIVES)
    assert update.trial_ids == [] and update.hypervolume == 0.0


def test_best_for_budget_picks_best_quality_within_budget():
    trials = [_trial(0, 1.0, 500), _trial(1, 0.8, 800), _trial(2, 1.5, 200)]
    choice = best_for_budget(trials, 600)
    assert choice.fits and choice.trial.number == 0
    choice = best_for_budget(trials, 10_000)
    assert choice.fits and choice.trial.number == 1


def test_best_for_budget_names_the_closest_when_nothing_fits():
    trials = [_trial(0, 1.0, 500), _trial(2, 1.5, 200)]
    choice = best_for_budget(trials, 150)
    assert not choice.fits and choice.trial.number == 2
    assert "no trial meets decode_ms_12mp <= 150" in choice.message
    assert "closest is trial 2" in choice.message
    empty = best_for_budget([], 150)
    assert empty.trial is None and "no complete trial" in empty.message


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.1, 3.0), st.floats(1.0, 1500.0), st.booleans(), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 10),
)
def test_incremental_front_equals_full_recomputation(points, split):
    trials = [
        _trial(
            i,
            round(r, 2),
            round(ms),
            state=TrialState.COMPLETE if ok else TrialState.FAILED,
            feasible=feasible,
        )
        for i, (r, ms, ok, feasible) in enumerate(points)
    ]
    split = min(split, len(trials))
    front = IncrementalFront(OBJECTIVES, trials[:split])  # as after a resume
    for t in trials[split:]:
        update = front.add(t)
    expected = compute_front(trials, OBJECTIVES)
    if split < len(trials):
        assert sorted(update.trial_ids) == sorted(expected.trial_ids)
        assert update.hypervolume == pytest.approx(expected.hypervolume)
        assert update.n_complete == expected.n_complete

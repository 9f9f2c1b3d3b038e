"""Storage contract of funnel campaigns (SQLite, and Postgres when a server URL is set)."""

from __future__ import annotations

import pytest

from nas.errors import InvalidValueError, NotFoundError
from nas.funnel.domain import FunnelCandidate, FunnelStageRecord


def _stage(stage: str, position: int, n_in: int, n_out: int, **details) -> FunnelStageRecord:
    return FunnelStageRecord(stage, position, n_in, n_out, 1.5, details)


def _candidate(i: int, stage: str = "predict", **values) -> FunnelCandidate:
    return FunnelCandidate(f"hash-{i}", {"channels": 16 + i}, stage, values)


def test_stages_are_stored_in_funnel_order_with_their_counts(store, campaign):
    store.record_funnel_stage(campaign.id, _stage("predict", 1, 500, 3, band=[1.0, 2.0]))
    store.record_funnel_stage(campaign.id, _stage("screen", 0, 1_000_000, 500))
    stages = store.funnel_stages(campaign.id)
    assert [(s.stage, s.n_in, s.n_out) for s in stages] == [
        ("screen", 1_000_000, 500),
        ("predict", 500, 3),
    ]
    assert stages[1].details == {"band": [1.0, 2.0]}
    assert stages[0].finished_at is not None


def test_a_stage_and_its_candidates_are_stored_together_and_a_rerun_replaces_the_row(
    store, campaign
):
    store.record_funnel_stage(
        campaign.id, _stage("predict", 1, 10, 2), [_candidate(1), _candidate(2)]
    )
    store.record_funnel_stage(campaign.id, _stage("predict", 1, 10, 3), [_candidate(3)])
    assert [s.n_out for s in store.funnel_stages(campaign.id)] == [3]
    assert [c.config_hash for c in store.funnel_candidates(campaign.id)] == [
        "hash-1",
        "hash-2",
        "hash-3",
    ]


def test_a_later_stage_moves_candidates_on_and_merges_their_values(store, campaign):
    trial = store.create_trial(campaign.id, {"channels": 17}, "hash-1", rung=0)
    store.store_funnel_candidates(
        campaign.id, [_candidate(1, predicted_ms=10.0), _candidate(2, predicted_ms=20.0)]
    )
    moved = FunnelCandidate("hash-1", {"channels": 17}, "measure", {"measured_ms": 11.0}, trial.id)
    store.store_funnel_candidates(campaign.id, [moved])
    # A later move without a trial keeps the one stored.
    store.store_funnel_candidates(
        campaign.id, [FunnelCandidate("hash-1", {"channels": 17}, "proxy", {"proxy_bpp": 0.5})]
    )
    by_hash = {c.config_hash: c for c in store.funnel_candidates(campaign.id)}
    assert by_hash["hash-1"].stage_reached == "proxy"
    assert by_hash["hash-1"].values == {"predicted_ms": 10.0, "measured_ms": 11.0, "proxy_bpp": 0.5}
    assert by_hash["hash-1"].trial_id == trial.id
    assert by_hash["hash-2"].stage_reached == "predict"
    assert [c.config_hash for c in store.funnel_candidates(campaign.id, ["proxy", "full"])] == [
        "hash-1"
    ]


def test_many_candidates_in_one_batch(store, campaign):
    batch = [_candidate(i, predicted_ms=float(i)) for i in range(3000)]
    store.record_funnel_stage(campaign.id, _stage("predict", 1, 5000, 3000), batch)
    assert len(store.funnel_candidates(campaign.id, ["predict"])) == 3000


@pytest.mark.parametrize(
    "record, message",
    [
        (_stage("predict", 1, 5, 6), r"'predict' cannot let out more configs \(6\)"),
        (_stage("predict", -1, 5, 1), r"position of stage 'predict' must be .* got -1"),
        (FunnelStageRecord("predict", 1, 5, 1, float("nan"), {}), r"seconds of stage 'predict'"),
        (_stage("", 1, 5, 1), r"funnel stage must be a non-empty string"),
    ],
)
def test_bad_stage_rows_are_refused_naming_the_value(store, campaign, record, message):
    with pytest.raises(InvalidValueError, match=message):
        store.record_funnel_stage(campaign.id, record)
    assert store.funnel_stages(campaign.id) == []


def test_bad_candidates_are_refused_and_nothing_is_half_written(store, campaign):
    bad = FunnelCandidate("hash-2", {"channels": 18}, "predict", {"predicted_ms": float("inf")})
    with pytest.raises(InvalidValueError, match="values of hash-2"):
        store.record_funnel_stage(campaign.id, _stage("predict", 1, 5, 2), [_candidate(1), bad])
    with pytest.raises(InvalidValueError, match="given twice"):
        store.store_funnel_candidates(campaign.id, [_candidate(1), _candidate(1)])
    assert store.funnel_candidates(campaign.id) == []
    assert store.funnel_stages(campaign.id) == []


def test_unknown_campaign(store):
    with pytest.raises(NotFoundError, match="campaign 999"):
        store.funnel_stages(999)
    with pytest.raises(NotFoundError, match="campaign 999"):
        store.record_funnel_stage(999, _stage("screen", 0, 1, 1))

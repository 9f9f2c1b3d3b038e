from __future__ import annotations

import math

import pytest

from nas.domain import ArtifactPayload, CampaignRecord, Measurement, TrialRecord, TrialState
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.storage import CampaignStore

DECODER_CPU = Measurement(
    device="x86-2core",
    backend="onnxruntime",
    part="decoder",
    precision="fp32",
    tile=512,
    warmup=2,
    runs=10,
    p50_ms=41.5,
    p90_ms=44.25,
    estimate_12mp_ms=2241.0,
    cold_ms=120.5,
)
ENCODER_CPU = Measurement("x86-2core", "onnxruntime", "encoder", "fp32", 512, 2, 10, 50, 52, 2700)


def complete(store: CampaignStore, trial_id: int, **overrides: object) -> TrialRecord:
    fields: dict[str, object] = {
        "metrics": {"bpp": 0.412, "psnr": 31.25, "ms_ssim": 0.9712},
        "per_image": {"kodim01.png": {"bpp": 0.5, "psnr": 29.5}, "kodim02.png": {"bpp": 0.3}},
        "measurements": [DECODER_CPU, ENCODER_CPU],
        "artifacts": [
            ArtifactPayload("checkpoint", "model.pt", b"\x00weights" * 100),
            ArtifactPayload("onnx_decoder", "decoder.onnx", b"onnx-graph"),
        ],
        "objectives": {"bd_rate": -0.05, "decoder_ms": 2241.0},
        "feasible": True,
        "worker": "worker-b",
    }
    fields.update(overrides)
    return store.complete_trial(trial_id, **fields)  # type: ignore[arg-type]


def test_trials_are_numbered_per_campaign_from_zero(store: CampaignStore) -> None:
    a = store.create_campaign("a", {})
    b = store.create_campaign("b", {})
    numbers_a = [store.create_trial(a.id, {"i": i}, f"h{i}").number for i in range(3)]
    numbers_b = [store.create_trial(b.id, {"i": i}, f"h{i}").number for i in range(2)]
    assert numbers_a == [0, 1, 2] and numbers_b == [0, 1]
    listed = store.trials(a.id)
    assert [t.number for t in listed] == [0, 1, 2]
    assert all(t.state is TrialState.PENDING and t.attempts == 0 for t in listed)
    assert listed[1].config == {"i": 1} and listed[1].config_hash == "h1"


def test_start_then_complete_round_trips_every_field(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    created = store.create_trial(campaign.id, {"channels": 64}, "hash-64", {"generation": 2})
    started = store.start_trial(created.id, worker="worker-a")
    assert started.state is TrialState.RUNNING and started.attempts == 1
    assert started.worker == "worker-a"

    done = complete(store, created.id)

    assert done.state is TrialState.COMPLETE and done.attempts == 1 and done.error is None
    assert done.metrics == {"bpp": 0.412, "psnr": 31.25, "ms_ssim": 0.9712}
    assert done.objectives == {"bd_rate": -0.05, "decoder_ms": 2241.0}
    assert done.feasible is True and done.worker == "worker-b"
    assert store.trial(created.id) == done
    assert store.per_image_metrics(created.id) == {
        "kodim01.png": {"bpp": 0.5, "psnr": 29.5},
        "kodim02.png": {"bpp": 0.3},
    }
    assert store.measurements(created.id) == [DECODER_CPU, ENCODER_CPU]
    assert [(a.kind, a.filename, a.size) for a in store.artifacts(created.id)] == [
        ("checkpoint", "model.pt", 800),
        ("onnx_decoder", "decoder.onnx", 10),
    ]
    assert store.sampler_state(created.id) == {"generation": 2}
    assert store.count_trials(campaign.id) == {
        TrialState.PENDING: 0,
        TrialState.RUNNING: 0,
        TrialState.COMPLETE: 1,
        TrialState.FAILED: 0,
    }


def test_completing_twice_is_refused_and_changes_nothing(
    store: CampaignStore, running_trial: TrialRecord
) -> None:
    first = complete(store, running_trial.id)
    with pytest.raises(StateConflictError, match=r"cannot complete trial \d+ .*it is complete"):
        complete(store, running_trial.id, metrics={"bpp": 9.0}, objectives={"bd_rate": 1.0})
    assert store.trial(running_trial.id) == first
    assert len(store.measurements(running_trial.id)) == 2
    assert len(store.artifacts(running_trial.id)) == 2


def test_fail_keeps_the_error_and_is_final(
    store: CampaignStore, running_trial: TrialRecord
) -> None:
    failed = store.fail_trial(running_trial.id, "RuntimeError: NaN loss at step 120", "w-9")
    assert failed.state is TrialState.FAILED and failed.worker == "w-9"
    assert store.trial(running_trial.id).error == "RuntimeError: NaN loss at step 120"
    with pytest.raises(StateConflictError, match="it is failed"):
        store.fail_trial(running_trial.id, "again")
    with pytest.raises(StateConflictError, match="it is failed"):
        complete(store, running_trial.id)
    assert store.trials(running_trial.campaign_id, TrialState.FAILED) == [failed]


def test_start_is_refused_unless_pending(store: CampaignStore, running_trial: TrialRecord) -> None:
    with pytest.raises(StateConflictError, match="it is running on worker 'worker-a'"):
        store.start_trial(running_trial.id, worker="worker-b")
    complete(store, running_trial.id)
    with pytest.raises(StateConflictError, match="cannot start trial .*it is complete"):
        store.start_trial(running_trial.id)
    assert store.trial(running_trial.id).attempts == 1
    with pytest.raises(NotFoundError, match="trial 999 not found"):
        store.start_trial(999)


def test_requeue_returns_running_trials_to_pending_keeping_attempts(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    ids = [store.create_trial(campaign.id, {"i": i}, f"h{i}").id for i in range(4)]
    store.start_trial(ids[0], "w")
    store.start_trial(ids[1], "w")
    complete(store, ids[1])
    store.start_trial(ids[2], "w")  # running when the controller "crashed"

    pending = store.requeue_unfinished(campaign.id)

    assert [t.id for t in pending] == [ids[0], ids[2], ids[3]]
    assert [t.attempts for t in pending] == [1, 1, 0]
    assert store.trial(ids[1]).state is TrialState.COMPLETE
    restarted = store.start_trial(ids[0], "w2")
    assert restarted.attempts == 2 and restarted.worker == "w2"


def test_non_finite_values_are_rejected_by_name_before_anything_is_written(
    store: CampaignStore, running_trial: TrialRecord
) -> None:
    with pytest.raises(InvalidValueError, match="metric 'psnr' is nan"):
        complete(store, running_trial.id, metrics={"psnr": math.nan})
    with pytest.raises(InvalidValueError, match="objective 'decoder_ms' is inf"):
        complete(store, running_trial.id, objectives={"decoder_ms": math.inf})
    with pytest.raises(InvalidValueError, match="metric of image 'kodim01.png' 'psnr' is nan"):
        complete(store, running_trial.id, per_image={"kodim01.png": {"psnr": math.nan}})
    with pytest.raises(InvalidValueError, match="measurement 0 p50_ms is nan"):
        bad = Measurement("cpu", "onnxruntime", "decoder", "fp32", 512, 1, 1, math.nan, 1, 1)
        complete(store, running_trial.id, measurements=[bad])
    assert store.trial(running_trial.id).state is TrialState.RUNNING
    assert store.artifacts(running_trial.id) == []
    assert not any(p.is_file() for p in store.artifact_root.rglob("*"))


def test_queries_on_unknown_trials_name_the_trial(store: CampaignStore) -> None:
    for query in (
        store.trial,
        store.per_image_metrics,
        store.measurements,
        store.artifacts,
        store.sampler_state,
    ):
        with pytest.raises(NotFoundError, match="trial 31337 not found"):
            query(31337)


def test_trials_by_config_hash(store: CampaignStore, campaign: CampaignRecord) -> None:
    other = store.create_campaign("other", {})
    mine = store.create_trial(campaign.id, {"c": 1}, "same")
    theirs = store.create_trial(other.id, {"c": 1}, "same")
    store.create_trial(campaign.id, {"c": 2}, "different")
    assert [t.id for t in store.trials_by_config_hash("same")] == [mine.id, theirs.id]
    assert [t.id for t in store.trials_by_config_hash("same", campaign.id)] == [mine.id]
